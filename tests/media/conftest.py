"""Fixtures of the media tests: a signed-in broadcaster in a real browser, viewers."""

from datetime import date

import pytest
from django.utils import timezone

from tests.factories import UserFactory

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


def adult(**kwargs):
    return UserFactory(birth_date=date(1990, 1, 1), **kwargs)


def years_ago(years, today=None):
    """The date `years` years before today; 29 February becomes 28 February."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def session_cookie(client, user):
    """The Django session of `user`, as a Cookie header value."""
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def signed_in_context(browser, server, client, user, **options):
    """A browser context whose Django session is `user`'s: no X sign-in needed."""
    client.force_login(user)
    context = browser.new_context(**options)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    return context


@pytest.fixture
def fixture_webm():
    return (FIXTURES / "fake-camera-250ms.webm").read_bytes()
