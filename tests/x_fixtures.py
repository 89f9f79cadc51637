"""The `x` fixture (the X emulator's control API), shared by tests/accounts and
tests/xposting: each conftest imports it from here."""

import pytest
from django.conf import settings

from xemulator.control import EmulatorControl


@pytest.fixture(scope="session")
def x(x_emulator_process):
    """Drives the X emulator process over HTTP: users, tokens, faults, timelines."""
    return EmulatorControl(settings.X_API_BASE, settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)
