"""The X emulator's URLconf: X's own paths (OAuth under X_AUTH_BASE, API under X_API_BASE).
Filled in by the X issue."""

from django.urls import path

from onair.health import healthz

urlpatterns = [
    path("healthz", healthz),
]
