"""The broadcaster follows the go-live post: a JSON snapshot on page load (owner only)
and, with a shared channel layer, live events from the worker to `owner.<slug>`."""

import asyncio
from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialToken
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections
from django.test import Client
from django.utils import timezone

from broadcast import posting
from broadcast.models import XPost
from tests.factories import UserFactory
from tests.xposting.conftest import live_broadcast, make_x_user

pytestmark = pytest.mark.django_db(transaction=True)


def status_url(broadcast):
    return f"/api/broadcasts/{broadcast.slug}/x-post"


def test_only_the_owner_reads_the_post_status(x):
    owner = make_x_user(x)
    broadcast = live_broadcast(owner)
    XPost.objects.create(
        purpose=XPost.Purpose.GO_LIVE,
        source_key=f"broadcast:{broadcast.pk}",
        idempotency_key="k1",
        user=owner,
        broadcast=broadcast,
        text="t",
        state=XPost.State.POSTED,
        post_id="42",
        post_url="http://x.example/h/status/42",
    )
    client = Client()

    assert client.get(status_url(broadcast)).json() == {"type": "error", "code": "forbidden"}
    client.force_login(UserFactory())
    assert client.get(status_url(broadcast)).status_code == 403
    client.force_login(owner)
    assert client.get(status_url(broadcast)).json() == {
        "type": "x_post",
        "state": "posted",
        "post_url": "http://x.example/h/status/42",
        "reason": None,
    }
    assert client.get("/api/broadcasts/nope/x-post").status_code == 404


def test_signing_in_again_retries_a_post_that_needed_reconnecting(x, posting_worker):
    user = make_x_user(x)
    x.revoke_user(user.x_id)
    post = posting.request_go_live_post(broadcast=live_broadcast(user))
    from tests.xposting.test_post_watch_link import settled

    assert settled(post).state == XPost.State.NEEDS_RECONNECT

    # What signing in with X again does: allauth stores the new token, then our adapter
    # retries the blocked go-live posts of broadcasts still live.
    fresh = x.issue_token(user.x_id)
    SocialToken.objects.filter(account__user=user).update(
        token=fresh["access_token"],
        token_secret=fresh["refresh_token"],
        expires_at=timezone.now() + timedelta(hours=2),
    )
    posting.retry_posts_after_reconnect(user=user)

    assert settled(post).state == XPost.State.POSTED


async def test_worker_sends_each_state_to_the_owner_group(x, posting_worker, redis_url):
    layer = get_channel_layer()
    user = await sync_to_async(make_x_user)(x)
    broadcast = await sync_to_async(live_broadcast)(user)
    channel = await layer.new_channel()
    await layer.group_add(posting.owner_group(broadcast.slug), channel)
    try:
        await sync_to_async(posting.request_go_live_post)(broadcast=broadcast)
        states = []
        while "posted" not in states:
            event = await asyncio.wait_for(layer.receive(channel), timeout=20)
            assert event["type"] == "x_post.status"
            states.append(event["state"])
    finally:
        await layer.group_discard(posting.owner_group(broadcast.slug), channel)
        await sync_to_async(connections.close_all)()  # the ORM thread's connection
    assert states == ["queued", "posting", "posted"]
    assert event["post_url"].endswith(f"/{user.handle}/status/{event['post_url'].split('/')[-1]}")
    assert event["reason"] is None


def test_the_status_says_none_when_nothing_will_be_posted(x):
    owner = make_x_user(x)
    quiet = live_broadcast(owner)
    quiet.tell_followers = False
    quiet.save()
    waiting = live_broadcast(owner)  # will post at its first keyframe
    client = Client()
    client.force_login(owner)

    assert client.get(status_url(quiet)).json() == {
        "type": "x_post",
        "state": "none",
        "post_url": None,
        "reason": None,
    }
    assert client.get(status_url(waiting)).json()["state"] is None


def test_the_broadcaster_sees_why_their_post_was_refused(x, settings):
    settings.X_USER_POSTS_PER_HOUR = 0
    owner = make_x_user(x)
    broadcast = live_broadcast(owner)
    posting.request_go_live_post(broadcast=broadcast)
    client = Client()
    client.force_login(owner)

    assert client.get(status_url(broadcast)).json() == {
        "type": "x_post",
        "state": "failed",
        "post_url": None,
        "reason": "user_cap",
    }


def test_staff_see_the_posts_in_the_admin_read_only(x):
    owner = make_x_user(x)
    broadcast = live_broadcast(owner)
    post = XPost.objects.create(
        purpose=XPost.Purpose.GO_LIVE,
        source_key=f"broadcast:{broadcast.pk}",
        idempotency_key="k-admin",
        user=owner,
        broadcast=broadcast,
        text="t",
        state=XPost.State.FAILED,
        attempts=3,
        last_error_code="x_http_503",
    )
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listing = client.get("/admin/broadcast/xpost/")
    assert listing.status_code == 200
    assert owner.handle in listing.content.decode()
    assert "x_http_503" in listing.content.decode()
    assert client.get(f"/admin/broadcast/xpost/{post.pk}/change/").status_code == 200
    assert client.get("/admin/broadcast/xpost/add/").status_code == 403
    assert client.post(f"/admin/broadcast/xpost/{post.pk}/delete/").status_code == 403
