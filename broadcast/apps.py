from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BroadcastConfig(AppConfig):
    name = "broadcast"
    verbose_name = _("Broadcast")

    def ready(self):
        # Registers the relay's periodic task (tasks.py holds the X posting jobs).
        from broadcast import sweeps  # noqa: F401
