"""How a table row says what a principal gets, and how a response is checked against it.

An outcome is what the principal sees (a status, where a redirect goes, the stable error
code of a JSON refusal) and whether the act is allowed: a row that changes something
also says how to tell that it happened, and the test asserts it happened exactly for
the principals the row allows.
"""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.urls import reverse

from tests.permissions.world import PRINCIPALS, SIGNED_OUT, STAFF

SIGN_IN = "/accounts/login/"
ADMIN_SIGN_IN = "/admin/login/"
BACK = "back"  # a redirect to the page the request was made to


@dataclass(frozen=True)
class Outcome:
    status: int
    # A redirect's path: a string, BACK (the request's own path) or world -> the path.
    location: object = None
    code: str | None = None  # a JSON refusal's stable code
    allowed: bool = True
    reached: bool = False  # an admin form posted empty: shown again (200) or saved (302)

    def where(self, world, request_path):
        if self.location == BACK:
            return request_path
        return self.location(world) if callable(self.location) else self.location

    def describe(self, world, request_path):
        if self.reached:
            return "the form (shown again, or saved)"
        parts = (self.status, self.where(world, request_path), self.code)
        return " ".join(str(part) for part in parts if part)

    def problem(self, response, world, request_path):
        """None when `response` is this outcome, else what it was instead."""
        location = urlsplit(response.get("Location", "")).path or None
        got = f"{response.status_code} {location or ''}".strip()
        if self.reached:
            ok = response.status_code == 200 or (
                response.status_code == 302 and location != ADMIN_SIGN_IN
            )
            return None if ok else got
        if response.status_code != self.status or location != self.where(world, request_path):
            return got
        if self.code is not None:
            code = json.loads(response.content).get("code")
            if code != self.code:
                return f"{got} {code}"
        return None


OK = Outcome(200)
CREATED = Outcome(201)
REACHED = Outcome(200, reached=True)
LOGIN = Outcome(302, SIGN_IN, allowed=False)
ADMIN_LOGIN = Outcome(302, ADMIN_SIGN_IN, allowed=False)
FORBIDDEN = Outcome(403, allowed=False)
NOT_FOUND = Outcome(404, allowed=False)
# An admin action done, back to the list; and a refusal inside the admin: the same page
# shown again (an action the user may not run, a decision they may not make), nothing done.
DONE = Outcome(302, BACK)
SHOWN_AGAIN = Outcome(200, allowed=False)


def redirect(path, *, allowed=True):
    return Outcome(302, path, allowed=allowed)


def refused(status, code):
    return Outcome(status, code=code, allowed=False)


def each(default, **exceptions):
    """Every principal gets `default` except those named."""
    unknown = set(exceptions) - set(PRINCIPALS)
    assert not unknown, f"not principals: {unknown}"
    return {principal: exceptions.get(principal, default) for principal in PRINCIPALS}


def signed_in_only(outcome, **exceptions):
    """Anyone signed in gets `outcome`; the others are sent to sign in."""
    return each(outcome, **dict.fromkeys(SIGNED_OUT, LOGIN), **exceptions)


def staff_only(outcome):
    """Staff get `outcome`; the admin sends everyone else to its sign-in."""
    return each(ADMIN_LOGIN, **dict.fromkeys(STAFF, outcome))


@dataclass(frozen=True)
class Http:
    """One thing a principal may try over HTTP."""

    label: str
    route: str  # the URL name (the path pattern of an unnamed route): what the row covers
    expect: dict  # principal -> Outcome
    method: str = "GET"
    args: Callable | None = None  # world -> the route's kwargs
    path: Callable | None = None  # world -> the path, for an unnamed route
    query: dict | None = None
    data: Callable | None = None  # (world, principal) -> the POST body
    as_json: bool = False  # the body as JSON, and JSON asked for
    prepare: Callable | None = None  # (world, principal): state the request needs
    effect: Callable | None = None  # (world, principal) -> whether the act happened

    def url(self, world):
        if self.path is not None:
            return self.path(world)
        return reverse(self.route, kwargs=self.args(world) if self.args else None)

    def send(self, world, principal):
        """The request as the principal's browser sends it, from an address no other
        request used (anonymous reports are limited per address)."""
        client = world.client(principal)
        url = self.url(world)
        address = {"REMOTE_ADDR": f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"}
        if self.method == "GET":
            return url, client.get(url, self.query, **address)
        data = self.data(world, principal) if self.data else {}
        if self.as_json:
            return url, client.post(
                url,
                json.dumps(data),
                content_type="application/json",
                HTTP_ACCEPT="application/json",
                **address,
            )
        return url, client.post(url, data, **address)
