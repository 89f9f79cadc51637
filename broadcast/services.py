"""Writes about broadcasts: the created -> live -> ended life cycle, the publisher's
lease, peak viewers. The media itself flows through broadcast.hub; this module tells the
hub when a broadcast ends so that every viewer socket closes with a final message."""

import asyncio
import contextlib
import json
import logging
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.selectors import can_broadcast
from broadcast.models import Broadcast
from broadcast.posting import request_go_live_post
from safety.notices import not_live_until
from safety.selectors import active_restriction

logger = logging.getLogger(__name__)

# Without media for this long, a live broadcast ends as "broadcaster disconnected".
IDLE_TIMEOUT = timedelta(seconds=settings.BROADCAST_IDLE_TIMEOUT)
# A broadcast created but never sent from ends after this long.
NOT_STARTED_TIMEOUT = timedelta(minutes=15)
# The lease is written at most this often while media flows.
MEDIA_LEASE_WRITE_EVERY = timedelta(seconds=5)


class EndReason:
    OWNER = "owner"
    DISCONNECTED = "broadcaster_disconnected"
    ADMIN = "admin"
    NOT_STARTED = "not_started"
    # Taken down by staff for breaking the rules (safety.takedown.take_down).
    REMOVED = "removed"
    RESTRICTED = "restricted"
    BANNED = "banned"


class Restricted(PermissionDenied):
    """The owner is restricted from going live: says until when."""

    code = "restricted"

    def __init__(self, restriction):
        self.restriction = restriction
        self.until = restriction.until
        super().__init__(not_live_until(restriction.until))


def user_may_broadcast(user):
    """Signed in and allowed to go live (18+, not restricted)."""
    return can_broadcast(user) and active_restriction(user) is None


def refuse_if_restricted(user):
    """Raise Restricted (with the date) while the user may not go live."""
    restriction = active_restriction(user)
    if restriction is not None:
        raise Restricted(restriction)


@transaction.atomic
def create_broadcast(*, owner, title, visibility, tell_followers, show_picture=True):
    """The go-live button: a new broadcast, "not started" until its publisher connects
    (see go_live). The X post waits for the first keyframe (first_keyframe_arrived).
    `show_picture`: the live picture may be the link card's image (thumbnails.py)."""
    refuse_if_restricted(owner)
    if not can_broadcast(owner):
        raise PermissionDenied(_("You cannot go live from this account."))
    # One broadcast at a time per person: a forgotten tab's broadcast ends here.
    for stale in Broadcast.objects.select_for_update().filter(
        owner=owner, state__in=[Broadcast.State.CREATED, Broadcast.State.LIVE]
    ):
        end_broadcast(broadcast=stale, reason=EndReason.OWNER)
    return Broadcast.objects.create(
        owner=owner,
        title=title,
        visibility=visibility,
        tell_followers=tell_followers,
        show_picture=show_picture,
        state=Broadcast.State.CREATED,
    )


def go_live(*, broadcast):
    """created -> live, when the owner's publisher connects. Idempotent."""
    now = timezone.now()
    started = Broadcast.objects.filter(pk=broadcast.pk, state=Broadcast.State.CREATED).update(
        state=Broadcast.State.LIVE, started_at=now, last_media_at=now
    )
    if started:
        # Kept on the user: /u/<handle>/ shows it after the purge removed the broadcast.
        get_user_model().objects.filter(pk=broadcast.owner_id).update(last_live_at=now)
    broadcast.refresh_from_db()
    return broadcast


def start_broadcast(*, owner, title, visibility, tell_followers):
    """Create and put live at once (benches, admin tools)."""
    broadcast = create_broadcast(
        owner=owner, title=title, visibility=visibility, tell_followers=tell_followers
    )
    return go_live(broadcast=broadcast)


def end_broadcast(*, broadcast, reason, by=None):
    """End a broadcast (owner, timeout, admin). Idempotent. Every viewer socket gets a
    final "ended" message and is closed, in every process, once this commits."""
    with transaction.atomic():
        updated = Broadcast.objects.filter(
            pk=broadcast.pk, state__in=[Broadcast.State.CREATED, Broadcast.State.LIVE]
        ).update(state=Broadcast.State.ENDED, ended_at=timezone.now(), end_reason=reason)
        if not updated:
            return False
        broadcast.refresh_from_db()
        slug = broadcast.slug
        transaction.on_commit(lambda: notify_ended(slug=slug, reason=reason))
    logger.info("broadcast %s ended (%s) by %s", slug, reason, by or "system")
    return True


def notify_ended(*, slug, reason):
    """Tell every process's hub. Processes that miss this (none is listening, Redis
    hiccup) still notice within a few seconds: the hub polls the state of its streams."""
    from broadcast import hub as media_hub

    message = {"type": "ended", "reason": reason}
    if settings.REDIS_URL:
        import redis

        prefix = media_hub.redis_prefix()
        payload = media_hub.encode(media_hub.KIND_CONTROL, 0, 0, 0, json.dumps(message).encode())
        try:
            with media_hub.sync_redis().pipeline(transaction=False) as pipe:
                pipe.delete(f"{prefix}:init:{slug}", f"{prefix}:gop:{slug}")
                pipe.publish(f"{prefix}:stream:{slug}", payload)
                pipe.execute()
        except redis.RedisError:
            logger.warning("could not publish the end of %s; the hubs will poll it", slug)
        return
    hub = media_hub.peek_hub()
    if hub is None or hub.loop is None or not hub.loop.is_running():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is hub.loop:
        hub.loop.create_task(hub.end(slug, reason))
    else:
        asyncio.run_coroutine_threadsafe(hub.end(slug, reason), hub.loop)


def end_broadcast_by_owner(*, broadcast, user):
    if broadcast.owner_id != user.pk:
        raise PermissionDenied(_("Only the broadcaster can end this broadcast."))
    return end_broadcast(broadcast=broadcast, reason=EndReason.OWNER, by=user)


def record_media_activity(*, broadcast_id, now=None):
    """Extend the publisher's lease (called at most every MEDIA_LEASE_WRITE_EVERY)."""
    now = now or timezone.now()
    return Broadcast.objects.filter(pk=broadcast_id, state=Broadcast.State.LIVE).update(
        last_media_at=now
    )


def end_idle_broadcasts(*, now=None):
    """The sweep: live broadcasts whose publisher sent nothing for IDLE_TIMEOUT end as
    "broadcaster disconnected", even if the process holding the publisher was killed."""
    now = now or timezone.now()
    never_started = Broadcast.objects.filter(
        state=Broadcast.State.CREATED, created_at__lt=now - NOT_STARTED_TIMEOUT
    )
    for broadcast in never_started:
        end_broadcast(broadcast=broadcast, reason=EndReason.NOT_STARTED)
    stale = Broadcast.objects.filter(
        state=Broadcast.State.LIVE, last_media_at__lt=now - IDLE_TIMEOUT
    ) | Broadcast.objects.filter(
        state=Broadcast.State.LIVE, last_media_at__isnull=True, started_at__lt=now - IDLE_TIMEOUT
    )
    ended = []
    for broadcast in stale:
        if end_broadcast(broadcast=broadcast, reason=EndReason.DISCONNECTED):
            ended.append(broadcast.slug)
    return ended


def note_viewer_count(*, slug, count):
    """Keep the peak; a single conditional UPDATE, safe from several processes."""
    return Broadcast.objects.filter(slug=slug, peak_viewers__lt=count).update(peak_viewers=count)


def first_keyframe_arrived(*, broadcast):
    """The broadcast really started: now, and only now, followers may be told on X."""
    request_go_live_post(broadcast=broadcast)


@database_sync_to_async
def _housekeeping_db(slugs, counts):
    for slug, count in counts.items():
        note_viewer_count(slug=slug, count=count)
    end_idle_broadcasts()
    return list(
        Broadcast.objects.filter(slug__in=slugs, state=Broadcast.State.ENDED).values_list(
            "slug", "end_reason"
        )
    )


async def hub_housekeeping(hub):
    """Run by each process's hub every couple of seconds: store peak viewers, end idle
    broadcasts, and close local sockets of broadcasts that ended elsewhere (admin,
    another process, the beat sweep)."""
    slugs = [slug for slug, s in hub.streams.items() if (s.viewers or s.publishers)]
    if not slugs:
        return
    counts = {slug: hub.streams[slug].last_count for slug in slugs if hub.streams[slug].last_count}
    for slug, reason in await _housekeeping_db(slugs, counts):
        stream = hub.streams.get(slug)
        if stream is not None and (stream.viewers or stream.publishers):
            with contextlib.suppress(Exception):
                await hub._deliver_control(slug, {"type": "ended", "reason": reason})
