"""A deploy check: production must talk to real X, never to the bundled emulator."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def emulator_off_in_production(app_configs, **kwargs):
    if settings.XEMULATOR_ENABLED and not settings.DEBUG:
        return [
            Warning(
                "The X emulator is on with DEBUG off: sign-in and posts would go to the "
                "emulator, not to X.",
                hint="Set X_CLIENT_ID and X_CLIENT_SECRET (the emulator turns itself off).",
                id="xemulator.W001",
            )
        ]
    return []
