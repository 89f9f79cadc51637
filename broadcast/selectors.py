"""Reads about broadcasts: listings, one broadcast's public state, the live viewer count."""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from broadcast import hub as media_hub
from broadcast import thumbnails
from broadcast.models import Broadcast
from broadcast.services import EndReason

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


def _viewers_key(slug):
    return f"{media_hub.redis_prefix()}:viewers:{slug}"


def _local_viewer_count(slug):
    hub = media_hub.peek_hub()
    stream = hub.streams.get(slug) if hub else None
    return len(stream.viewers) if stream else 0


def viewer_count(slug):
    """Open viewer sockets in every process: heartbeats with an expiry in Redis, or this
    process's own count in the embedded (single process) mode."""
    if settings.REDIS_URL:
        import redis

        key = _viewers_key(slug)
        try:
            return media_hub.sync_redis().zcount(key, time.time() - media_hub.PRESENCE_TTL, "+inf")
        except redis.RedisError:
            logger.warning("viewer count unavailable for %s", slug)
            return None
    return _local_viewer_count(slug)


def viewer_counts(slugs):
    """{slug: count} for many broadcasts at once: one Redis round trip for all of them
    (a listing would otherwise pay one per card). A count is None when Redis is down."""
    slugs = list(slugs)
    if not settings.REDIS_URL:
        return {slug: _local_viewer_count(slug) for slug in slugs}
    if not slugs:
        return {}
    import redis

    since = time.time() - media_hub.PRESENCE_TTL
    try:
        with media_hub.sync_redis().pipeline(transaction=False) as pipe:
            for slug in slugs:
                pipe.zcount(_viewers_key(slug), since, "+inf")
            return dict(zip(slugs, pipe.execute(), strict=True))
    except redis.RedisError:
        logger.warning("viewer counts unavailable for %d broadcasts", len(slugs))
        return dict.fromkeys(slugs)


def public_name(user):
    """The name public JSON shows: never the internal user name (x<X id>)."""
    return user.display_name or (f"@{user.handle}" if user.handle else "")


def broadcast_state(broadcast):
    """The public JSON state of /api/broadcasts/<slug>."""
    owner = broadcast.owner
    return {
        "slug": broadcast.slug,
        "state": broadcast.state,
        "title": broadcast.title,
        "broadcaster": {
            "handle": owner.handle,
            "name": public_name(owner),
        },
        "started_at": broadcast.started_at.isoformat() if broadcast.started_at else None,
        "ended_at": broadcast.ended_at.isoformat() if broadcast.ended_at else None,
        "viewers": viewer_count(broadcast.slug) if broadcast.state == Broadcast.State.LIVE else 0,
    }


# --- the live listing (home page and GET /api/live) -----------------------------------

LIVE_LISTING_LIMIT = 50
# Every open home page polls the listing: one computation serves them all for this long.
LIVE_LISTING_CACHE_S = 2
_LIVE_LISTING_KEY = "broadcast:live-listing"


def _listed_thumbnail(broadcast):
    """The live picture's address with its time as a cache-busting query, only where the
    broadcaster lets the picture be shown (thumbnails.picture_on_card) and there is one
    now: a card never points at a picture that would 404."""
    if not thumbnails.picture_on_card(broadcast):
        return None
    picture = thumbnails.latest_thumbnail(broadcast.slug)
    if picture is None:
        return None
    path = reverse("broadcast:thumbnail", kwargs={"slug": broadcast.slug})
    return f"{path}?t={int(picture.taken_at.timestamp() * 1000)}"


def _listing_entry(broadcast, viewers):
    """One card: only what the card shows, nothing else about the broadcaster."""
    owner = broadcast.owner
    handle = owner.handle
    return {
        "slug": broadcast.slug,
        "title": broadcast.title,
        "url": broadcast.get_absolute_url(),
        "broadcaster": {
            "handle": handle,
            "name": public_name(owner),
            "url": reverse("broadcast:broadcaster", kwargs={"handle": handle}) if handle else None,
        },
        "started_at": broadcast.started_at.isoformat() if broadcast.started_at else None,
        "viewers": viewers,
        "thumbnail": _listed_thumbnail(broadcast),
    }


def live_listing():
    """The live public broadcasts as cards, newest first, with their viewer counts and
    live pictures. The same set for everyone (live_public_broadcasts)."""
    broadcasts = list(live_public_broadcasts()[:LIVE_LISTING_LIMIT])
    counts = viewer_counts(b.slug for b in broadcasts)
    return [_listing_entry(b, counts.get(b.slug)) for b in broadcasts]


def cached_live_listing():
    """live_listing, computed at most once per LIVE_LISTING_CACHE_S in the shared cache."""
    listing = cache.get(_LIVE_LISTING_KEY)
    if listing is None:
        listing = live_listing()
        cache.set(_LIVE_LISTING_KEY, listing, LIVE_LISTING_CACHE_S)
    return listing


def forget_cached_live_listing():
    """The next cached_live_listing is computed afresh."""
    cache.delete(_LIVE_LISTING_KEY)


# --- a broadcaster's past broadcasts (/u/<handle>/) -----------------------------------

# Which ended broadcasts the broadcaster's page lists, by how they ended. An allow-list:
# a reason added later stays off the page until it is decided here.
# Listed:
# - OWNER: the broadcaster pressed End;
# - DISCONNECTED: the broadcaster's connection was lost for good; it still happened;
# - ADMIN: staff stopped it from Django admin, an operational stop with no rule named (a
#   takedown for a rule, even after such a stop, turns the reason into REMOVED).
# Not listed:
# - REMOVED: taken down by moderators for breaking the rules;
# - RESTRICTED, BANNED: cut short because moderators acted on the broadcaster;
# - NOT_STARTED: it never went live.
LISTED_END_REASONS = (EndReason.OWNER, EndReason.DISCONNECTED, EndReason.ADMIN)
PAST_BROADCASTS_LIMIT = 50


def past_public_broadcasts_of(user, *, now=None):
    """`user`'s ended public broadcasts still within RETENTION_DAYS (the purge's cut-off,
    counted from the end: safety/retention.py), newest first. One kept longer by a legal
    hold is past its retention all the same and is not listed."""
    now = now or timezone.now()
    return (
        Broadcast.objects.filter(
            owner=user,
            state=Broadcast.State.ENDED,
            visibility=Broadcast.Visibility.PUBLIC,
            end_reason__in=LISTED_END_REASONS,
            started_at__isnull=False,
            ended_at__gte=now - timedelta(days=settings.RETENTION_DAYS),
        )
        .order_by("-started_at")
        .only("slug", "title", "started_at", "ended_at")[:PAST_BROADCASTS_LIMIT]
    )
