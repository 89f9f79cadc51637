from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from broadcast import posting_views
from broadcast.listing_views import home
from onair import views
from onair.health import healthz

urlpatterns = [
    path("", home, name="home"),
    path("rules/", views.rules, name="rules"),
    path("privacy/", views.privacy, name="privacy"),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # X is the only sign-in: our pages shadow allauth's local login and sign-up.
    path("accounts/login/", accounts_views.sign_in, name="account_login"),
    path("accounts/signup/", accounts_views.local_signup_closed, name="account_signup"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/broadcasts/<str:slug>/x-post", posting_views.x_post_status, name="x_post_status"),
    path("", include("chat.urls")),
    path("", include("broadcast.urls")),
    path("", include("safety.urls")),
]

handler403 = "onair.views.error_403"
handler404 = "onair.views.error_404"
handler500 = "onair.views.error_500"
