"""Tasks are sent to a real worker process, never run eagerly, in both broker modes."""

import json
import os
import subprocess
import sys

import pytest
from celery import Celery

from tests.conftest import ROOT, CeleryWorker

pytestmark = pytest.mark.django_db(transaction=True)


def round_trip(broker_url, backend_url):
    client = Celery("onair-test", broker=broker_url, backend=backend_url)
    client.conf.broker_connection_retry_on_startup = True
    try:
        result = client.send_task("onair.tasks.ping", args=["hello"])
        return result.get(timeout=60)
    finally:
        client.close()


def test_task_runs_on_a_real_worker_with_the_embedded_broker(tmp_path):
    broker = f"sqlite-broker+sqlite:///{tmp_path / 'broker.sqlite3'}"
    backend = f"db+sqlite:///{tmp_path / 'results.sqlite3'}"
    worker = CeleryWorker(tmp_path, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend)
    # The client runs in its own process: kombu's SQL transport keeps module-level state
    # that would otherwise leak into this test process's own Celery app.
    script = (
        "import json, os, sys; import onair.broker; "
        "from tests.test_celery import round_trip; "
        "reply = round_trip(sys.argv[1], sys.argv[2]); "
        "reply['client_pid'] = os.getpid(); print(json.dumps(reply))"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", script, broker, backend],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        worker.stop()
    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["payload"] == "hello"
    assert reply["pid"] not in (os.getpid(), reply["client_pid"])


def test_task_runs_on_a_real_worker_with_the_redis_broker(tmp_path, redis_url):
    worker = CeleryWorker(tmp_path, CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url)
    try:
        reply = round_trip(redis_url, redis_url)
    finally:
        worker.stop()
    assert reply["payload"] == "hello"
    assert reply["pid"] != os.getpid()
