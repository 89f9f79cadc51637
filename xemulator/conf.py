"""The emulator's own knobs, read from the environment (development and tests only)."""

import os

from django.conf import settings


def _int(name, default):
    return int(getattr(settings, name, None) or os.environ.get(name) or default)


ACCESS_TOKEN_TTL = _int("XEMULATOR_ACCESS_TOKEN_TTL", 7200)
CODE_TTL = _int("XEMULATOR_CODE_TTL", 30)
POST_LIMIT = _int("XEMULATOR_POST_LIMIT", 100)
MAX_POST_WEIGHT = 280

# X's per-user limits, requests per 15-minute window (docs.x.com: X API Rate Limits;
# the token endpoint has none).
RATE_WINDOW_S = 15 * 60
RATE_LIMITS = {
    "GET /2/users/me": 75,
    "GET /2/users/:id/tweets": 900,
    "POST /2/tweets": POST_LIMIT,
    "DELETE /2/tweets/:id": 50,
}

# The scopes X knows (https://docs.x.com: OAuth 2.0 scopes).
KNOWN_SCOPES = {
    "tweet.read",
    "tweet.write",
    "tweet.moderate.write",
    "users.email",
    "users.read",
    "follows.read",
    "follows.write",
    "offline.access",
    "space.read",
    "mute.read",
    "mute.write",
    "like.read",
    "like.write",
    "list.read",
    "list.write",
    "block.read",
    "block.write",
    "bookmark.read",
    "bookmark.write",
    "dm.read",
    "dm.write",
    "media.write",
}

# Endpoints a fault can target (plus "*").
ENDPOINTS = (
    "POST /2/oauth2/token",
    "GET /2/users/me",
    "GET /2/users/:id/tweets",
    "POST /2/tweets",
    "DELETE /2/tweets/:id",
)


def client_id():
    return settings.X_CLIENT_ID


def client_secret():
    return settings.X_CLIENT_SECRET
