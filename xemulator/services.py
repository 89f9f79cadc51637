"""Writes of the emulator: users, the OAuth 2.0 grants, posts, faults.

Every rule of X the emulator copies lives here, so the HTTP views stay thin.
"""

import base64
import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from xemulator import conf, problems, rate_limits
from xemulator.models import AuthorizationCode, Fault, Post, Token, XUser
from xemulator.text import weighted_length

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,15}$")


class OAuthError(Exception):
    def __init__(self, error, description, status=400):
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def hash_secret(value):
    return hashlib.sha256(value.encode()).hexdigest()


def s256(verifier):
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


# --- users ----------------------------------------------------------------------------


def get_or_create_user(*, username, name=None, created_at=None):
    """Returns (user, created). Handles are case-insensitive, as on X."""
    username = (username or "").strip().lstrip("@")
    if not USERNAME_RE.match(username):
        raise ValueError("username must be 1 to 15 letters, digits or underscores")
    name = (name or "").strip()[:50] or username
    with transaction.atomic():
        existing = XUser.objects.filter(username__iexact=username).first()
        if existing:
            return existing, False
        user = XUser.objects.create(
            username=username, name=name, created_at=created_at or timezone.now()
        )
        return user, True


# --- OAuth 2.0 --------------------------------------------------------------------------


def issue_authorization_code(*, user, client_id, redirect_uri, scope, code_challenge):
    code = secrets.token_urlsafe(48)
    AuthorizationCode.objects.create(
        code_hash=hash_secret(code),
        user=user,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=scope,
        code_challenge=code_challenge,
        expires_at=timezone.now() + timedelta(seconds=conf.CODE_TTL),
    )
    return code


def issue_token(*, user, client_id, scope, expires_in=None):
    """A new access token (and a refresh token with offline.access): X's token response."""
    expires_in = conf.ACCESS_TOKEN_TTL if expires_in is None else expires_in
    access_token = secrets.token_urlsafe(48)
    refresh_token = secrets.token_urlsafe(48) if "offline.access" in scope.split() else None
    Token.objects.create(
        user=user,
        client_id=client_id,
        scope=scope,
        access_token_hash=hash_secret(access_token),
        refresh_token_hash=hash_secret(refresh_token) if refresh_token else None,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
    )
    body = {
        "token_type": "bearer",
        "expires_in": expires_in,
        "access_token": access_token,
        "scope": scope,
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    return body


def exchange_code(*, client_id, code, redirect_uri, code_verifier, expires_in=None):
    """authorization_code grant: single-use, short-lived code, PKCE S256 verified.

    Any attempt burns the code, a failed one too (committed before the error is raised)."""
    if not code or not code_verifier:
        raise OAuthError("invalid_request", "Missing required parameter [code or code_verifier].")
    with transaction.atomic():
        error, body = _exchange_code(
            client_id=client_id,
            code=code,
            redirect_uri=redirect_uri,
            code_verifier=code_verifier,
            expires_in=expires_in,
        )
    if error:
        raise OAuthError("invalid_grant", error)
    return body


def _exchange_code(*, client_id, code, redirect_uri, code_verifier, expires_in):
    row = (
        AuthorizationCode.objects.select_for_update()
        .select_related("user")
        .filter(code_hash=hash_secret(code))
        .first()
    )
    now = timezone.now()
    if row is None or row.client_id != client_id:
        return "Value passed for the authorization code was invalid.", None
    if row.used_at is not None:
        return "Authorization code was already used.", None
    row.used_at = now
    row.save(update_fields=["used_at"])
    if row.expires_at <= now:
        return "Authorization code has expired.", None
    if row.redirect_uri != redirect_uri:
        return "redirect_uri does not match the authorization request.", None
    if not hmac.compare_digest(s256(code_verifier), row.code_challenge):
        return "code_verifier does not match the code_challenge.", None
    token = issue_token(user=row.user, client_id=client_id, scope=row.scope, expires_in=expires_in)
    return None, token


@transaction.atomic
def refresh_token_grant(*, client_id, refresh_token, expires_in=None):
    """refresh_token grant: the refresh token is single-use and rotates."""
    if not refresh_token:
        raise OAuthError("invalid_request", "Missing required parameter [refresh_token].")
    row = (
        Token.objects.select_for_update()
        .select_related("user")
        .filter(refresh_token_hash=hash_secret(refresh_token))
        .first()
    )
    if (
        row is None
        or row.client_id != client_id
        or row.refreshed_at is not None
        or row.revoked_at is not None
    ):
        raise OAuthError("invalid_grant", "Value passed for the token was invalid.")
    row.refreshed_at = timezone.now()
    row.save(update_fields=["refreshed_at"])
    return issue_token(user=row.user, client_id=client_id, scope=row.scope, expires_in=expires_in)


def revoke_user_tokens(*, user):
    return Token.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def authenticate_bearer(authorization, *, required_scopes):
    """The live Token for an `Authorization: Bearer ...` header, or an X 401/403."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise problems.unauthorized()
    token = (
        Token.objects.select_related("user")
        .filter(access_token_hash=hash_secret(value.strip()), revoked_at__isnull=True)
        .first()
    )
    if token is None or token.expires_at <= timezone.now():
        raise problems.unauthorized()
    if not set(required_scopes) <= token.scopes:
        raise problems.forbidden()
    return token


# --- posts ------------------------------------------------------------------------------


def create_post(*, user, text):
    """POST /2/tweets rules: length as X counts it, duplicate content. (The rate limit is
    the endpoint's, in xemulator.rate_limits.)"""
    if not isinstance(text, str) or not text.strip():
        raise problems.invalid_request("text", text, "The `text` field must not be empty.")
    if weighted_length(text) > conf.MAX_POST_WEIGHT:
        raise problems.invalid_request(
            "text",
            text,
            "Your Tweet text is too long. For more information on how X determines text "
            "length see https://github.com/twitter/twitter-text.",
        )
    with transaction.atomic():
        # One writer per user at a time, so the duplicate check holds.
        XUser.objects.select_for_update().filter(pk=user.pk).first()
        if Post.objects.filter(author=user, text=text, deleted_at__isnull=True).exists():
            raise problems.duplicate_content()
        return Post.objects.create(author=user, text=text)


def delete_post(*, user, post_id):
    with transaction.atomic():
        post = Post.objects.select_for_update().filter(pk=post_id).first()
        if post is None or post.deleted_at is not None:
            raise problems.XApiError(
                404, problems.not_found_problem(resource_type="tweet", value=post_id)
            )
        if post.author_id != user.pk:
            raise problems.forbidden("You are not allowed to delete a Tweet you did not create.")
        post.deleted_at = timezone.now()
        post.save(update_fields=["deleted_at"])
    return post


# --- faults -----------------------------------------------------------------------------


def normalize_endpoint(endpoint):
    endpoint = " ".join((endpoint or "").split())
    endpoint = endpoint.replace("{id}", ":id")
    method, _, path = endpoint.partition(" ")
    endpoint = f"{method.upper()} {path}" if path else endpoint
    if endpoint != "*" and endpoint not in conf.ENDPOINTS:
        raise ValueError(f"endpoint must be '*' or one of: {', '.join(conf.ENDPOINTS)}")
    return endpoint


def add_fault(*, endpoint, status=None, delay_s=None, count=1, reset_in=1, expires_in=None):
    endpoint = normalize_endpoint(endpoint)
    if status is not None and not (400 <= int(status) <= 599):
        raise ValueError("status must be an HTTP error status (400 to 599)")
    if delay_s is not None and not (0 <= float(delay_s) <= 600):
        raise ValueError("delay_s must be between 0 and 600")
    if status is None and delay_s is None and expires_in is None:
        raise ValueError("a fault needs status, delay_s or expires_in")
    if int(count) < 1:
        raise ValueError("count must be at least 1")
    return Fault.objects.create(
        endpoint=endpoint,
        status=status,
        delay_s=delay_s,
        remaining=int(count),
        reset_in=int(reset_in if reset_in is not None else 1),
        expires_in=expires_in,
    )


def consume_fault(*, endpoint):
    """Take one use of the oldest pending fault for this endpoint, atomically: concurrent
    calls each consume their own (a conditional UPDATE, safe on SQLite and PostgreSQL)."""
    while True:
        fault = Fault.objects.filter(endpoint__in=[endpoint, "*"], remaining__gt=0).first()
        if fault is None:
            return None
        taken = Fault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken:
            return fault


def clear_faults():
    return Fault.objects.all().delete()[0]


@transaction.atomic
def reset_state():
    rate_limits.reset()
    Fault.objects.all().delete()
    Post.objects.all().delete()
    Token.objects.all().delete()
    AuthorizationCode.objects.all().delete()
    XUser.objects.all().delete()
