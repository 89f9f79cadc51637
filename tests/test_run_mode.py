"""The three ways OnAir's settings start: `make run` (ONAIR_LOCAL_RUN, DEBUG off yet nothing
to configure), `DEBUG=1` development, and a deployment (strict); and the error pages a
user meets with DEBUG off, which are OnAir's own."""

import json
import subprocess
import sys

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import path

from onair.urls import urlpatterns as onair_urlpatterns
from tests.conftest import ROOT

READ_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "PUBLIC_URL": settings.PUBLIC_URL,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
    "connect_src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"],
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CSRF_COOKIE_SECURE": settings.CSRF_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
    "secret_key_file": (settings.VAR_DIR / "secret_key").exists(),
}))
"""


def read_settings(tmp_path, **env):
    result = subprocess.run(
        [sys.executable, "-c", READ_SETTINGS],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "onair.settings",
            "ONAIR_VAR_DIR": str(tmp_path),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_make_run_has_debug_off_and_every_address_on_its_port(tmp_path):
    found = read_settings(tmp_path, ONAIR_LOCAL_RUN="1", WEB_PORT="18123")
    assert found["DEBUG"] is False
    assert found["PUBLIC_URL"] == "http://127.0.0.1:18123"
    assert found["CSRF_TRUSTED_ORIGINS"] == ["http://127.0.0.1:18123"]
    assert "ws://127.0.0.1:18123" in found["connect_src"]
    assert "127.0.0.1" in found["ALLOWED_HOSTS"] and "localhost" in found["ALLOWED_HOSTS"]
    # Plain http on the loopback address, with the dev key kept in ONAIR_VAR_DIR.
    assert found["SECURE_SSL_REDIRECT"] is False
    assert found["SESSION_COOKIE_SECURE"] is False and found["CSRF_COOKIE_SECURE"] is False
    assert found["SECURE_HSTS_SECONDS"] == 0
    assert found["secret_key_file"] is True
    # No collectstatic needed: static files come from the finders, unhashed.
    assert found["staticfiles"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_debug_1_make_run_brings_the_technical_pages_back(tmp_path):
    found = read_settings(tmp_path, ONAIR_LOCAL_RUN="1", DEBUG="1", WEB_PORT="18124")
    assert found["DEBUG"] is True
    assert found["PUBLIC_URL"] == "http://127.0.0.1:18124"


def test_a_set_public_url_wins_over_the_port(tmp_path):
    found = read_settings(
        tmp_path, ONAIR_LOCAL_RUN="1", WEB_PORT="18125", PUBLIC_URL="http://127.0.0.1:9000/"
    )
    assert found["PUBLIC_URL"] == "http://127.0.0.1:9000"


def test_a_deployment_keeps_the_strict_settings(tmp_path):
    found = read_settings(
        tmp_path,
        DEBUG="0",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="onair.example",
        PUBLIC_URL="https://onair.example",
    )
    assert found["DEBUG"] is False
    assert found["ALLOWED_HOSTS"] == ["onair.example"]
    assert found["SECURE_SSL_REDIRECT"] is True
    assert found["SESSION_COOKIE_SECURE"] is True and found["CSRF_COOKIE_SECURE"] is True
    assert found["SECURE_HSTS_SECONDS"] == 31536000
    assert found["staticfiles"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert found["secret_key_file"] is False


# --- Error pages with DEBUG off (as under `make run`) --------------------------------


def forbidden(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("test-forbidden/", forbidden),
    path("test-broken/", broken),
    *onair_urlpatterns,
]
handler403 = "onair.views.error_403"
handler404 = "onair.views.error_404"
handler500 = "onair.views.error_500"


def assert_onair_page(response, status, heading):
    body = response.content.decode()
    assert response.status_code == status
    assert f'<p class="error-code">{status}</p>' in body
    assert heading in body
    assert "onair.css" in body  # the site's own page, styled
    assert "Traceback" not in body and "URLconf" not in body and "a bug" not in body
    return body


@pytest.mark.django_db
@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_errors_with_debug_off_are_onair_pages():
    client = Client(raise_request_exception=False)
    assert_onair_page(client.get("/no/such/page/"), 404, "Page not found")
    assert_onair_page(client.get("/b/nope/"), 404, "Page not found")
    assert_onair_page(client.get("/test-forbidden/"), 403, "Not allowed")
    assert_onair_page(client.get("/test-broken/"), 500, "Something went wrong")


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_a_refused_form_gets_onair_403_page_saying_what_to_do():
    client = Client(enforce_csrf_checks=True)
    body = assert_onair_page(client.post("/accounts/logout/"), 403, "Not allowed")
    assert "reload the page and try again" in body
    assert "CSRF" not in body
