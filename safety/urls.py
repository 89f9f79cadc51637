from django.urls import path

from safety import notice_views, views

app_name = "safety"

urlpatterns = [
    path("api/reports", views.report, name="report"),
    path("safety/notices/", notice_views.notices, name="notices"),
    path("safety/notices/<int:notice_id>/appeal/", notice_views.appeal, name="appeal"),
]
