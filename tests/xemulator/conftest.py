"""Fixtures for the X emulator tests: the emulator process over real HTTP, its control
API, an X API client that checks every answer against X's OpenAPI document, and the
PKCE sign-in driven through the real consent form."""

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

from tests.xemulator.openapi import load_spec
from xemulator.control import EmulatorControl

REDIRECT_URI = "http://127.0.0.1:9/accounts/twitter_oauth2/login/callback/"
ALL_SCOPES = "tweet.read users.read tweet.write offline.access"
SPEC = load_spec()


@pytest.fixture(scope="session")
def openapi_spec():
    return SPEC


@pytest.fixture
def emulator(x_emulator_process, transactional_db):
    """The emulator process. `transactional_db` makes pytest-django create the test
    database the process runs on, and keeps this process out of a transaction that
    would hold SQLite's write lock."""
    return x_emulator_process


@pytest.fixture
def control(emulator):
    """The control API, with the emulator wiped before each test."""
    ctl = EmulatorControl(emulator.url, settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)
    ctl.reset()
    return ctl


def spec_path(path):
    """/2/users/123/tweets -> /2/users/{id}/tweets (the OpenAPI path template)."""
    return re.sub(r"^/2/(users|tweets)/(?!me$)[^/]+", r"/2/\1/{id}", path)


class XApi:
    """Calls the emulator's X API as a client does, and checks each request body and
    answer against X's OpenAPI document when the document is present."""

    def __init__(self, base_url, spec):
        self.base_url = base_url
        self.spec = spec
        self.session = requests.Session()
        self.checked = []

    def call(self, method, path, token=None, json=None, params=None, timeout=10):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if self.spec and json is not None:
            self.spec.check_request(spec_path(path), method, json)
        response = self.session.request(
            method,
            f"{self.base_url}{path}",
            headers=headers,
            json=json,
            params=params,
            timeout=timeout,
        )
        if self.spec:
            self.spec.check_response(spec_path(path), method, response)
            self.checked.append((method, spec_path(path), response.status_code))
        return response

    def me(self, token, **params):
        return self.call("GET", "/2/users/me", token, params=params)

    def post(self, token, text, **kwargs):
        return self.call("POST", "/2/tweets", token, json={"text": text}, **kwargs)

    def delete(self, token, post_id):
        return self.call("DELETE", f"/2/tweets/{post_id}", token)

    def timeline(self, token, user_id, **params):
        return self.call("GET", f"/2/users/{user_id}/tweets", token, params=params)


@pytest.fixture
def xapi(emulator):
    return XApi(emulator.url, SPEC)


@pytest.fixture
def user(control):
    return control.create_user("alice", name="Alice")


@pytest.fixture
def token(control, user):
    return control.issue_token(user["id"], scope=ALL_SCOPES)["access_token"]


# --- OAuth 2.0 with PKCE, driven over real HTTP ---------------------------------------


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(challenge, state="state-123", scope=ALL_SCOPES, **overrides):
    params = {
        "response_type": "code",
        "client_id": settings.X_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def hidden_inputs(html):
    inputs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    return {name: unescape(value) for name, value in inputs}


class Browserless:
    """A person at the consent page, with a cookie jar, posting the real form."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def open_consent(self, params):
        return self.session.get(
            f"{self.base_url}/i/oauth2/authorize", params=params, allow_redirects=False
        )

    def submit(self, page, **fields):
        form = hidden_inputs(page.text)
        form.update(fields)
        return self.session.post(
            f"{self.base_url}/i/oauth2/authorize",
            data=form,
            headers={"Origin": self.base_url, "Referer": page.url},
            allow_redirects=False,
        )

    def approve(self, params, **fields):
        page = self.open_consent(params)
        assert page.status_code == 200, page.text
        answer = self.submit(page, action="approve", **fields)
        assert answer.status_code == 302, answer.text
        return redirect_query(answer)


def redirect_query(response):
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def person(emulator):
    return Browserless(emulator.url)


class TokenEndpoint:
    def __init__(self, base_url):
        self.url = f"{base_url}/2/oauth2/token"

    def call(self, data, auth=None):
        auth = auth or (settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)
        return requests.post(self.url, data=data, auth=auth, timeout=10)

    def exchange(self, code, verifier, redirect_uri=REDIRECT_URI, **kwargs):
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        return self.call(data, **kwargs)

    def refresh(self, refresh_token):
        return self.call({"grant_type": "refresh_token", "refresh_token": refresh_token})


@pytest.fixture
def token_endpoint(emulator):
    return TokenEndpoint(emulator.url)


@pytest.fixture
def sign_in(control, person, token_endpoint):
    """The whole PKCE flow for a handle: consent form, code, token response."""

    def run(username="alice", name="Alice", scope=ALL_SCOPES):
        verifier, challenge = pkce_pair()
        query = person.approve(
            authorize_params(challenge, scope=scope), username=username, name=name
        )
        response = token_endpoint.exchange(query["code"], verifier)
        assert response.status_code == 200, response.text
        return response.json()

    return run
