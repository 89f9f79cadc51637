"""The Celery app: Redis broker when REDIS_URL is set, otherwise SQLite through kombu's
SQLAlchemy transport, so `make run` needs no broker server yet runs a real worker."""

import os

from celery import Celery

from onair import broker  # noqa: F401  (registers the embedded broker transport)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onair.settings")

app = Celery("onair")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["onair", "accounts", "broadcast", "chat", "safety", "xemulator"])
