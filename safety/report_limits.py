"""Limits on reports and on the alert emails they set off, each over an hour from its
first hit: anonymous reports per client address and per broadcast, signed-in reports per
user, alert emails over the whole site. Counted in Django's cache, which every process
shares (Redis with REDIS_URL, the database otherwise); the address is only ever a keyed
hash here."""

import time

from django.conf import settings
from django.core.cache import cache

from onair.client_address import address_key

WINDOW_S = 3600
ALERTS = "safety:alerts"


def anonymous_report_wait(*, address, broadcast_slug, urgent=False):
    """Count one anonymous report of `broadcast_slug` (or one of its messages) from
    `address`. None if it is allowed, else (the limit reached: "address" or "broadcast",
    seconds until it reopens). An urgent report is exempt from the broadcast's limit, so
    that nobody can use up a broadcast's reporting in advance; it still counts toward
    the address's."""
    limits = [("address", address_key(address), settings.REPORT_ANON_PER_ADDRESS_PER_HOUR)]
    if not urgent:
        limits.append(("broadcast", broadcast_slug, settings.REPORT_ANON_PER_BROADCAST_PER_HOUR))
    for which, key, limit in limits:
        wait = _take(f"safety:reports:{which}:{key}", limit)
        if wait is not None:
            return which, wait
    return None


def user_report_wait(*, user):
    """Count one report by a signed-in user: None if allowed, else the seconds until
    REPORT_PER_USER_PER_HOUR allows another."""
    # Keyed by id and sign-up time: ids start again in a fresh database, and the cache
    # (Redis) may outlive it.
    key = f"{user.pk}:{user.date_joined.timestamp()}"
    return _take(f"safety:reports:user:{key}", settings.REPORT_PER_USER_PER_HOUR)


def alert_email_wait():
    """Count one alert email: None if it may be sent, else the seconds until
    REPORT_ALERTS_PER_HOUR allows another (a flood of reports must not flood the desk's
    mailbox; the reports themselves all stand)."""
    return _take(ALERTS, settings.REPORT_ALERTS_PER_HOUR)


def first_suppression(wait):
    """True once per alert window: the first alert past the limit."""
    return cache.add(f"{ALERTS}:suppressed", True, wait)


def forget_address(*, address):
    """Open a fresh window for `address` (staff lifting a limit that caught a shared
    address, such as a school's; tests whose pages all come from one address)."""
    cache.delete(f"safety:reports:address:{address_key(address)}:start")


def forget_alert_window():
    """Open a fresh alert window: emails resume (staff once a flood is dealt with)."""
    cache.delete_many([f"{ALERTS}:start", f"{ALERTS}:suppressed"])


def _take(name, limit, window=WINDOW_S):
    """Count one hit; return the seconds until the window reopens once past `limit`.
    The window opens at its first hit; its count lives under a key named by its start
    (to the microsecond: a window forgotten and opened again at once starts from 0)."""
    now = time.time()
    cache.add(f"{name}:start", now, window)
    start = cache.get(f"{name}:start", now)
    remaining = max(start + window - now, 1.0)
    key = f"{name}:{start:.6f}"
    cache.add(key, 0, remaining)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, remaining)
        count = 1
    # The database cache's incr stores the value with the default expiry: restore ours.
    cache.touch(key, remaining)
    return remaining if count > limit else None
