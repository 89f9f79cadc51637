"""The emulator is a separate process: none of its URLs exist in the main app."""

import os
import subprocess
import sys

import pytest
from django.urls import Resolver404, get_resolver, resolve

EMULATOR_PATHS = [
    "/i/oauth2/authorize",
    "/2/oauth2/token",
    "/2/users/me",
    "/2/users/123/tweets",
    "/2/tweets",
    "/2/tweets/123",
    "/_emulator/reset",
    "/_emulator/faults",
    "/_emulator/avatars/1.svg",
]


def all_callbacks(resolver):
    for pattern in resolver.url_patterns:
        if hasattr(pattern, "url_patterns"):
            yield from all_callbacks(pattern)
        else:
            yield pattern.callback


def test_main_urlconf_has_no_emulator_view():
    modules = {callback.__module__ for callback in all_callbacks(get_resolver("onair.urls"))}
    assert not [module for module in modules if module.startswith("xemulator")]


@pytest.mark.parametrize("path", EMULATOR_PATHS)
def test_emulator_paths_do_not_resolve_in_the_main_app(path):
    try:
        match = resolve(path, urlconf="onair.urls")
    except Resolver404:
        return
    assert not match.func.__module__.startswith("xemulator")


def test_emulator_refuses_to_start_when_real_x_is_configured(tmp_path):
    env = {**os.environ, "X_CLIENT_ID": "real-app", "X_CLIENT_SECRET": "real-secret"}
    env["ONAIR_VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", "import xemulator.asgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "The X emulator is off" in result.stderr
