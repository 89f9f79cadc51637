"""Shared fixtures: real services, real server processes, real browser.

Tests run on SQLite + the in-process layer by default, and on PostgreSQL + Redis when
DATABASE_URL / REDIS_URL are set (as CI does). Under CI=true a test that needs a
service fails when it is missing, instead of skipping.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.support import CHROMIUM, CHROMIUM_ARGS, wait_for

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "test-output"
# Playwright's sync API runs an event loop in this thread; Django's ORM in fixtures and
# tests is still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition, what):
    """Skip locally, fail in CI: CI must never pass by skipping what it was meant to run."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not available")
    pytest.skip(f"{what} not available")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def test_database_url():
    """The URL of the database pytest-django created, for server and worker processes."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


# One X emulator port per test session; every child process is pointed at it.
X_EMULATOR_PORT = free_port()
settings.X_EMULATOR_PORT = X_EMULATOR_PORT
settings.X_AUTH_BASE = settings.X_API_BASE = f"http://127.0.0.1:{X_EMULATOR_PORT}"


def service_env(**extra):
    """Environment for a child process that shares this test session's database,
    broker and Redis, with production-like settings (DEBUG off)."""
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": test_database_url(),
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "STATIC_MANIFEST": "0",
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_RESULT_BACKEND": settings.CELERY_RESULT_BACKEND,
            "ONAIR_VAR_DIR": str(settings.VAR_DIR),
            "X_EMULATOR_PORT": str(X_EMULATOR_PORT),
            "X_AUTH_BASE": f"http://127.0.0.1:{X_EMULATOR_PORT}",
            "X_API_BASE": f"http://127.0.0.1:{X_EMULATOR_PORT}",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Process:
    """A child process with its output in a log file, stopped as a process group."""

    def __init__(self, args, env, log_path, cwd=ROOT):
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self):
        self.log.flush()
        return Path(self.log_path).read_text(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout=10):
        if self.alive():
            self.kill(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


class DaphneServer:
    def __init__(self, tmp_dir, name="web", app="onair.asgi:application", port=None, **env):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.process = Process(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), app],
            service_env(PUBLIC_URL=self.url, **env),
            Path(tmp_dir) / f"{name}.log",
        )
        wait_for(
            lambda: port_open(self.port) or not self.process.alive(),
            timeout=30,
            what="daphne to listen",
        )
        if not self.process.alive():
            raise RuntimeError(f"daphne exited:\n{self.process.output()}")

    def stop(self):
        self.process.stop()


class CeleryWorker:
    def __init__(self, tmp_dir, name="worker", **env):
        self.process = Process(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "onair",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "1",
                "--pool",
                "prefork",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"{name}-{os.getpid()}@%h",
            ],
            service_env(**env),
            Path(tmp_dir) / f"{name}.log",
        )
        wait_for(
            lambda: "ready." in self.process.output() or not self.process.alive(),
            timeout=60,
            what="celery worker to be ready",
        )
        if not self.process.alive():
            raise RuntimeError(f"celery worker exited:\n{self.process.output()}")

    def stop(self):
        self.process.stop()


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("REDIS_URL")
    require(url, "Redis (REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require(False, f"Redis at {url} ({exc})")
    return url


@pytest.fixture(scope="session")
def x_emulator_process(django_db_setup, tmp_path_factory):
    """The X emulator in its own Daphne process, on the test database, at X's paths."""
    server = DaphneServer(
        tmp_path_factory.mktemp("xemulator"),
        name="xemulator",
        app="xemulator.asgi:application",
        port=X_EMULATOR_PORT,
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_server_process(django_db_setup, x_emulator_process, tmp_path_factory):
    """One Daphne process serving the test database over real HTTP and WebSockets,
    talking to the X emulator over real HTTP."""
    server = DaphneServer(tmp_path_factory.mktemp("daphne"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: Playwright's sync API holds an event loop in this thread while it
    runs, which would stop later modules from using asyncio."""
    require(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot_dir():
    OUTPUT_DIR.mkdir(exist_ok=True)
    return OUTPUT_DIR


@pytest.fixture(scope="session", autouse=True)
def _ci_runs_on_real_services():
    """CI must exercise PostgreSQL and Redis, never fall back to the embedded defaults."""
    if IN_CI:
        assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), (
            "CI=true but DATABASE_URL does not point at PostgreSQL"
        )
        assert settings.REDIS_URL, "CI=true but REDIS_URL is not set"


@pytest.fixture(scope="session", autouse=True)
def _cache_table(django_db_setup, django_db_blocker):
    """The database cache backend needs its table in the test database too."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


__all__ = ["free_port", "port_open", "require", "service_env", "time"]
