"""ASGI entry point of the X emulator: its own process, X's paths at its root.

Development and tests only: it refuses to start when real X is configured.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onair.settings")
os.environ["ONAIR_URLCONF"] = "xemulator.urls"

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

application = get_asgi_application()

if not settings.XEMULATOR_ENABLED:
    raise ImproperlyConfigured("The X emulator is off: X_CLIENT_ID is set, real X is used.")
