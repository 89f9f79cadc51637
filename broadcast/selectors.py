"""Reads about broadcasts: listings, one broadcast's public state, the live viewer count."""

import logging
import time

from django.conf import settings

from broadcast import hub as media_hub
from broadcast.models import Broadcast

logger = logging.getLogger(__name__)


def live_public_broadcasts():
    """What the home page lists: live and public, newest first."""
    return (
        Broadcast.objects.filter(state=Broadcast.State.LIVE, visibility=Broadcast.Visibility.PUBLIC)
        .select_related("owner")
        .order_by("-started_at")
    )


def broadcast_by_slug(slug):
    return Broadcast.objects.select_related("owner").filter(slug=slug).first()


def live_broadcast_of(user):
    """The user's live broadcast, if any."""
    return (
        Broadcast.objects.filter(owner=user, state=Broadcast.State.LIVE)
        .order_by("-started_at")
        .first()
    )


def current_broadcast_of(user):
    """The broadcast the user is sending or about to send (live, or not started yet)."""
    return (
        Broadcast.objects.filter(
            owner=user, state__in=[Broadcast.State.CREATED, Broadcast.State.LIVE]
        )
        .order_by("-created_at")
        .first()
    )


def last_broadcast_of(user):
    return (
        Broadcast.objects.filter(owner=user, state=Broadcast.State.ENDED, started_at__isnull=False)
        .order_by("-ended_at")
        .first()
    )


def viewer_count(slug):
    """Open viewer sockets in every process: heartbeats with an expiry in Redis, or this
    process's own count in the embedded (single process) mode."""
    if settings.REDIS_URL:
        import redis

        key = f"{media_hub.redis_prefix()}:viewers:{slug}"
        try:
            return media_hub.sync_redis().zcount(key, time.time() - media_hub.PRESENCE_TTL, "+inf")
        except redis.RedisError:
            logger.warning("viewer count unavailable for %s", slug)
            return None
    hub = media_hub.peek_hub()
    stream = hub.streams.get(slug) if hub else None
    return len(stream.viewers) if stream else 0


def broadcast_state(broadcast):
    """The public JSON state of /api/broadcasts/<slug>."""
    owner = broadcast.owner
    return {
        "slug": broadcast.slug,
        "state": broadcast.state,
        "title": broadcast.title,
        "broadcaster": {
            "handle": owner.handle,
            "name": owner.name_for_display,
        },
        "started_at": broadcast.started_at.isoformat() if broadcast.started_at else None,
        "ended_at": broadcast.ended_at.isoformat() if broadcast.ended_at else None,
        "viewers": viewer_count(broadcast.slug) if broadcast.state == Broadcast.State.LIVE else 0,
    }
