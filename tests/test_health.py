import json
import urllib.error
import urllib.request

import pytest

from tests.conftest import DaphneServer

pytestmark = pytest.mark.django_db(transaction=True)


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_healthz_reports_every_service_up(live_server_process):
    status, body = get_json(f"{live_server_process.url}/healthz")
    assert status == 200
    assert body["status"] == "ok"
    assert {"database", "channel_layer", "broker"} <= body["checks"].keys()
    assert all(body["checks"][name]["ok"] for name in ("database", "channel_layer", "broker"))


def test_healthz_is_503_when_redis_is_unreachable(tmp_path):
    # Nothing listens on port 1: the channel layer and the broker are really down.
    server = DaphneServer(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:1/0",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
    )
    try:
        status, body = get_json(f"{server.url}/healthz")
    finally:
        server.stop()
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is False
    assert body["checks"]["broker"]["ok"] is False
    assert "Traceback" not in json.dumps(body)


def test_healthz_reports_the_configured_backends(live_server_process):
    """CI sets DATABASE_URL and REDIS_URL: prove the server really runs on them."""
    import os

    _, body = get_json(f"{live_server_process.url}/healthz")
    database_url = os.environ.get("DATABASE_URL", "")
    expected_vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
    assert body["checks"]["database"]["vendor"] == expected_vendor
    expected_layer = (
        "RedisPubSubChannelLayer" if os.environ.get("REDIS_URL") else "InMemoryChannelLayer"
    )
    assert body["checks"]["channel_layer"]["backend"] == expected_layer
