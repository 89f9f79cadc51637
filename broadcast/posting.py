"""Posts to X, exactly once, decided by the database and not by the broker.

One XPost record per (purpose, source): the go-live post of a broadcast, or a chat echo.
A Celery task (broadcast.tasks.post_watch_link) makes each attempt:

    queued --claim--> posting --X said yes--> posted
       ^                 |----429/5xx/timeout, before the deadline--> queued (retry later)
       |                 |----401 / invalid_grant--> needs_reconnect --sign in again--> queued
       |                 `----refused (daily cap, duplicate, 4xx, deadline)--> failed
       `-- sweep_stuck_posts(): queued too long (a lost message) is sent again; posting too
           long (a killed worker) is claimed again and reconciled first: the user's recent
           posts are read for the unique marker (the watch URL) before posting again.

The claim (queued -> posting) commits before X is called. Every state change of a
go-live post reaches the broadcaster's page through the channel layer, after commit.
"""

import hashlib
import logging
from datetime import timedelta

import requests
import tweepy
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.services import XReconnectRequired, XTemporarilyUnavailable, fresh_x_access_token
from broadcast import post_deletion
from broadcast.models import Broadcast, XPost
from broadcast.x_client import XClient, post_url
from broadcast.x_text import fit_post

log = logging.getLogger(__name__)

QUEUED_GRACE = timedelta(seconds=10)
EARLY_SLACK = timedelta(milliseconds=500)
MAX_BACKOFF_S = 60.0
X_POST_EVENT = "x_post.status"


def owner_group(slug):
    """The channel-layer group of a broadcast's owner pages (joined by the publish socket)."""
    return f"owner.{slug}"


def watch_url(broadcast):
    return settings.PUBLIC_URL + reverse("broadcast:watch", kwargs={"slug": broadcast.slug})


# Code points an XPost holds: its text, and its marker (which defaults to the text).
TEXT_CHARS = XPost._meta.get_field("text").max_length
MARKER_CHARS = XPost._meta.get_field("marker").max_length


def go_live_text(broadcast):
    """The title, then the watch link on its own line, within X's 280 (weighted): a long
    title (130 Japanese characters weigh 260) is cut with an ellipsis, never the link."""
    return fit_post(broadcast.title, f"\n{watch_url(broadcast)}", max_chars=TEXT_CHARS)


def chat_echo_text(*, message_text, link):
    """A chat message, then the watch link, within X's 280: the message is cut with an
    ellipsis if needed (never inside an emoji sequence or a link). The text is also
    the echo's marker, so it fits that column too."""
    return fit_post(message_text, f" {link}", max_chars=min(TEXT_CHARS, MARKER_CHARS))


def idempotency_key(purpose, source_key):
    return hashlib.sha256(f"{purpose}:{source_key}".encode()).hexdigest()[:40]


# --- requests -------------------------------------------------------------------------


def go_live_source_key(broadcast):
    return f"broadcast:{broadcast.pk}"


def go_live_post_of(broadcast):
    """The XPost of a broadcast's go-live post, or None when none was requested (yet)."""
    return XPost.objects.filter(
        purpose=XPost.Purpose.GO_LIVE, source_key=go_live_source_key(broadcast)
    ).first()


def request_go_live_post(*, broadcast):
    """Called when a broadcast's first keyframe arrives. Idempotent: one post per
    broadcast, whatever the number of calls. Does nothing unless "tell my followers"."""
    if not broadcast.tell_followers:
        return None
    return request_post(
        user=broadcast.owner,
        purpose=XPost.Purpose.GO_LIVE,
        source_key=go_live_source_key(broadcast),
        text=go_live_text(broadcast),
        broadcast=broadcast,
        marker=watch_url(broadcast),
    )


def request_post(*, user, purpose, source_key, text, broadcast=None, marker=None):
    """Queue one post to the user's X timeline, at most once per (purpose, source_key).
    Returns the XPost (the existing one when it was already requested).
    Refused (state failed) past the app-wide daily cap (`daily_cap`) or, for go-live
    posts, past the user's hourly cap (`user_cap`)."""
    now = timezone.now()
    try:
        with transaction.atomic():
            post, created = XPost.objects.get_or_create(
                purpose=purpose,
                source_key=source_key,
                defaults={
                    "idempotency_key": idempotency_key(purpose, source_key),
                    "user": user,
                    "broadcast": broadcast,
                    "text": text,
                    "marker": marker or text,
                    "deadline_at": now + timedelta(seconds=settings.X_POST_DEADLINE_S),
                },
            )
            if not created:
                return post
            _lock_caps()
            if _daily_posts(RESERVED_STATES, exclude_pk=post.pk) >= settings.X_DAILY_POST_CAP:
                _finish(post, state=XPost.State.FAILED, code="daily_cap")
                return post
            if purpose == XPost.Purpose.GO_LIVE and (
                _user_go_live_posts_last_hour(user, exclude_pk=post.pk)
                >= settings.X_USER_POSTS_PER_HOUR
            ):
                _finish(post, state=XPost.State.FAILED, code="user_cap")
                return post
            _notify_on_commit(post)
            _enqueue_on_commit(post.pk)
    except IntegrityError:
        return XPost.objects.get(purpose=purpose, source_key=source_key)
    return post


# Posts that count against the caps: made, being made, or waiting.
RESERVED_STATES = (
    XPost.State.QUEUED,
    XPost.State.POSTING,
    XPost.State.POSTED,
)
MADE_STATES = (XPost.State.POSTING, XPost.State.POSTED)
# Any constant: the key of the PostgreSQL advisory lock serializing the cap checks.
CAPS_LOCK_KEY = 0x0A1_C4B5


def _lock_caps():
    """Serialize "count, then reserve" across concurrent transactions until commit, so two
    requests cannot both take the last place under a cap. PostgreSQL: a transaction-level
    advisory lock. SQLite: the row just written already holds the database's write lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CAPS_LOCK_KEY])


def _start_of_day(now):
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _daily_posts(states, *, exclude_pk):
    """Today's (UTC) posts in `states`, counted against the app-wide cap."""
    return (
        XPost.objects.filter(created_at__gte=_start_of_day(timezone.now()), state__in=states)
        .exclude(pk=exclude_pk)
        .count()
    )


def _user_go_live_posts_last_hour(user, *, exclude_pk):
    return (
        XPost.objects.filter(
            user=user,
            purpose=XPost.Purpose.GO_LIVE,
            created_at__gte=timezone.now() - timedelta(hours=1),
            state__in=RESERVED_STATES,
        )
        .exclude(pk=exclude_pk)
        .count()
    )


# --- one attempt (run by the worker) ----------------------------------------------------


def run_post_attempt(*, xpost_id):
    """One attempt at an XPost; safe to run any number of times, concurrently too."""
    claimed = _claim(xpost_id)
    if claimed is None:
        return None
    post, reconcile_first = claimed
    try:
        with XClient(fresh_x_access_token(user=post.user)) as client:
            return _attempt(post, client, reconcile_first=reconcile_first)
    except XReconnectRequired as exc:
        return _mark_final(post.pk, state=XPost.State.NEEDS_RECONNECT, code=exc.code)
    except XTemporarilyUnavailable as exc:
        return _mark_retry(post.pk, code=exc.code, outcome_unknown=reconcile_first)
    except tweepy.Unauthorized:
        return _mark_final(post.pk, state=XPost.State.NEEDS_RECONNECT, code="unauthorized")
    except tweepy.TooManyRequests as exc:
        retry_after = exc.reset_time - timezone.now().timestamp() if exc.reset_time else None
        return _mark_retry(
            post.pk, code="rate_limited", retry_after=retry_after, outcome_unknown=reconcile_first
        )
    except tweepy.TwitterServerError as exc:
        # X may have made the post before failing: look before posting again.
        code = f"x_http_{exc.response.status_code}"
        return _mark_retry(post.pk, code=code, outcome_unknown=True)
    except tweepy.Forbidden as exc:
        return _mark_final(
            post.pk, state=XPost.State.FAILED, code="forbidden", reason=_x_message(exc)
        )
    except tweepy.HTTPException as exc:
        return _mark_final(
            post.pk, state=XPost.State.FAILED, code="rejected", reason=_x_message(exc)
        )
    except requests.Timeout:
        return _mark_retry(post.pk, code="timeout", outcome_unknown=True, at_least=_timeout())
    except requests.RequestException:
        return _mark_retry(post.pk, code="network_error", outcome_unknown=True)


def _attempt(post, client, *, reconcile_first):
    if reconcile_first:
        found = client.find_recent_post(
            x_user_id=post.user.x_id,
            marker=post.marker,
            start_time=post.created_at - timedelta(minutes=5),
        )
        if found:
            return _mark_posted(post.pk, found)
        if post.deadline_at and timezone.now() > post.deadline_at:
            return _mark_final(post.pk, state=XPost.State.FAILED, code="deadline")
        if post_deletion.deletion_asked(post):
            return _mark_final(post.pk, state=XPost.State.FAILED, code="withdrawn")
    try:
        return _mark_posted(post.pk, client.post_text(post.text))
    except tweepy.Forbidden as exc:
        if _is_duplicate(exc):
            return _after_duplicate(post, client)
        raise


def _timeout():
    return settings.X_HTTP_TIMEOUT


def _is_duplicate(exc):
    text = " ".join(str(m) for m in exc.api_messages) + " " + str(exc)
    return "duplicate" in text.lower()


def _x_message(exc):
    return "; ".join(str(m) for m in exc.api_messages)[:300] or str(exc)[:300]


def _after_duplicate(post, client):
    """X refused the text as a duplicate: most likely our own earlier attempt made it."""
    try:
        found = client.find_recent_post(
            x_user_id=post.user.x_id,
            marker=post.marker,
            start_time=post.created_at - timedelta(minutes=5),
        )
    except (tweepy.TweepyException, requests.RequestException):
        found = None
    if found:
        return _mark_posted(post.pk, found)
    return _mark_final(post.pk, state=XPost.State.FAILED, code="duplicate")


@transaction.atomic
def _claim(xpost_id):
    post = (
        XPost.objects.select_for_update(of=("self",))
        .select_related("user", "broadcast")
        .filter(pk=xpost_id)
        .first()
    )
    if post is None:
        return None
    now = timezone.now()
    if post.state == XPost.State.QUEUED:
        if post.next_attempt_at and post.next_attempt_at > now + EARLY_SLACK:
            return None  # a copy of the message came early; the scheduled one will do
        reconcile_first = post.outcome_unknown
    elif post.state == XPost.State.POSTING:
        stale = timedelta(seconds=settings.X_POST_STALE_S)
        if post.posting_started_at and now - post.posting_started_at < stale:
            return None  # another worker is on it right now
        reconcile_first = True  # a worker died mid-attempt: X may have the post already
    else:
        return None
    if post.deadline_at and now > post.deadline_at and not reconcile_first:
        _finish(post, state=XPost.State.FAILED, code=post.last_error_code or "deadline")
        return None
    if not reconcile_first and post_deletion.deletion_asked(post):
        # Deleted before it was made (a takedown in the first seconds): never post it.
        _finish(post, state=XPost.State.FAILED, code="withdrawn")
        return None
    if not reconcile_first:
        _lock_caps()
    if not reconcile_first and _daily_posts(MADE_STATES, exclude_pk=post.pk) >= (
        settings.X_DAILY_POST_CAP
    ):
        _finish(post, state=XPost.State.FAILED, code="daily_cap")
        return None
    post.state = XPost.State.POSTING
    post.attempts += 1
    post.posting_started_at = now
    post.next_attempt_at = None
    post.save(
        update_fields=["state", "attempts", "posting_started_at", "next_attempt_at", "updated_at"]
    )
    _notify_on_commit(post)
    return post, reconcile_first


def _locked(xpost_id):
    return (
        XPost.objects.select_for_update(of=("self",))
        .select_related("user", "broadcast")
        .get(pk=xpost_id)
    )


@transaction.atomic
def _mark_posted(xpost_id, x_post_id):
    post = _locked(xpost_id)
    if post.state == XPost.State.POSTED:
        return post
    post.state = XPost.State.POSTED
    post.post_id = x_post_id
    post.post_url = post_url(handle=post.user.handle, post_id=x_post_id)
    post.posted_at = timezone.now()
    post.last_error_code = post.last_error_reason = ""
    post.outcome_unknown = False
    post.save()
    _notify_on_commit(post)
    post_deletion.after_post_settled(post)  # landed after its deletion was asked
    return post


@transaction.atomic
def _mark_final(xpost_id, *, state, code, reason=""):
    post = _locked(xpost_id)
    if post.state != XPost.State.POSTING:
        return post  # settled meanwhile by another attempt
    _finish(post, state=state, code=code, reason=reason)
    return post


def _finish(post, *, state, code, reason=""):
    post.state = state
    post.last_error_code = code
    post.last_error_reason = reason
    post.next_attempt_at = None
    post.save()
    _notify_on_commit(post)
    post_deletion.after_post_settled(post)


def backoff_seconds(attempts):
    return min(MAX_BACKOFF_S, settings.X_POST_RETRY_BASE_S * 2 ** max(0, attempts - 1))


@transaction.atomic
def _mark_retry(xpost_id, *, code, retry_after=None, outcome_unknown=False, at_least=0.0):
    post = _locked(xpost_id)
    if post.state != XPost.State.POSTING:
        return post
    delay = max(backoff_seconds(post.attempts), retry_after or 0.0, at_least)
    next_at = timezone.now() + timedelta(seconds=delay)
    post.last_error_code = code
    post.outcome_unknown = outcome_unknown
    if post.deadline_at and next_at > post.deadline_at:
        _finish(post, state=XPost.State.FAILED, code=code, reason="deadline")
        return post
    post.state = XPost.State.QUEUED
    post.next_attempt_at = next_at
    post.save()
    _notify_on_commit(post)
    _enqueue_on_commit(post.pk, countdown=delay)
    return post


# --- recovery -------------------------------------------------------------------------


def sweep_stuck_posts():
    """Run by beat: send again what a lost message or a killed worker left behind.
    Returns how many records were sent again."""
    now = timezone.now()
    stale = timedelta(seconds=settings.X_POST_STALE_S)
    stuck = XPost.objects.filter(
        Q(state=XPost.State.QUEUED, next_attempt_at__lte=now - QUEUED_GRACE)
        | Q(
            state=XPost.State.QUEUED,
            next_attempt_at__isnull=True,
            updated_at__lte=now - QUEUED_GRACE,
        )
        | Q(state=XPost.State.POSTING, posting_started_at__lte=now - stale)
    ).values_list("pk", flat=True)
    ids = list(stuck[:500])
    for pk in ids:
        _enqueue(pk)
    return len(ids)


@transaction.atomic
def retry_posts_after_reconnect(*, user):
    """After the user signs in with X again, try their blocked go-live posts once more
    (only for broadcasts still live)."""
    posts = XPost.objects.select_for_update(of=("self",)).filter(
        user=user,
        state=XPost.State.NEEDS_RECONNECT,
        purpose=XPost.Purpose.GO_LIVE,
        broadcast__state=Broadcast.State.LIVE,
    )
    now = timezone.now()
    for post in posts:
        post.state = XPost.State.QUEUED
        post.outcome_unknown = False
        post.last_error_code = ""
        post.next_attempt_at = None
        post.deadline_at = now + timedelta(seconds=settings.X_POST_DEADLINE_S)
        post.save()
        _notify_on_commit(post)
        _enqueue_on_commit(post.pk)
    # Deletions that failed on the dead token can work now.
    post_deletion.retry_failed_deletions(user=user)


# --- side effects, after commit ---------------------------------------------------------


def _enqueue(xpost_id, countdown=None):
    from broadcast.tasks import post_watch_link

    try:
        post_watch_link.apply_async(args=[xpost_id], countdown=countdown)
    except Exception:
        # The record stays queued; the sweep sends it again once the broker is back.
        log.exception("could not enqueue x post %s", xpost_id)


def _enqueue_on_commit(xpost_id, countdown=None):
    transaction.on_commit(lambda: _enqueue(xpost_id, countdown))


def status_message(post):
    """What the broadcaster's page shows: the state, a link once posted, a reason code."""
    if post is None:
        return {"state": None, "post_url": None, "reason": None}
    return {
        "state": post.state,
        "post_url": post.post_url or None,
        "reason": (post.last_error_code or None) if post.state != XPost.State.POSTED else None,
    }


def _notify_on_commit(post):
    if post.purpose != XPost.Purpose.GO_LIVE or post.broadcast_id is None:
        return
    group = owner_group(post.broadcast.slug)
    event = {"type": X_POST_EVENT, **status_message(post)}
    transaction.on_commit(lambda: _group_send(group, event))


def _group_send(group, event):
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        log.exception("could not send %s to %s", event.get("type"), group)
