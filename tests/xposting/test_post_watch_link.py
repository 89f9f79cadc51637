"""Going live posts the watch link to X exactly once, through a real Celery worker and
the X emulator over real HTTP, whatever X or the worker does meanwhile."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialToken
from django.conf import settings
from django.db import connection
from django.utils import timezone

from broadcast import posting
from broadcast.models import XPost
from broadcast.x_client import XClient
from tests.support import wait_for
from tests.xposting.conftest import live_broadcast, make_x_user

pytestmark = pytest.mark.django_db(transaction=True)


def settled(post, timeout=30):
    final = {XPost.State.POSTED, XPost.State.FAILED, XPost.State.NEEDS_RECONNECT}

    def check():
        post.refresh_from_db()
        return post.state in final

    wait_for(check, timeout=timeout, interval=0.1, what=f"x post {post.pk} to settle")
    return post


def live_posts(x, user):
    return [p for p in x.tweets(user.x_id) if not p["deleted"]]


def test_going_live_posts_title_and_watch_url_once(x, posting_worker):
    user = make_x_user(x)
    broadcast = live_broadcast(user, title="Cooking pasta live")

    post = posting.request_go_live_post(broadcast=broadcast)
    again = posting.request_go_live_post(broadcast=broadcast)

    assert again.pk == post.pk
    assert posting.go_live_post_of(broadcast) == post
    settled(post)
    assert post.state == XPost.State.POSTED
    watch_url = f"{settings.PUBLIC_URL}/b/{broadcast.slug}/"
    [made] = live_posts(x, user)
    assert made["text"] == f"Cooking pasta live\n{watch_url}"
    assert post.post_id == made["id"]
    assert post.post_url == f"{settings.X_AUTH_BASE}/{user.handle}/status/{made['id']}"
    assert post.attempts == 1


def test_nothing_is_posted_when_tell_followers_is_off(x):
    user = make_x_user(x)
    broadcast = live_broadcast(user)
    broadcast.tell_followers = False
    broadcast.save()

    assert posting.request_go_live_post(broadcast=broadcast) is None
    assert not XPost.objects.exists()


def test_rate_limited_post_waits_for_the_reset_then_posts(x, posting_worker):
    user = make_x_user(x)
    x.add_fault("POST /2/tweets", status=429, reset_in=1)

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.POSTED
    assert post.attempts == 2
    assert len(live_posts(x, user)) == 1


def test_x_unavailable_three_times_then_posted_once(x, posting_worker):
    user = make_x_user(x)
    x.add_fault("POST /2/tweets", status=503, count=3)

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.POSTED
    assert post.attempts == 4
    assert len(live_posts(x, user)) == 1


def test_revoked_tokens_ask_the_broadcaster_to_reconnect(x, posting_worker):
    user = make_x_user(x)
    x.revoke_user(user.x_id)

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.NEEDS_RECONNECT
    assert post.last_error_code == "unauthorized"
    assert live_posts(x, user) == []


def test_expired_token_is_refreshed_and_the_rotated_refresh_token_saved(x, posting_worker):
    user = make_x_user(x, expires_in=7200, stored_expiry=timezone.now() - timedelta(seconds=5))
    before = SocialToken.objects.get(account__user=user)

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.POSTED
    after = SocialToken.objects.get(pk=before.pk)
    assert after.token != before.token
    assert after.token_secret != before.token_secret
    assert after.expires_at > timezone.now() + timedelta(minutes=100)


def test_a_lost_message_is_sent_again_by_the_sweep(x, posting_worker):
    user = make_x_user(x)
    broadcast = live_broadcast(user)
    post = XPost.objects.create(
        purpose=XPost.Purpose.GO_LIVE,
        source_key=f"broadcast:{broadcast.pk}",
        idempotency_key=posting.idempotency_key("go_live", f"broadcast:{broadcast.pk}"),
        user=user,
        broadcast=broadcast,
        text=posting.go_live_text(broadcast),
        marker=posting.watch_url(broadcast),
        deadline_at=timezone.now() + timedelta(minutes=10),
    )
    XPost.objects.filter(pk=post.pk).update(updated_at=timezone.now() - timedelta(minutes=1))

    assert posting.sweep_stuck_posts() == 1

    assert settled(post).state == XPost.State.POSTED
    assert len(live_posts(x, user)) == 1


def test_daily_cap_refuses_further_posts_clearly(x, posting_worker, settings):
    settings.X_DAILY_POST_CAP = 1
    user = make_x_user(x)

    first = posting.request_go_live_post(broadcast=live_broadcast(user))
    second = posting.request_go_live_post(broadcast=live_broadcast(user))

    assert settled(first).state == XPost.State.POSTED
    second.refresh_from_db()
    assert second.state == XPost.State.FAILED
    assert second.last_error_code == "daily_cap"
    assert posting.status_message(second) == {
        "state": "failed",
        "post_url": None,
        "reason": "daily_cap",
    }
    assert len(live_posts(x, user)) == 1


def test_one_user_cannot_use_up_the_daily_cap(x, posting_worker, settings):
    settings.X_USER_POSTS_PER_HOUR = 2
    user, other = make_x_user(x), make_x_user(x)

    posts = [posting.request_go_live_post(broadcast=live_broadcast(user)) for _ in range(3)]
    others = posting.request_go_live_post(broadcast=live_broadcast(other))

    assert [settled(p).state for p in posts[:2]] == [XPost.State.POSTED] * 2
    posts[2].refresh_from_db()
    assert posts[2].state == XPost.State.FAILED
    assert posts[2].last_error_code == "user_cap"
    assert posting.status_message(posts[2]) == {
        "state": "failed",
        "post_url": None,
        "reason": "user_cap",
    }
    assert settled(others).state == XPost.State.POSTED
    assert len(live_posts(x, user)) == 2


def test_concurrent_requests_cannot_both_take_the_last_place_under_the_cap(
    x, posting_worker, settings
):
    settings.X_DAILY_POST_CAP = 1
    broadcasts = [live_broadcast(make_x_user(x)) for _ in range(4)]
    barrier = threading.Barrier(len(broadcasts))

    def request(broadcast):
        try:
            barrier.wait(timeout=10)
            return posting.request_go_live_post(broadcast=broadcast).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(len(broadcasts)) as pool:
        ids = list(pool.map(request, broadcasts))

    posts = [settled(XPost.objects.get(pk=pk)) for pk in ids]
    assert sorted(p.state for p in posts) == ["failed", "failed", "failed", "posted"]
    assert {p.last_error_code for p in posts if p.state == "failed"} == {"daily_cap"}


def test_x_client_closes_its_http_session():
    with XClient("token", api_base="http://127.0.0.1:9") as client:
        adapter = client.session.get_adapter("http://127.0.0.1:9/")
        adapter.poolmanager.connection_from_url("http://127.0.0.1:9/")
        assert len(adapter.poolmanager.pools) == 1
    assert len(adapter.poolmanager.pools) == 0


def test_refused_refresh_asks_the_broadcaster_to_reconnect(x, posting_worker):
    user = make_x_user(x, stored_expiry=timezone.now() - timedelta(seconds=5))
    x.revoke_user(user.x_id)

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.NEEDS_RECONNECT
    assert post.last_error_code == "invalid_grant"
    assert posting.status_message(post)["reason"] == "invalid_grant"


def test_timed_out_post_is_found_on_the_timeline_instead_of_posted_twice(x, posting_worker):
    user = make_x_user(x)
    # Slower than the worker's 2 s timeout, yet X makes the post in the end.
    x.add_fault("POST /2/tweets", delay_s=3)

    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))

    assert post.state == XPost.State.POSTED
    [made] = live_posts(x, user)
    assert post.post_id == made["id"]
    assert post.attempts == 2


def test_a_post_already_on_x_is_recognised_not_doubled(x, posting_worker):
    """X refuses the same text twice (403 duplicate): the record points at the post."""
    user = make_x_user(x)
    broadcast = live_broadcast(user)
    token = SocialToken.objects.get(account__user=user).token
    with XClient(token) as client:
        existing = client.post_text(posting.go_live_text(broadcast))

    post = settled(posting.request_go_live_post(broadcast=broadcast))

    assert post.state == XPost.State.POSTED
    assert post.post_id == existing
    assert len(live_posts(x, user)) == 1


def test_a_duplicate_that_is_not_ours_ends_in_a_clear_failure(x, posting_worker):
    user = make_x_user(x)
    with XClient(SocialToken.objects.get(account__user=user).token) as client:
        client.post_text("Hello again")

    post = settled(
        posting.request_post(
            user=user, purpose=XPost.Purpose.CHAT_ECHO, source_key="m-1", text="Hello again",
            marker="a marker found nowhere",
        )
    )  # fmt: skip

    assert post.state == XPost.State.FAILED
    assert post.last_error_code == "duplicate"
    assert len(live_posts(x, user)) == 1
