"""`make run` exactly as a fresh machine starts it: SQLite, in-process layer, embedded
broker, with web, worker and beat as separate processes."""

import json
import os
import urllib.request

import pytest

from tests.conftest import Process, free_port
from tests.support import wait_for

pytestmark = pytest.mark.slow


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except OSError:
        return None, b""


def test_make_run_serves_home_page_with_worker_and_beat(tmp_path):
    port, x_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env = {k: v for k, v in env.items() if not k.startswith(("CELERY_", "DJANGO_"))}
    env.update(
        {
            "ONAIR_VAR_DIR": str(tmp_path / "var"),
            "WEB_PORT": str(port),
            "X_EMULATOR_PORT": str(x_port),
        }
    )
    run = Process(["make", "run"], env, tmp_path / "make-run.log")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: fetch(f"{base}/healthz")[0] == 200 or not run.alive(),
            timeout=180,
            what="make run to serve /healthz",
        )
        assert run.alive(), run.output()
        status, body = fetch(f"{base}/")
        assert status == 200
        assert b"OnAir" in body

        def beat_reached_worker():
            status, body = fetch(f"{base}/healthz")
            return status == 200 and json.loads(body)["checks"]["beat"]["last_heartbeat_age_s"]

        # Beat sends a heartbeat task, the worker runs it and writes the shared cache.
        wait_for(beat_reached_worker, timeout=60, what="a beat heartbeat run by the worker")
        health = json.loads(fetch(f"{base}/healthz")[1])
        assert health["checks"]["database"]["vendor"] == "sqlite"
        assert health["checks"]["channel_layer"]["backend"] == "InMemoryChannelLayer"
        assert health["checks"]["broker"]["transport"] == "sqlite-broker"
        output = run.output()
        for name in ("web.1", "worker.1", "beat.1", "xemulator.1"):
            assert name in output
        wait_for(
            lambda: fetch(f"http://127.0.0.1:{x_port}/healthz")[0] == 200,
            timeout=30,
            what="the X emulator process",
        )
        assert f"http://127.0.0.1:{port}/" in output
    finally:
        run.stop(timeout=20)
