"""Deleting posts OnAir made on X (takedowns, deleted accounts, bans), built like posting
(broadcast/posting.py): the database decides every state change, a Celery task
(broadcast.tasks.delete_x_post) makes each attempt, and a sweep recovers lost ones.

Each XPost carries a deletion state beside its posting state:

    "" --request--> requested --claim--> deleting --X said yes, or 404--> deleted
                     ^  |  ^                |----429/5xx/timeout, before the deadline--> requested
                     |  |  |                `----dead token, 401, 403, other 4xx, deadline--> failed
                     |  |  `-- a post still being made: posting asks once it settles (posted,
                     |  |      failed, needs_reconnect); a queued post never attempted is
                     |  |      withdrawn instead of made (posting's claim)
                     |  `-- sweep_stuck_deletions(): requested too long (a lost message) is
                     |      sent again; deleting too long (a killed worker) is claimed again:
                     |      a second DELETE is harmless, X's 404 counts as done
                     `-- failed is asked again by a new request, or when the user reconnects

"deleted" means X no longer has the post: a post that never made it is deleted without a
call, and one whose last attempt may have reached X (outcome unknown) is first looked for
by its marker in the user's recent posts. "failed" is what staff see as "could not
delete", with the post's link, in the XPost admin.

Account deletion and bans delete posts before tokens: forget_tokens_when_posts_deleted()
removes the user's X tokens only once none of their posts is waiting for deletion.
"""

import logging
from datetime import timedelta

import requests
import tweepy
from allauth.socialaccount.models import SocialToken
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.services import XReconnectRequired, XTemporarilyUnavailable, fresh_x_access_token
from broadcast.models import XPost
from broadcast.x_client import XClient, post_url
from safety import audit

log = logging.getLogger(__name__)

Deletion = XPost.DeletionState
# The deletion waits for these posting states to settle (posting asks once they do).
BEING_MADE = (XPost.State.QUEUED, XPost.State.POSTING)
WAITING = (Deletion.REQUESTED, Deletion.DELETING)
REQUESTED_GRACE = timedelta(seconds=10)
MAX_BACKOFF_S = 60.0
# How often forget_tokens_when_posts_deleted looks again while deletions are pending.
FORGET_RECHECK_S = 15.0
FORGET_RECHECK_MAX_S = 300.0


# --- requests -------------------------------------------------------------------------


def request_post_deletion(*, posts, reason):
    """Ask for these XPosts (a queryset or a list) to be deleted from X. Idempotent: a
    post already asked for, or deleted, is left alone; a failed deletion is asked again.
    Returns the posts newly asked for. `reason` ("takedown", "account_deleted", "ban")
    goes to the log and the audit log."""
    ids = [post.pk for post in posts]
    requested = []
    now = timezone.now()
    with transaction.atomic():
        locked = XPost.objects.select_for_update(of=("self",)).select_related("user")
        for post in locked.filter(pk__in=ids).order_by("pk"):
            if post.deletion_state not in (Deletion.NONE, Deletion.FAILED):
                continue
            post.deletion_state = Deletion.REQUESTED
            post.deletion_requested_at = now
            post.deletion_attempts = 0
            post.deletion_error = ""
            post.save(update_fields=_DELETION_FIELDS)
            requested.append(post)
            if post.state not in BEING_MADE:
                enqueue_on_commit(post.pk)
        if requested:
            users = {post.user_id for post in requested}
            audit.record(
                actor=None,
                action="x_post_deletion_requested",
                target_kind="x_posts",
                target_id=users.pop() if len(users) == 1 else "",
                snapshot={"posts": [_post_snapshot(post) for post in requested]},
                reason=reason,
            )
    if requested:
        log.info("deletion of %d x posts requested (%s)", len(requested), reason)
    return requested


def delete_posts_of(*, broadcast=None, user=None, reason):
    """Delete from X the posts OnAir made for a broadcast (its go-live post and chat
    echoes) or for a user (all of them), or both filters at once."""
    if broadcast is None and user is None:
        raise ValueError("delete_posts_of needs a broadcast or a user")
    posts = XPost.objects.exclude(deletion_state=Deletion.DELETED)
    if broadcast is not None:
        posts = posts.filter(broadcast=broadcast)
    if user is not None:
        posts = posts.filter(user=user)
    return request_post_deletion(posts=list(posts), reason=reason)


def after_post_settled(post):
    """Called by posting, inside its transaction, when a post reaches a final state: a
    deletion asked while it was being made goes ahead now."""
    if post.deletion_state == Deletion.REQUESTED:
        enqueue_on_commit(post.pk)


def deletion_asked(post):
    """Posting asks before each attempt: a post whose deletion was asked is not made."""
    return post.deletion_state != Deletion.NONE


def retry_failed_deletions(*, user):
    """The user signed in with X again: their token works, so try what failed again."""
    return request_post_deletion(
        posts=XPost.objects.filter(user=user, deletion_state=Deletion.FAILED),
        reason="reconnected",
    )


def forget_tokens_when_posts_deleted(*, user, recheck=0):
    """Delete the user's X tokens, but only once none of their posts waits for deletion
    (the deletions need the token). Returns True when the tokens are gone; otherwise a
    task looks again later, less often each time, and deletes them then."""
    if not XPost.objects.filter(user=user, deletion_state__in=WAITING).exists():
        with transaction.atomic():
            forgotten, _ = SocialToken.objects.filter(
                account__user=user, account__provider="twitter_oauth2"
            ).delete()
            if forgotten:
                audit.record(
                    actor=None,
                    action="x_tokens_forgotten",
                    target_kind="user",
                    target_id=user.pk,
                    snapshot={"user_id": user.pk, "handle": user.handle},
                )
        return True
    countdown = min(FORGET_RECHECK_MAX_S, FORGET_RECHECK_S * 2**recheck)
    user_id = user.pk
    transaction.on_commit(lambda: _schedule_forget(user_id, recheck + 1, countdown))
    return False


# --- one attempt (run by the worker) ----------------------------------------------------


def run_deletion_attempt(*, xpost_id):
    """One attempt at deleting an XPost from X; safe to run any number of times."""
    post = _claim(xpost_id)
    if post is None:
        return None
    try:
        if not post.post_id and not post.outcome_unknown:
            return _mark_deleted(post.pk)  # never made: nothing on X
        with XClient(fresh_x_access_token(user=post.user)) as client:
            return _attempt(post, client)
    except XReconnectRequired as exc:
        return _mark_failed(post.pk, error=exc.code)
    except XTemporarilyUnavailable as exc:
        return _mark_retry(post.pk, code=exc.code, retry_after=exc.retry_after)
    except tweepy.NotFound:
        return _mark_deleted(post.pk)  # gone already (deleted by hand on X, or by us)
    except tweepy.Unauthorized:
        return _mark_failed(post.pk, error="unauthorized")
    except tweepy.TooManyRequests as exc:
        retry_after = exc.reset_time - timezone.now().timestamp() if exc.reset_time else None
        return _mark_retry(post.pk, code="rate_limited", retry_after=retry_after)
    except tweepy.TwitterServerError as exc:
        return _mark_retry(post.pk, code=f"x_http_{exc.response.status_code}")
    except tweepy.Forbidden as exc:
        return _mark_failed(post.pk, error=f"forbidden: {_x_message(exc)}")
    except tweepy.HTTPException as exc:
        return _mark_failed(post.pk, error=f"rejected: {_x_message(exc)}")
    except requests.Timeout:
        return _mark_retry(post.pk, code="timeout")
    except requests.RequestException:
        return _mark_retry(post.pk, code="network_error")


def _attempt(post, client):
    post_id = post.post_id
    if not post_id:
        # The last posting attempt may have reached X: look for it before calling it gone.
        post_id = client.find_recent_post(
            x_user_id=post.user.x_id,
            marker=post.marker,
            start_time=post.created_at - timedelta(minutes=5),
        )
        if post_id is None:
            return _mark_deleted(post.pk)
    client.delete_post(post_id)
    return _mark_deleted(post.pk, found_id=post_id)


@transaction.atomic
def _claim(xpost_id):
    post = _locked(xpost_id)
    if post is None:
        return None
    now = timezone.now()
    if post.deletion_state == Deletion.REQUESTED:
        if post.state in BEING_MADE:
            return None  # posting asks again once the post settles
    elif post.deletion_state == Deletion.DELETING:
        if post.updated_at > now - timedelta(seconds=settings.X_POST_STALE_S):
            return None  # another worker is on it right now
    else:
        return None
    if now > _deadline(post):
        _finish(post, state=Deletion.FAILED, error=f"deadline: {post.deletion_error}")
        return None
    post.deletion_state = Deletion.DELETING
    post.deletion_attempts += 1
    post.save(update_fields=["deletion_state", "deletion_attempts", "updated_at"])
    return post


def _locked(xpost_id):
    return (
        XPost.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=xpost_id)
        .first()
    )


@transaction.atomic
def _mark_deleted(xpost_id, found_id=None):
    post = _locked(xpost_id)
    if post.deletion_state != Deletion.DELETING:
        return post  # settled meanwhile by another attempt
    if found_id and not post.post_id:
        # The lost post, found by its marker: keep its id and link for the record.
        post.post_id = found_id
        post.post_url = post_url(handle=post.user.handle, post_id=found_id)
        post.save(update_fields=["post_id", "post_url"])
    _finish(post, state=Deletion.DELETED)
    return post


@transaction.atomic
def _mark_failed(xpost_id, *, error):
    post = _locked(xpost_id)
    if post.deletion_state == Deletion.DELETING:
        _finish(post, state=Deletion.FAILED, error=error)
    return post


def backoff_seconds(attempts):
    return min(MAX_BACKOFF_S, settings.X_POST_RETRY_BASE_S * 2 ** max(0, attempts - 1))


@transaction.atomic
def _mark_retry(xpost_id, *, code, retry_after=None):
    post = _locked(xpost_id)
    if post.deletion_state != Deletion.DELETING:
        return post
    delay = max(backoff_seconds(post.deletion_attempts), retry_after or 0.0)
    if timezone.now() + timedelta(seconds=delay) > _deadline(post):
        _finish(post, state=Deletion.FAILED, error=f"deadline: {code}")
        return post
    post.deletion_state = Deletion.REQUESTED
    post.deletion_error = code  # the last error, for staff, while it keeps trying
    post.save(update_fields=["deletion_state", "deletion_error", "updated_at"])
    enqueue_on_commit(post.pk, countdown=delay)
    return post


def _finish(post, *, state, error=""):
    post.deletion_state = state
    post.deletion_error = error[:300]
    post.deleted_at = timezone.now() if state == Deletion.DELETED else None
    post.save(update_fields=_DELETION_FIELDS)
    audit.record(
        actor=None,
        action="x_post_deleted" if state == Deletion.DELETED else "x_post_deletion_failed",
        target_kind="x_post",
        target_id=post.pk,
        snapshot=_post_snapshot(post),
        reason=error,
        attempts=post.deletion_attempts,
    )
    if state == Deletion.FAILED:
        log.warning("could not delete x post %s (%s): %s", post.pk, post.post_url, error)


def _deadline(post):
    requested = post.deletion_requested_at or post.updated_at
    return requested + timedelta(seconds=settings.X_POST_DELETE_DEADLINE_S)


def _x_message(exc):
    return "; ".join(str(m) for m in exc.api_messages)[:200] or str(exc)[:200]


def _post_snapshot(post):
    return {
        "xpost_id": post.pk,
        "purpose": post.purpose,
        "post_id": post.post_id,
        "post_url": post.post_url,
        "user_id": post.user_id,
        "handle": post.user.handle,
        "broadcast_id": post.broadcast_id,
    }


_DELETION_FIELDS = [
    "deletion_state",
    "deletion_requested_at",
    "deletion_attempts",
    "deletion_error",
    "deleted_at",
    "updated_at",
]


# --- recovery -------------------------------------------------------------------------


def sweep_stuck_deletions():
    """Run by beat (with the posting sweep): send again what a lost message or a killed
    worker left behind. Returns how many records were sent again."""
    now = timezone.now()
    stale = timedelta(seconds=settings.X_POST_STALE_S)
    candidates = (
        XPost.objects.filter(
            Q(deletion_state=Deletion.REQUESTED, updated_at__lte=now - REQUESTED_GRACE)
            | Q(deletion_state=Deletion.DELETING, updated_at__lte=now - stale)
        )
        .exclude(state__in=BEING_MADE)
        .values_list("pk", "deletion_state", "deletion_attempts", "updated_at")[:500]
    )
    ids = [
        pk
        for pk, state, attempts, updated_at in candidates
        # A retry waits for its backoff before it counts as lost.
        if state == Deletion.DELETING
        or updated_at + timedelta(seconds=backoff_seconds(attempts) if attempts else 0)
        <= now - REQUESTED_GRACE
    ]
    for pk in ids:
        _enqueue(pk)
    return len(ids)


# --- side effects, after commit ---------------------------------------------------------


def _enqueue(xpost_id, countdown=None):
    from broadcast.tasks import delete_x_post

    try:
        delete_x_post.apply_async(args=[xpost_id], countdown=countdown)
    except Exception:
        # The record stays requested; the sweep sends it again once the broker is back.
        log.exception("could not enqueue the deletion of x post %s", xpost_id)


def enqueue_on_commit(xpost_id, countdown=None):
    transaction.on_commit(lambda: _enqueue(xpost_id, countdown))


def _schedule_forget(user_id, recheck, countdown):
    from broadcast.tasks import forget_x_tokens

    try:
        forget_x_tokens.apply_async(args=[user_id, recheck], countdown=countdown)
    except Exception:
        log.exception("could not schedule forgetting the x tokens of user %s", user_id)
