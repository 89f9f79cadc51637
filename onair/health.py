"""/healthz: is each service this process depends on reachable right now?"""

import asyncio
import time
import uuid

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from onair.celery import app as celery_app
from onair.tasks import BEAT_HEARTBEAT_KEY

CHECK_TIMEOUT = 2.0


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def check_channel_layer():
    layer = get_channel_layer()
    backend = type(layer).__name__
    if settings.REDIS_URL:
        # A PING, not a round trip: the pub/sub layer keeps a subscription for every new
        # channel, so a probe every few seconds would leak them.
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT
        )
        try:
            return {"ok": bool(client.ping()), "backend": backend}
        finally:
            client.close()

    async def round_trip():
        channel = await layer.new_channel("healthz.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "healthz", "token": token})
        message = await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT)
        return message.get("token") == token

    return {"ok": async_to_sync(round_trip)(), "backend": backend}


def check_broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT)
        transport = conn.transport_cls
    return {"ok": True, "transport": str(transport)}


def beat_status():
    last = cache.get(BEAT_HEARTBEAT_KEY)
    return {"last_heartbeat_age_s": None if last is None else round(time.time() - last, 1)}


CHECKS = {"database": check_database, "channel_layer": check_channel_layer, "broker": check_broker}


@never_cache
@require_GET
def healthz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # any failure is a "down", reported by class name only
            results[name] = {"ok": False, "error": type(exc).__name__}
    healthy = all(r["ok"] for r in results.values())
    try:
        results["beat"] = beat_status()
    except Exception as exc:
        results["beat"] = {"error": type(exc).__name__}
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
