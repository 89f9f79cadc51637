"""Workers racing on one token, and a worker killed mid-post, still give exactly one
post each.

These tests start their own workers, and this module has no module-scoped worker (such
as test_post_watch_link's): the workers a test starts are the only consumers, so the
race is between them and the killed worker is the one that had the task."""

from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialToken
from django.utils import timezone

from broadcast import posting
from broadcast.models import XPost
from tests.support import wait_for
from tests.xposting.conftest import live_broadcast, make_x_user
from tests.xposting.test_post_watch_link import live_posts, settled
from xemulator.models import Fault
from xemulator.models import Token as XToken

pytestmark = pytest.mark.django_db(transaction=True)

RECEIVED = "broadcast.post_watch_link["


def test_two_tasks_racing_to_refresh_make_one_refresh_and_both_post(x, start_worker):
    user = make_x_user(x, stored_expiry=timezone.now() - timedelta(seconds=5))
    # The refresh is slow (5 s), so the second task reaches the lock while the first holds
    # it, even on a loaded machine; the racers' timeout is longer than that delay.
    x.add_fault("POST /2/oauth2/token", delay_s=5)
    racer = {"X_HTTP_TIMEOUT": "10", "X_POST_STALE_S": "35"}
    racers = [start_worker("racer", **racer), start_worker("racer", **racer)]
    first_secret = SocialToken.objects.get(account__user=user).token_secret

    posts = [posting.request_go_live_post(broadcast=live_broadcast(user)) for _ in range(2)]
    for post in posts:
        settled(post)

    # Had both refreshed, the second would have presented a used refresh token and got
    # invalid_grant (needs_reconnect): both posted means one refresh served both.
    assert [p.state for p in posts] == [XPost.State.POSTED, XPost.State.POSTED]
    assert [p.attempts for p in posts] == [1, 1]
    # Each racer took one of the two tasks.
    assert [received(worker) for worker in racers] == [1, 1]
    # They did race: the second attempt started while the (5 s) refresh was under way.
    started = sorted(p.posting_started_at for p in posts)
    assert started[1] - started[0] < timedelta(seconds=5)
    # Both posts are on X, made with a token X accepted.
    assert sorted(p["id"] for p in live_posts(x, user)) == sorted(p.post_id for p in posts)
    token = SocialToken.objects.get(account__user=user)
    assert token.token_secret != first_secret
    # X's side: the first token and exactly one refresh of it.
    assert XToken.objects.filter(user_id=user.x_id).count() == 2
    # And the refresh token we kept is the live one: the next refresh works.
    token.expires_at = timezone.now() - timedelta(seconds=5)
    token.save()
    third = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))
    assert third.state == XPost.State.POSTED


def received(worker):
    """How many post_watch_link tasks the worker's log says it received."""
    return sum(
        RECEIVED in line and "received" in line for line in worker.process.output().splitlines()
    )


def test_worker_killed_while_x_is_slow_still_gives_exactly_one_post(x, start_worker):
    user = make_x_user(x)
    x.add_fault("POST /2/tweets", delay_s=3)
    doomed = start_worker("doomed")

    post = posting.request_go_live_post(broadcast=live_broadcast(user))
    wait_for(
        lambda: any(
            RECEIVED in line and "received" in line for line in doomed.process.output().splitlines()
        ),
        timeout=20,
        what="the doomed worker to receive the task",
    )
    # The request is at X (the emulator consumed the delay fault): kill the worker now.
    wait_for(
        lambda: not Fault.objects.filter(endpoint="POST /2/tweets", remaining__gt=0).exists(),
        timeout=20,
        what="the post request to reach the emulator",
    )
    doomed.process.kill()
    post.refresh_from_db()
    assert post.state == XPost.State.POSTING
    assert post.attempts == 1

    start_worker("restarted")

    def swept_and_posted():
        posting.sweep_stuck_posts()
        post.refresh_from_db()
        return post.state == XPost.State.POSTED

    wait_for(swept_and_posted, timeout=40, interval=1.0, what="the sweep to reconcile")
    [made] = live_posts(x, user)
    assert post.post_id == made["id"]
    assert post.attempts == 2  # the killed attempt, then the reconciling one
