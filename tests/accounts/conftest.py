from tests.x_fixtures import x  # noqa: F401 (the X emulator's control API)
