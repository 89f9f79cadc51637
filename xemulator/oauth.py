"""Validation of an authorization request (RFC 6749 4.1.1, RFC 7636 4.3)."""

import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext as _

from xemulator import conf

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
CHALLENGE_RE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")


@dataclass
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str

    @property
    def params(self):
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope,
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }


class FatalAuthorizeError(Exception):
    """Shown on an error page: the redirect URI cannot be trusted (RFC 6749 4.1.2.1)."""


class RedirectAuthorizeError(Exception):
    """Sent back to the client in the redirect: error, error_description, state."""

    def __init__(self, redirect_uri, error, description, state):
        super().__init__(description)
        self.url = redirect_with(
            redirect_uri, error=error, error_description=description, state=state
        )


def redirect_with(redirect_uri, **params):
    parts = urlsplit(redirect_uri)
    query = "&".join(filter(None, [parts.query, urlencode({k: v for k, v in params.items() if v})]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def redirect_uri_allowed(uri):
    parts = urlsplit(uri)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.fragment:
        return False
    if parts.hostname in LOOPBACK_HOSTS:
        return True
    return uri.startswith(settings.PUBLIC_URL + "/")


def parse_authorize_request(params):
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if client_id != conf.client_id():
        raise FatalAuthorizeError(_("Unknown client_id: this app is not registered."))
    if not redirect_uri or not redirect_uri_allowed(redirect_uri):
        raise FatalAuthorizeError(_("Missing or unregistered redirect_uri."))
    state = params.get("state", "")

    def fail(error, description):
        raise RedirectAuthorizeError(redirect_uri, error, description, state)

    if params.get("response_type") != "code":
        fail("unsupported_response_type", "response_type must be code")
    scopes = params.get("scope", "").split()
    if not scopes or not set(scopes) <= conf.KNOWN_SCOPES:
        fail("invalid_scope", "scope is missing or holds an unknown scope")
    if not state:
        fail("invalid_request", "state is required")
    challenge = params.get("code_challenge", "")
    if not challenge:
        fail("invalid_request", "code challenge required")
    if params.get("code_challenge_method") != "S256":
        fail("invalid_request", "transform algorithm not supported: only S256 is accepted")
    if not CHALLENGE_RE.match(challenge):
        fail("invalid_request", "code_challenge is not a valid S256 challenge")
    return AuthorizeRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=" ".join(scopes),
        state=state,
        code_challenge=challenge,
    )
