"""X's per-user rate limits, as the emulator applies them to the v2 endpoints.

X counts each user's requests to each endpoint in 15-minute windows and reports the
window on every answer (docs.x.com, "Rate limits"):
    x-rate-limit-limit      requests allowed in the window
    x-rate-limit-remaining  requests left in it
    x-rate-limit-reset      when it resets, in epoch seconds
A request over the limit gets 429 and changes nothing. A window opens with the first
request after the previous one reset.

The windows live in this process's memory (one emulator process serves everything), and
`reset()` (the control API's /_emulator/reset) forgets them.
"""

import math
import threading
import time
from dataclasses import dataclass

from xemulator import conf

_lock = threading.Lock()
_windows = {}


@dataclass
class Window:
    limit: int
    used: int
    resets_at: float

    def headers(self):
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(max(self.limit - self.used, 0)),
            "x-rate-limit-reset": str(math.ceil(self.resets_at)),
        }


def limit_of(endpoint):
    """The per-user limit of an endpoint ("POST /2/tweets"), or None when X sets none."""
    return conf.RATE_LIMITS.get(endpoint)


def take(*, user_id, endpoint, now=None):
    """Count one request of the user to the endpoint. Returns (allowed, headers): a
    request refused for the limit is not counted."""
    limit = limit_of(endpoint)
    if limit is None:
        return True, {}
    now = time.time() if now is None else now
    with _lock:
        window = _windows.get((user_id, endpoint))
        if window is None or window.resets_at <= now:
            window = Window(limit=limit, used=0, resets_at=now + conf.RATE_WINDOW_S)
            _windows[(user_id, endpoint)] = window
        allowed = window.used < window.limit
        if allowed:
            window.used += 1
        return allowed, window.headers()


def exhausted_headers(*, endpoint, reset_in):
    """The headers of a 429 injected by a fault: nothing left, reset in `reset_in` s."""
    limit = limit_of(endpoint)
    if limit is None:
        return {}
    return Window(limit=limit, used=limit, resets_at=time.time() + reset_in).headers()


def reset():
    with _lock:
        _windows.clear()
