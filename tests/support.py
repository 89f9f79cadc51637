"""Helpers for tests (the benches use them too): wait on a condition with a bound, never
sleep on a guess; the Chromium that Playwright drives."""

import shutil
import time
from pathlib import Path

# Debian's Chromium as Playwright drives it here: headless, with a fake camera and
# microphone, and autoplay allowed (the tests and the media benches).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]


def wait_for(condition, *, timeout=10.0, interval=0.05, what="condition"):
    """Poll `condition` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def years_ago(years, *, days=0, today=None):
    """The date `years` years and `days` days before today (timezone.localdate(), UTC, as
    the code counts ages); 29 February falls back to 28 February in a year without one."""
    from datetime import timedelta

    from django.utils import timezone

    today = today or timezone.localdate()
    try:
        then = today.replace(year=today.year - years)
    except ValueError:  # 29 February -> 28 February
        then = today.replace(year=today.year - years, day=28)
    return then - timedelta(days=days)


# The test-only JavaScript tools of package.json (`make test` runs `npm ci` first).
NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"


def node_tool(package):
    """The folder of an installed test-only npm package, or None when it is missing."""
    folder = NODE_MODULES / package
    return folder if folder.is_dir() and shutil.which("node") else None
