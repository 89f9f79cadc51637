from django.contrib import admin
from django.urls import include, path

from broadcast.views import home
from onair import views
from onair.health import healthz

urlpatterns = [
    path("", home, name="home"),
    path("rules/", views.rules, name="rules"),
    path("privacy/", views.privacy, name="privacy"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("broadcast.urls")),
]

handler403 = "onair.views.error_403"
handler404 = "onair.views.error_404"
handler500 = "onair.views.error_500"
