from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("x/birth-date/", views.confirm_age, name="confirm_age"),
    path("x/refused/", views.refused, name="refused"),
    path("x/denied/", views.consent_denied, name="consent_denied"),
    path("x/reconnect/", views.reconnect_x, name="reconnect_x"),
    path("profile/", views.profile, name="profile"),
]
