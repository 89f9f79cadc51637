"""What is live and what was: the home page, its live listing (GET /api/live, polled by
static/js/home.js) and a broadcaster's page. Thin: the reads are in selectors."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.blocks import has_blocked
from broadcast import selectors
from broadcast.models import Broadcast

# home.js asks for the listing this often while its tab is visible (backing off on
# errors); the listing itself is at most selectors.LIVE_LISTING_CACHE_S old.
POLL_S = 5


def _listing_config():
    """What home.js needs to keep the cards current (data attributes on the page)."""
    return {"poll_s": POLL_S, "thumbnail_every_s": settings.THUMBNAIL_EVERY_S}


@never_cache
def home(request):
    return render(
        request,
        "broadcast/home.html",
        {"cards": selectors.live_listing(), "listing": _listing_config()},
    )


@require_GET
def live_api(request):
    """The live public broadcasts as the home page's cards show them: the same answer for
    everyone, so any cache in front may keep it as long as ours does."""
    response = JsonResponse(
        {
            "broadcasts": selectors.cached_live_listing(),
            "thumbnail_every_s": settings.THUMBNAIL_EVERY_S,
        }
    )
    patch_cache_control(response, public=True, max_age=selectors.LIVE_LISTING_CACHE_S)
    return response


@dataclass(frozen=True)
class PastBroadcast:
    title: str
    started_at: datetime
    seconds: int

    @property
    def duration(self):
        """Short and translatable: "1 h 05 min", "12 min", "40 s"."""
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
        if minutes:
            return _("%(minutes)d min") % {"minutes": minutes}
        return _("%(seconds)d s") % {"seconds": seconds}

    @property
    def iso_duration(self):
        """The <time datetime> form (ISO 8601 duration)."""
        return f"PT{self.seconds}S"


def _past(broadcast):
    seconds = max(0, int((broadcast.ended_at - broadcast.started_at).total_seconds()))
    return PastBroadcast(title=broadcast.title, started_at=broadcast.started_at, seconds=seconds)


@never_cache
def broadcaster(request, handle):
    """/u/<handle>/: the live broadcast if there is one, the public broadcasts still within
    retention, and when they were last live."""
    user = (
        get_user_model()
        .objects.filter(handle__iexact=handle, is_active=True)
        # A handle freed on X and taken by someone else: the one who signed in last (NULLs
        # last: PostgreSQL would sort a never-signed-in account first).
        .order_by(F("last_login").desc(nulls_last=True), "-pk")
        .first()
    )
    if user is None:
        raise Http404
    live = selectors.live_broadcast_of(user)
    if live is not None and live.visibility != Broadcast.Visibility.PUBLIC and request.user != user:
        live = None
    return render(
        request,
        "broadcast/broadcaster.html",
        {
            "profile_user": user,
            "live": live,
            "past": [_past(b) for b in selectors.past_public_broadcasts_of(user)],
            "retention_days": settings.RETENTION_DAYS,
            "last": selectors.last_broadcast_of(user),
            "blocked": has_blocked(blocker=request.user, blocked=user),
        },
    )
