"""Project-wide background tasks: liveness signals for /healthz."""

import os
import socket
import time

from celery import shared_task
from django.core.cache import cache

BEAT_HEARTBEAT_KEY = "onair:beat:last"


@shared_task(name="onair.tasks.ping")
def ping(payload):
    """Echo back with the worker's identity, to prove a real worker ran the task."""
    return {"payload": payload, "pid": os.getpid(), "host": socket.gethostname()}


@shared_task(name="onair.tasks.beat_heartbeat")
def beat_heartbeat():
    """Sent by beat, run by a worker: its timestamp shows both are alive."""
    now = time.time()
    cache.set(BEAT_HEARTBEAT_KEY, now, timeout=None)
    return now
