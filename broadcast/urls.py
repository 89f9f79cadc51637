from django.urls import path

from broadcast import listing_views, thumbnail_views, views

app_name = "broadcast"

urlpatterns = [
    path("live/", views.go_live, name="go_live"),
    path("b/<str:slug>/", views.watch, name="watch"),
    path("b/<str:slug>/end", views.end, name="end"),
    path("b/<str:slug>/thumbnail.jpg", thumbnail_views.thumbnail, name="thumbnail"),
    path("api/broadcasts/<str:slug>", views.broadcast_api, name="api"),
    path("api/live", listing_views.live_api, name="live_api"),
    path("u/<str:handle>/", listing_views.broadcaster, name="broadcaster"),
]
