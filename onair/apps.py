from django.apps import AppConfig


class OnAirConfig(AppConfig):
    """The project package as an app, so its deploy checks (onair/checks.py) register."""

    name = "onair"
    verbose_name = "OnAir"

    def ready(self):
        from onair import checks  # noqa: F401  (registers the deploy checks)
