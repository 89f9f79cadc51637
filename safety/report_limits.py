"""Limits on anonymous reports: per client address and per broadcast, each over an hour
from its first report. Counted in Django's cache, which every process shares (Redis
with REDIS_URL, the database otherwise); the address is only ever a keyed hash here."""

import time

from django.conf import settings
from django.core.cache import cache

from onair.client_address import address_key

WINDOW_S = 3600


def anonymous_report_wait(*, address, broadcast_slug):
    """Count one anonymous report of `broadcast_slug` (or one of its messages) from
    `address`. None if it is allowed, else (the limit reached: "address" or "broadcast",
    seconds until it reopens)."""
    limits = (
        ("address", address_key(address), settings.REPORT_ANON_PER_ADDRESS_PER_HOUR),
        ("broadcast", broadcast_slug, settings.REPORT_ANON_PER_BROADCAST_PER_HOUR),
    )
    for which, key, limit in limits:
        wait = _take(f"safety:reports:{which}:{key}", limit)
        if wait is not None:
            return which, wait
    return None


def forget_address(*, address):
    """Open a fresh window for `address` (staff lifting a limit that caught a shared
    address, such as a school's; tests whose pages all come from one address)."""
    cache.delete(f"safety:reports:address:{address_key(address)}:start")


def _take(name, limit, window=WINDOW_S):
    """Count one hit; return the seconds until the window reopens once past `limit`.
    The window opens at its first hit; its count lives under a key named by its start."""
    now = time.time()
    cache.add(f"{name}:start", now, window)
    start = cache.get(f"{name}:start", now)
    remaining = max(start + window - now, 1.0)
    key = f"{name}:{int(start)}"
    cache.add(key, 0, remaining)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, remaining)
        count = 1
    # The database cache's incr stores the value with the default expiry: restore ours.
    cache.touch(key, remaining)
    return remaining if count > limit else None
