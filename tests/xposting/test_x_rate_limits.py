"""The posting worker reads X's x-rate-limit-reset: it retries when the window resets,
and gives up at once when that is past the post's deadline. Real worker, the X
emulator's real windows over HTTP."""

import time

import pytest
import requests
from allauth.socialaccount.models import SocialToken
from django.conf import settings

from broadcast import posting
from broadcast.models import XPost
from tests.xposting.conftest import live_broadcast, make_x_user
from tests.xposting.test_post_watch_link import live_posts, settled

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rate_limited_post_is_retried_when_x_says_the_window_resets(x, posting_worker):
    user = make_x_user(x)
    x.add_fault("POST /2/tweets", status=429, reset_in=4)
    before = time.time()

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.POSTED
    assert post.attempts == 2
    # The retry base here is 0.2 s: only the header (reset >= before + 4) can have made
    # it wait this long (a retry may start up to 0.5 s before its time).
    assert post.posted_at.timestamp() >= before + 3.4
    assert len(live_posts(x, user)) == 1


def test_a_used_up_window_that_resets_after_the_deadline_fails_the_post_at_once(x, posting_worker):
    user = make_x_user(x)
    token = SocialToken.objects.get(account__user=user).token
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for n in range(100):
            made = session.post(
                f"{settings.X_API_BASE}/2/tweets", json={"text": f"earlier post {n}"}, timeout=10
            )
            assert made.status_code == 201, made.text
        assert made.headers["x-rate-limit-remaining"] == "0"
        reset = int(made.headers["x-rate-limit-reset"])
    assert reset > time.time() + settings.X_POST_DEADLINE_S  # 15 minutes away

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.FAILED
    assert (post.last_error_code, post.last_error_reason) == ("rate_limited", "deadline")
    assert post.attempts == 1
    assert len(live_posts(x, user)) == 100
