"""OAuth 2.0 authorization code with PKCE (S256), as X runs it, over real HTTP."""

import pytest
import requests
from django.conf import settings

from tests.support import wait_for
from tests.xemulator.conftest import (
    ALL_SCOPES,
    REDIRECT_URI,
    authorize_params,
    pkce_pair,
    redirect_query,
)


def test_consent_then_code_exchange_gives_x_token_response(person, token_endpoint, xapi):
    verifier, challenge = pkce_pair()
    consent = person.open_consent(authorize_params(challenge, state="s-1"))
    assert consent.status_code == 200
    assert "csrfmiddlewaretoken" in consent.text
    assert settings.X_CLIENT_ID in consent.text

    query = person.approve(authorize_params(challenge, state="s-1"), username="carol", name="Carol")
    assert query["state"] == "s-1"
    response = token_endpoint.exchange(query["code"], verifier)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "access_token", "scope", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert body["scope"] == ALL_SCOPES
    me = xapi.me(body["access_token"], **{"user.fields": "created_at,profile_image_url"})
    assert me.status_code == 200
    data = me.json()["data"]
    assert (data["username"], data["name"]) == ("carol", "Carol")
    assert data["created_at"].endswith("Z")
    assert requests.get(data["profile_image_url"], timeout=5).headers["Content-Type"] == (
        "image/svg+xml"
    )


def test_consent_form_without_csrf_token_is_refused(person):
    _, challenge = pkce_pair()
    page = person.open_consent(authorize_params(challenge))
    answer = person.session.post(
        page.url.split("?")[0],
        data={**authorize_params(challenge), "action": "approve", "username": "mallory"},
        headers={"Origin": person.base_url},
        allow_redirects=False,
    )
    assert answer.status_code == 403


def test_picking_an_existing_test_user_signs_in_as_that_user(control, person, token_endpoint, xapi):
    bob = control.create_user("bob", name="Bob")
    verifier, challenge = pkce_pair()
    page = person.open_consent(authorize_params(challenge))
    assert "@bob" in page.text
    query = redirect_query(person.submit(page, user_id=bob["id"]))
    token = token_endpoint.exchange(query["code"], verifier).json()["access_token"]
    assert xapi.me(token).json()["data"]["id"] == bob["id"]


def test_denied_consent_redirects_with_access_denied_and_state(person):
    _, challenge = pkce_pair()
    page = person.open_consent(authorize_params(challenge, state="keep-me"))
    query = redirect_query(person.submit(page, action="deny"))
    assert query == {"error": "access_denied", "state": "keep-me"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": None},
        {"redirect_uri": "https://evil.example/cb"},
    ],
    ids=["unknown-client", "no-redirect-uri", "foreign-redirect-uri"],
)
def test_untrusted_client_or_redirect_gets_an_error_page_not_a_redirect(person, overrides):
    _, challenge = pkce_pair()
    response = person.open_consent(authorize_params(challenge, **overrides))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "not valid" in response.text


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "tweet.read nonsense.scope"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
        ({"state": None}, "invalid_request"),
    ],
    ids=["no-pkce", "plain", "no-method", "implicit", "unknown-scope", "no-scope", "no-state"],
)
def test_bad_authorization_parameters_redirect_with_an_rfc6749_error(person, overrides, error):
    _, challenge = pkce_pair()
    query = redirect_query(person.open_consent(authorize_params(challenge, **overrides)))
    assert query["error"] == error
    assert query["error_description"]


def test_wrong_code_verifier_is_invalid_grant_and_burns_the_code(person, token_endpoint):
    verifier, challenge = pkce_pair()
    query = person.approve(authorize_params(challenge), username="dave")
    wrong = token_endpoint.exchange(query["code"], pkce_pair()[0])
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert token_endpoint.exchange(query["code"], verifier).json()["error"] == "invalid_grant"


def test_authorization_code_is_single_use(person, token_endpoint):
    verifier, challenge = pkce_pair()
    query = person.approve(authorize_params(challenge), username="erin")
    assert token_endpoint.exchange(query["code"], verifier).status_code == 200
    again = token_endpoint.exchange(query["code"], verifier)
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Authorization code was already used.",
    }


def test_redirect_uri_must_match_the_authorization_request(person, token_endpoint):
    verifier, challenge = pkce_pair()
    query = person.approve(authorize_params(challenge), username="frank")
    other = token_endpoint.exchange(query["code"], verifier, redirect_uri=REDIRECT_URI + "x")
    assert other.json()["error"] == "invalid_grant"


def test_token_endpoint_needs_the_client_credentials(person, token_endpoint):
    verifier, challenge = pkce_pair()
    query = person.approve(authorize_params(challenge), username="grace")
    response = token_endpoint.exchange(query["code"], verifier, auth=("onair-dev-client", "nope"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_grant_type_is_refused(token_endpoint):
    response = token_endpoint.call({"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_refresh_rotates_and_the_old_refresh_token_is_dead(sign_in, token_endpoint, xapi):
    first = sign_in()
    second = token_endpoint.refresh(first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == ALL_SCOPES
    assert xapi.me(second["access_token"]).status_code == 200

    reused = token_endpoint.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # The rotated one still works, once.
    assert token_endpoint.refresh(second["refresh_token"]).status_code == 200


def test_no_refresh_token_without_offline_access(sign_in):
    body = sign_in(scope="tweet.read users.read")
    assert "refresh_token" not in body
    assert body["scope"] == "tweet.read users.read"


def test_access_token_expires(control, user, xapi):
    token = control.issue_token(user["id"], expires_in=1)
    assert token["expires_in"] == 1
    assert xapi.me(token["access_token"]).status_code == 200
    wait_for(
        lambda: xapi.me(token["access_token"]).status_code == 401,
        timeout=5,
        what="the access token to expire",
    )
    assert xapi.me(token["access_token"]).json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


def test_expired_access_token_is_renewed_with_the_refresh_token(
    control, user, token_endpoint, xapi
):
    token = control.issue_token(user["id"], expires_in=0)
    assert xapi.me(token["access_token"]).status_code == 401
    renewed = token_endpoint.refresh(token["refresh_token"]).json()
    assert xapi.me(renewed["access_token"]).status_code == 200


def test_token_fault_shortens_the_next_tokens_lifetime(control, sign_in, token_endpoint):
    control.add_fault("POST /2/oauth2/token", expires_in=5, count=1)
    first = sign_in()
    assert first["expires_in"] == 5
    assert token_endpoint.refresh(first["refresh_token"]).json()["expires_in"] == 7200


def test_revoking_a_user_kills_access_and_refresh_tokens(control, sign_in, token_endpoint, xapi):
    body = sign_in()
    user_id = xapi.me(body["access_token"]).json()["data"]["id"]
    assert control.revoke_user(user_id)["revoked"] == 1

    assert xapi.me(body["access_token"]).status_code == 401
    refreshed = token_endpoint.refresh(body["refresh_token"])
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_missing_or_unknown_bearer_token_is_401(xapi):
    assert xapi.me(None).status_code == 401
    assert xapi.me("not-a-token").status_code == 401
