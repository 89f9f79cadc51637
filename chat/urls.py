from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("b/<str:slug>/chat/", views.popout, name="popout"),
]
