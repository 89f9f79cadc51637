"""Deleting the posts OnAir made on X, through a real Celery worker and the X emulator
over real HTTP: X's 404 counts as done, X's failures are retried, a post still being made
is deleted once it lands, a dead token shows staff "could not delete" with the post's
link, and a user's X tokens go only after their posts."""

from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialToken
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from broadcast import post_deletion, posting
from broadcast.models import XPost
from broadcast.x_client import XClient
from safety.models import AuditEntry
from tests.conftest import CeleryWorker
from tests.factories import UserFactory
from tests.support import wait_for
from tests.xposting.conftest import WORKER_ENV, live_broadcast, make_x_user
from tests.xposting.test_post_watch_link import live_posts, settled
from xemulator.control import EmulatorControl

pytestmark = pytest.mark.django_db(transaction=True)

Deletion = XPost.DeletionState


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    worker = CeleryWorker(tmp_path_factory.mktemp("deletion"), name="deletion", **WORKER_ENV)
    yield worker
    worker.stop()


@pytest.fixture
def x(x_emulator_process):
    """The X emulator's control API; no fault outlives the test that set it."""
    control = EmulatorControl(settings.X_API_BASE, settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)
    yield control
    control.clear_faults()


def deletion_settled(post, timeout=30):
    def check():
        post.refresh_from_db()
        return post.deletion_state in (Deletion.DELETED, Deletion.FAILED)

    wait_for(check, timeout=timeout, interval=0.1, what=f"deletion of x post {post.pk}")
    return post


def on_x(x, user, post_id):
    """The emulator's record of one post (deleted ones included)."""
    return next(p for p in x.tweets(user.x_id) if p["id"] == post_id)


def posted_go_live(x, user):
    broadcast = live_broadcast(user)
    post = settled(posting.request_go_live_post(broadcast=broadcast))
    assert post.state == XPost.State.POSTED
    return broadcast, post


def test_taken_down_broadcast_post_is_deleted_from_x(x, worker):
    user = make_x_user(x)
    broadcast, post = posted_go_live(x, user)

    requested = post_deletion.delete_posts_of(broadcast=broadcast, reason="takedown")

    assert [p.pk for p in requested] == [post.pk]
    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    assert post.deleted_at is not None and post.deletion_attempts == 1
    assert on_x(x, user, post.post_id)["deleted"] is True
    assert live_posts(x, user) == []
    # Asked and done, both in the audit log, with the post's link.
    asked = AuditEntry.objects.get(action="x_post_deletion_requested")
    assert asked.reason == "takedown"
    assert asked.target_snapshot["posts"][0]["post_url"] == post.post_url
    assert AuditEntry.objects.get(action="x_post_deleted").target_id == str(post.pk)
    # Asking again changes nothing.
    assert post_deletion.delete_posts_of(broadcast=broadcast, reason="takedown") == []


def test_a_post_already_gone_from_x_counts_as_deleted(x, worker):
    user = make_x_user(x)
    _, post = posted_go_live(x, user)
    token = SocialToken.objects.get(account__user=user).token
    with XClient(token) as client:
        client.delete_post(post.post_id)  # deleted by hand on X

    post_deletion.request_post_deletion(posts=[post], reason="account_deleted")

    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    assert post.deletion_attempts == 1
    assert post.deletion_error == ""


def test_x_failing_twice_is_retried_until_the_post_is_deleted(x, worker):
    user = make_x_user(x)
    _, post = posted_go_live(x, user)
    x.add_fault("DELETE /2/tweets/:id", status=503, count=2)

    post_deletion.request_post_deletion(posts=[post], reason="takedown")

    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    assert post.deletion_attempts == 3
    assert on_x(x, user, post.post_id)["deleted"] is True


def test_post_asked_for_deletion_while_being_made_is_deleted_once_it_lands(x, worker):
    user = make_x_user(x)
    x.add_fault("POST /2/tweets", delay_s=2)  # X is slow: the post is in flight a while
    post = posting.request_go_live_post(broadcast=live_broadcast(user))

    def posting_now():
        post.refresh_from_db()
        return post.state == XPost.State.POSTING

    wait_for(posting_now, timeout=20, what="the post to be in flight")
    post_deletion.request_post_deletion(posts=[post], reason="takedown")
    post.refresh_from_db()
    assert post.deletion_state == Deletion.REQUESTED

    deletion_settled(post)
    assert post.state == XPost.State.POSTED
    assert post.deletion_state == Deletion.DELETED
    assert on_x(x, user, post.post_id)["deleted"] is True


def test_post_asked_for_deletion_before_its_first_attempt_is_never_made(x, worker):
    user = make_x_user(x)
    with transaction.atomic():  # the posting task is sent only once both are committed
        post = posting.request_go_live_post(broadcast=live_broadcast(user))
        post_deletion.request_post_deletion(posts=[post], reason="takedown")

    deletion_settled(settled(post))
    assert post.state == XPost.State.FAILED
    assert post.last_error_code == "withdrawn"
    assert post.deletion_state == Deletion.DELETED
    assert x.tweets(user.x_id) == []


def test_post_that_never_made_it_has_nothing_to_delete(x, worker):
    user = make_x_user(x)
    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))
    XPost.objects.filter(pk=post.pk).update(state=XPost.State.FAILED, post_id="", post_url="")
    x.add_fault("DELETE /2/tweets/:id", status=500, count=5)  # never called

    post_deletion.request_post_deletion(posts=[post], reason="takedown")

    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    assert post.deletion_attempts == 1


def test_post_whose_last_attempt_may_have_reached_x_is_found_and_deleted(x, worker):
    user = make_x_user(x)
    post = settled(posting.request_go_live_post(broadcast=live_broadcast(user)))
    # As if the attempt timed out and the deadline passed: X made it, we never learnt its id.
    made_id = post.post_id
    XPost.objects.filter(pk=post.pk).update(
        state=XPost.State.FAILED, post_id="", post_url="", outcome_unknown=True
    )

    post_deletion.request_post_deletion(posts=[post], reason="account_deleted")

    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    assert post.post_id == made_id
    assert post.post_url.endswith(f"/{user.handle}/status/{made_id}")
    assert on_x(x, user, made_id)["deleted"] is True


def test_dead_token_shows_staff_could_not_delete_with_the_post_link(x, worker, client):
    user = make_x_user(x)
    _, post = posted_go_live(x, user)
    # The refresh token is dead on X's side and the access token has expired.
    x.revoke_user(user.x_id)
    SocialToken.objects.filter(account__user=user).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )

    post_deletion.request_post_deletion(posts=[post], reason="takedown")

    deletion_settled(post)
    assert post.deletion_state == Deletion.FAILED
    assert post.deletion_error == "invalid_grant"
    assert on_x(x, user, post.post_id)["deleted"] is False
    assert AuditEntry.objects.filter(action="x_post_deletion_failed").count() == 1
    staff = UserFactory(username="deletion-staff", is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get("/admin/broadcast/xpost/", {"deletion_state": Deletion.FAILED})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Could not delete" in html
    assert f'href="{post.post_url}"' in html
    assert "invalid_grant" in html


def test_failed_deletions_are_tried_again_when_the_user_reconnects(x, worker):
    user = make_x_user(x)
    _, post = posted_go_live(x, user)
    x.revoke_user(user.x_id)
    SocialToken.objects.filter(account__user=user).update(
        expires_at=timezone.now() - timedelta(minutes=5)
    )
    post_deletion.request_post_deletion(posts=[post], reason="takedown")
    assert deletion_settled(post).deletion_state == Deletion.FAILED

    # Signing in with X again stores a fresh token, then asks posting to carry on.
    fresh = x.issue_token(user.x_id)
    SocialToken.objects.filter(account__user=user).update(
        token=fresh["access_token"],
        token_secret=fresh["refresh_token"],
        expires_at=timezone.now() + timedelta(hours=2),
    )
    posting.retry_posts_after_reconnect(user=user)

    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    assert on_x(x, user, post.post_id)["deleted"] is True


def test_sweep_sends_again_a_deletion_whose_message_was_lost(x, worker):
    user = make_x_user(x)
    _, post = posted_go_live(x, user)
    # Requested long ago, but the task message never reached a worker.
    XPost.objects.filter(pk=post.pk).update(
        deletion_state=Deletion.REQUESTED,
        deletion_requested_at=timezone.now() - timedelta(minutes=1),
        updated_at=timezone.now() - timedelta(minutes=1),
    )

    assert post_deletion.sweep_stuck_deletions() == 1

    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    assert on_x(x, user, post.post_id)["deleted"] is True


def test_sweep_takes_over_a_deletion_whose_worker_died(x, worker):
    user = make_x_user(x)
    _, post = posted_go_live(x, user)
    # A worker claimed it, maybe even deleted it on X, then died before recording it.
    with XClient(SocialToken.objects.get(account__user=user).token) as client:
        client.delete_post(post.post_id)
    stale = timezone.now() - timedelta(seconds=settings.X_POST_STALE_S + 5)
    XPost.objects.filter(pk=post.pk).update(
        deletion_state=Deletion.DELETING,
        deletion_requested_at=stale,
        deletion_attempts=1,
        updated_at=stale,
    )

    assert post_deletion.sweep_stuck_deletions() == 1

    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED  # X's 404: done
    assert post.deletion_attempts == 2


def test_a_fresh_deletion_in_flight_is_not_swept(x):
    user = make_x_user(x)
    broadcast = live_broadcast(user)
    post = XPost.objects.create(
        purpose=XPost.Purpose.GO_LIVE,
        source_key=posting.go_live_source_key(broadcast),
        idempotency_key="fresh-deletion",
        user=user,
        broadcast=broadcast,
        text="t",
        state=XPost.State.POSTED,
        post_id="1",
        deletion_state=Deletion.DELETING,
        deletion_requested_at=timezone.now(),
    )

    assert post_deletion.sweep_stuck_deletions() == 0
    assert post_deletion.run_deletion_attempt(xpost_id=post.pk) is None


def test_tokens_are_forgotten_only_once_no_post_waits_for_deletion(x, worker):
    user = make_x_user(x)
    _, post = posted_go_live(x, user)
    x.add_fault("DELETE /2/tweets/:id", delay_s=2)  # the deletion takes a while

    post_deletion.delete_posts_of(user=user, reason="account_deleted")

    # The deletion needs the token: it stays while the deletion waits...
    assert post_deletion.forget_tokens_when_posts_deleted(user=user) is False
    assert SocialToken.objects.filter(account__user=user).exists()
    deletion_settled(post)
    assert post.deletion_state == Deletion.DELETED
    # ...and the task that looks again removes it once the post is gone.
    wait_for(
        lambda: not SocialToken.objects.filter(account__user=user).exists(),
        timeout=60,
        interval=0.5,
        what="the tokens to be forgotten",
    )
    assert AuditEntry.objects.filter(action="x_tokens_forgotten", target_id=str(user.pk)).exists()
    assert post_deletion.forget_tokens_when_posts_deleted(user=user) is True
