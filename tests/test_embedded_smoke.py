"""`make run` exactly as a fresh machine starts it: SQLite, in-process layer, embedded
broker, with web, worker and beat as separate processes, on a port other than 8000 and
with nothing configured. A newcomer's first broadcast: sign in through the X emulator, go
live, and the link posted to X must answer on the port really served; errors are OnAir's
own pages (DEBUG is off under `make run`)."""

import html
import json
import os
import re
import urllib.error
import urllib.request
from datetime import date

import pytest

from tests.conftest import Process, free_port
from tests.support import wait_for

pytestmark = pytest.mark.slow

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# What the environment may hold that `make run` must do without: settings of a deployment
# or of the test session itself.
SETTINGS_PREFIXES = (
    "CELERY_",
    "DJANGO_",
    "ONAIR_",
    "SECURE_",
    "SESSION_",
    "CSRF_",
    "STATIC_",
    "WHITENOISE_",
    "X_",
    "XEMULATOR_",
)
SETTINGS_NAMES = {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_URL"}
# Django's technical 404 page (DEBUG on) names the URL patterns; OnAir's never does.
TECHNICAL_PAGE = ("Using the URLconf defined in", "DEBUG = True", "technical_500")


def fetch(url, data=None):
    """(status, body) for any answer, error statuses included; (None, b"") when down."""
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return None, b""


def meta(page_html):
    return dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', page_html))


class MakeRun:
    """`make run` on free ports, nothing else set, its state in a temporary folder."""

    def __init__(self, tmp_path):
        self.port, self.x_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.x_url = f"http://127.0.0.1:{self.x_port}"
        env = {
            name: value
            for name, value in os.environ.items()
            if name not in SETTINGS_NAMES and not name.startswith(SETTINGS_PREFIXES)
        }
        env.update(
            {
                "ONAIR_VAR_DIR": str(tmp_path / "var"),
                "WEB_PORT": str(self.port),
                "X_EMULATOR_PORT": str(self.x_port),
            }
        )
        self.process = Process(["make", "run"], env, tmp_path / "make-run.log")

    def wait_until_serving(self):
        wait_for(
            lambda: fetch(f"{self.url}/healthz")[0] == 200 or not self.process.alive(),
            timeout=180,
            what="make run to serve /healthz",
        )
        assert self.process.alive(), self.process.output()
        wait_for(
            lambda: fetch(f"{self.x_url}/healthz")[0] == 200,
            timeout=60,
            what="the X emulator process",
        )


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    run = MakeRun(tmp_path_factory.mktemp("make-run"))
    try:
        run.wait_until_serving()
        yield run
    finally:
        run.process.stop(timeout=20)


def test_make_run_serves_home_page_with_worker_and_beat(make_run):
    base = make_run.url
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
    output = make_run.process.output()
    for name in ("web.1", "worker.1", "beat.1", "xemulator.1"):
        assert name in output
    assert f"http://127.0.0.1:{make_run.port}/" in output


def test_errors_are_onair_pages_and_static_files_are_served(make_run):
    for path in ("/no/such/page/", "/b/nope/"):
        status, body = fetch(make_run.url + path)
        page = body.decode()
        assert status == 404, path
        assert "error-page" in page and "Page not found" in page, path
        assert not any(marker in page for marker in TECHNICAL_PAGE), page

    # A form sent without its CSRF cookie (a stale page): OnAir's 403, not Django's.
    status, body = fetch(f"{make_run.url}/accounts/logout/", data=b"x=1")
    assert status == 403
    assert "error-page" in body.decode() and "Not allowed" in body.decode()

    status, css = fetch(f"{make_run.url}/static/css/onair.css")
    assert status == 200 and b".error-code" in css
    assert fetch(f"{make_run.url}/static/js/site.js")[0] == 200
    # No TLS redirect, no HSTS on a local run over http.
    with urllib.request.urlopen(make_run.url + "/", timeout=10) as response:
        assert response.url == make_run.url + "/"
        assert "Strict-Transport-Security" not in response.headers


def shoot(page, name, screenshot_dir):
    page.screenshot(path=str(screenshot_dir / f"make-run-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(screenshot_dir / f"make-run-{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def sign_in_through_the_emulator(page, make_run, handle):
    page.goto(make_run.url + "/")
    page.get_by_test_id("x-sign-in").first.click()
    page.wait_for_url(f"{make_run.x_url}/i/oauth2/authorize**")
    page.fill("#id_username", handle)
    page.fill("#id_name", "New Comer")
    page.click("#approve")
    page.wait_for_url("**/accounts/x/birth-date/")
    page.fill("#id_birth_date", date(1990, 5, 17).isoformat())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(make_run.url + "/")


def go_live(page, make_run, title):
    from tests.media.browser import GO_LIVE, dataset, wait_for_dataset

    page.goto(make_run.url + "/live/")
    wait_for_dataset(page, GO_LIVE, "devices", "ready", timeout=30)
    page.fill("#id_title", title)
    page.click("[data-go-button]")
    wait_for_dataset(page, GO_LIVE, "connection", "live", timeout=60)
    return dataset(page, GO_LIVE, "slug")


def posted_link(make_run, handle):
    """The link in the newest post on the emulator's timeline page, once there is one."""
    status, body = fetch(f"{make_run.x_url}/{handle}")
    links = re.findall(r'href="(http://127\.0\.0\.1:\d+/b/[^"]+)"', body.decode()) if body else []
    return status == 200 and links and html.unescape(links[0])


@pytest.mark.browser
def test_a_first_broadcast_posts_a_link_that_works(make_run, browser, screenshot_dir):
    handle = "newcomer"
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in_through_the_emulator(page, make_run, handle)
        assert page.locator(".messages").inner_text().strip() == f"Signed in as @{handle}."
        shoot(page, "signed-in", screenshot_dir)
        slug = go_live(page, make_run, "My first broadcast")

        link = wait_for(
            lambda: posted_link(make_run, handle), timeout=90, what="the post on X's timeline"
        )
        assert link == f"{make_run.url}/b/{slug}/"
        status, body = fetch(link)
        assert status == 200
        tags = meta(body.decode())
        assert tags["og:url"] == link
        assert tags["og:image"].startswith(f"{make_run.url}/")
        assert fetch(html.unescape(tags["og:image"]))[0] == 200

        page.goto(make_run.url + "/b/nope/")
        assert page.locator(".error-code").inner_text() == "404"
        shoot(page, "404", screenshot_dir)
    finally:
        context.close()
