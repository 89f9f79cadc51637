"""Writes about users: the age gate, the X profile, the X token (refreshed under a lock)."""

import fcntl
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import RefusedXAccount
from accounts.selectors import x_id_hash, x_social_token

# Refresh a little before X would refuse the token, so a call in flight does not expire.
TOKEN_REFRESH_MARGIN = timedelta(seconds=60)


class XReconnectRequired(Exception):
    """X no longer accepts this user's tokens: they must sign in with X again."""

    def __init__(self, code="reconnect_required"):
        super().__init__(code)
        self.code = code


class XTemporarilyUnavailable(Exception):
    """X could not answer now (5xx, 429, timeout): try again later."""

    def __init__(self, code, retry_after=None):
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


@transaction.atomic
def refuse_x_account(*, x_id, existing_user=None):
    """Final refusal for an X account (under 13): keep only a keyed hash of its id. An
    account made before the age step is deleted with everything it holds."""
    RefusedXAccount.objects.get_or_create(x_id_hash=x_id_hash(x_id))
    if existing_user is not None and existing_user.pk and not existing_user.is_staff:
        type(existing_user).objects.filter(pk=existing_user.pk).delete()


def _parse_x_time(value):
    """X sends ISO 8601 with milliseconds and a Z; anything else is ignored, not fatal."""
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def update_profile_from_x(*, user, data, save=True):
    """Copy what X says about the user (from GET /2/users/me) onto the User."""
    user.x_id = str(data.get("id") or user.x_id or "") or None
    user.handle = (data.get("username") or user.handle or "")[:32]
    user.display_name = (data.get("name") or user.display_name or "")[:100]
    user.avatar_url = (data.get("profile_image_url") or "")[:500]
    user.x_created_at = _parse_x_time(data.get("created_at")) or user.x_created_at
    if save:
        user.save(update_fields=["x_id", "handle", "display_name", "avatar_url", "x_created_at"])
    return user


def _token_is_fresh(token, now):
    return token.expires_at is None or token.expires_at - TOKEN_REFRESH_MARGIN > now


def fresh_x_access_token(*, user):
    """The user's X access token, refreshed first if it has (nearly) expired.

    X refresh tokens are single-use and rotate: the refresh runs under a row lock on the
    token, and the new pair is saved before anything else, so two tasks racing here make
    one refresh call between them and both leave with the new access token.
    """
    token = x_social_token(user=user)
    if token is None:
        raise XReconnectRequired("no_token")
    if _token_is_fresh(token, timezone.now()):
        return token.token
    with _token_row_lock(token) as token:
        if _token_is_fresh(token, timezone.now()):
            return token.token  # another task refreshed it while we waited for the lock
        if not token.token_secret:
            raise XReconnectRequired("no_refresh_token")
        data = _request_refresh(token.token_secret)
        token.token = data["access_token"]
        token.token_secret = data.get("refresh_token") or token.token_secret
        expires_in = data.get("expires_in")
        token.expires_at = (
            timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
        )
        token.save(update_fields=["token", "token_secret", "expires_at"])
    return token.token


@contextmanager
def _token_row_lock(token):
    """Lock one token row across processes for the length of a refresh call to X."""
    model = type(token)
    if connection.features.has_select_for_update:
        with transaction.atomic():
            yield model.objects.select_for_update().get(pk=token.pk)
        return
    # SQLite (embedded mode, one machine): a write transaction locks the whole database,
    # the emulator included, for the length of the call to X. A file lock per token
    # serializes the refreshes instead; each save commits at once.
    path = Path(settings.VAR_DIR) / f"x-token-{token.pk}.lock"
    with path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield model.objects.get(pk=token.pk)
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _request_refresh(refresh_token):
    try:
        response = requests.post(
            f"{settings.X_API_BASE}/2/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": settings.X_CLIENT_ID,
            },
            auth=(settings.X_CLIENT_ID, settings.X_CLIENT_SECRET),
            timeout=settings.X_HTTP_TIMEOUT,
        )
    except requests.Timeout as exc:
        raise XTemporarilyUnavailable("timeout") from exc
    except requests.RequestException as exc:
        raise XTemporarilyUnavailable("network_error") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise XTemporarilyUnavailable(f"x_http_{response.status_code}")
    if response.status_code != 200:
        # invalid_grant / invalid_request: the refresh token was revoked or already used.
        raise XReconnectRequired("invalid_grant")
    data = response.json()
    if "access_token" not in data:
        raise XReconnectRequired("invalid_grant")
    return data
