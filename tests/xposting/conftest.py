"""Fixtures for posting to X: the emulator over real HTTP, real worker processes tuned for
short timeouts, and signed-up users whose X tokens the emulator issued."""

import itertools
import os
from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.utils import timezone

from tests.conftest import CeleryWorker
from tests.factories import BroadcastFactory, UserFactory
from tests.support import years_ago
from tests.x_fixtures import x  # noqa: F401 (the X emulator's control API)

# Short enough for tests, and still X_POST_STALE_S > the longest attempt (3 x timeout).
WORKER_ENV = {
    "X_HTTP_TIMEOUT": "2",
    "X_POST_STALE_S": "7",
    "X_POST_RETRY_BASE_S": "0.2",
}
_names = itertools.count()


@pytest.fixture(autouse=True)
def _no_faults_left(request):
    yield
    if "x" in request.fixturenames:
        request.getfixturevalue("x").clear_faults()


@pytest.fixture(scope="module")
def posting_worker(django_db_setup, tmp_path_factory):
    worker = CeleryWorker(tmp_path_factory.mktemp("xposting"), name="xposting", **WORKER_ENV)
    yield worker
    worker.stop()


@pytest.fixture
def start_worker(django_db_setup, tmp_path):
    """Start extra workers inside a test (to race them, or to kill one). Messages other
    tests left in the broker (sent while no worker ran) are purged first, so that these
    workers see only this test's tasks."""
    from onair.celery import app

    with app.connection_for_write() as connection:
        app.control.purge(connection=connection)
    started = []

    def start(name="extra", **env):
        worker = CeleryWorker(tmp_path, name=f"{name}{len(started)}", **{**WORKER_ENV, **env})
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def make_x_user(emulator, *, expires_in=7200, stored_expiry=None, birth_date=None):
    """A user who signed in with X: the emulator's user and token, our User, SocialAccount
    and SocialToken (access token, refresh token, expiry) as allauth stores them."""
    handle = f"poster{os.getpid() % 1000}_{next(_names)}"[:15]
    x_user = emulator.create_user(handle, name=f"Poster {handle}")
    token = emulator.issue_token(x_user["id"], expires_in=expires_in)
    user = UserFactory(
        username=f"x{x_user['id']}",
        handle=handle,
        x_id=x_user["id"],
        birth_date=birth_date or years_ago(30),
    )
    account = SocialAccount.objects.create(
        user=user, provider="twitter_oauth2", uid=x_user["id"], extra_data=x_user
    )
    SocialToken.objects.create(
        account=account,
        token=token["access_token"],
        token_secret=token["refresh_token"],
        expires_at=stored_expiry or timezone.now() + timedelta(seconds=expires_in),
    )
    return user


def live_broadcast(user, **kwargs):
    return BroadcastFactory(owner=user, live=True, **{"tell_followers": True, **kwargs})
