"""The X emulator's URLconf: X's own paths at the root of its own process (OAuth under
X_AUTH_BASE, API under X_API_BASE, both pointing here), its control API under
/_emulator/, and pages for people. Never included by the main app's URLconf."""

from django.urls import path, re_path

from onair.health import healthz
from xemulator import api, control_api, views

USERNAME = r"(?P<username>[A-Za-z0-9_]{1,15})"

urlpatterns = [
    path("healthz", healthz),
    # X's protocol
    path("i/oauth2/authorize", views.authorize, name="xemulator_authorize"),
    path("2/oauth2/token", api.token),
    path("2/users/me", api.users_me),
    path("2/users/<str:user_id>/tweets", api.user_tweets),
    path("2/tweets", api.create_tweet),
    path("2/tweets/<str:post_id>", api.delete_tweet),
    # control API
    path("_emulator/faults", control_api.faults),
    path("_emulator/users", control_api.users),
    path("_emulator/tokens", control_api.tokens),
    path("_emulator/users/<str:user_id>/revoke", control_api.revoke),
    path("_emulator/users/<str:user_id>/tweets", control_api.user_posts),
    path("_emulator/reset", control_api.reset),
    path("_emulator/avatars/<str:user_id>.svg", views.avatar, name="xemulator_avatar"),
    # pages for people
    path("", views.index, name="xemulator_index"),
    re_path(rf"^{USERNAME}$", views.timeline, name="xemulator_timeline"),
    re_path(
        rf"^{USERNAME}/status/(?P<post_id>[0-9]{{1,19}})$", views.status, name="xemulator_status"
    ),
]
