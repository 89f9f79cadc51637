from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class XemulatorConfig(AppConfig):
    name = "xemulator"
    verbose_name = _("X emulator")

    def ready(self):
        from xemulator import checks  # noqa: F401  (registers the deploy check)
