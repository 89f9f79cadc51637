import secrets
import subprocess
import sys

import pytest
from django.test import override_settings

from tests.conftest import ROOT


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "onair.example",
        "PUBLIC_URL": "https://onair.example",
        "ONAIR_VAR_DIR": str(tmp_path),
        "X_CLIENT_ID": "real-x-client",
        "X_CLIENT_SECRET": secrets.token_urlsafe(32),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "0", "ONAIR_VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_warns_when_the_x_emulator_would_serve_production(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "onair.example",
        "ONAIR_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "xemulator.W001" in result.stdout + result.stderr


def check_deploy(tmp_path, **settings):
    """`manage.py check --deploy` in a clean environment: production settings + `settings`."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "onair.example",
        "ONAIR_VAR_DIR": str(tmp_path),
        "X_CLIENT_ID": "real-x-client",
        "X_CLIENT_SECRET": secrets.token_urlsafe(32),
    }
    env.update({name: value for name, value in settings.items() if value is not None})
    for name in [name for name, value in settings.items() if value is None]:
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(
    "public_url",
    [
        None,  # not set: the links would follow WEB_PORT on 127.0.0.1
        "http://127.0.0.1:8000",
        "http://localhost:18000/",
        "http://[::1]:8000",
        "http://0.0.0.0:8000",
        "onair.example",  # no scheme
    ],
)
def test_check_deploy_refuses_a_public_url_nobody_else_reaches(tmp_path, public_url):
    returncode, output = check_deploy(tmp_path, PUBLIC_URL=public_url, WEB_PORT="18000")
    assert returncode != 0
    assert "onair.E001" in output
    assert "PUBLIC_URL" in output and "Set PUBLIC_URL to the address people reach" in output
    if public_url is None:
        assert "http://127.0.0.1:18000" in output


def test_check_deploy_warns_when_the_public_url_host_is_not_allowed(tmp_path):
    returncode, output = check_deploy(tmp_path, PUBLIC_URL="https://elsewhere.example")
    assert returncode != 0
    assert "onair.W001" in output and "onair.E001" not in output


def test_check_deploy_refuses_the_local_run_mode(tmp_path):
    returncode, output = check_deploy(
        tmp_path, PUBLIC_URL="https://onair.example", ONAIR_LOCAL_RUN="1"
    )
    assert returncode != 0
    assert "onair.E002" in output


def test_public_url_checks_know_loopback_from_public_hosts():
    from onair.checks import is_loopback, public_url_problems

    for host in ("127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST.", "[::1]", "app.localhost"):
        assert is_loopback(host), host
    for host in ("onair.example", "192.0.2.7", "[2001:db8::1]", "localhost.example"):
        assert not is_loopback(host), host

    def ids(url):
        return [problem.id for problem in public_url_problems(url)]

    with override_settings(ALLOWED_HOSTS=["onair.example"]):
        assert ids("https://onair.example") == []
        assert ids("http://onair.example") == ["onair.W002"]
        assert ids("https://elsewhere.example") == ["onair.W001"]
        assert ids("ftp://onair.example") == ["onair.E001"]
        assert ids("https://127.0.0.1") == ["onair.E001"]
