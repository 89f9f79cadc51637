"""Tasks are sent to a real worker process, never run eagerly, in both broker modes."""

import os

import pytest
from celery import Celery

from tests.conftest import CeleryWorker

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
    import onair.broker  # noqa: F401  (the client needs the transport alias too)

    worker = CeleryWorker(tmp_path, CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=backend)
    try:
        reply = round_trip(broker, backend)
    finally:
        worker.stop()
    assert reply["payload"] == "hello"
    assert reply["pid"] != os.getpid()


def test_task_runs_on_a_real_worker_with_the_redis_broker(tmp_path, redis_url):
    worker = CeleryWorker(tmp_path, CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url)
    try:
        reply = round_trip(redis_url, redis_url)
    finally:
        worker.stop()
    assert reply["payload"] == "hello"
    assert reply["pid"] != os.getpid()
