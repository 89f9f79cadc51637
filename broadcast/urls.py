from django.urls import path

from broadcast import views

app_name = "broadcast"

urlpatterns = [
    path("b/<str:slug>/", views.watch, name="watch"),
]
