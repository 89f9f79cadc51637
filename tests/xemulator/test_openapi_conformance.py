"""Every request and answer of the endpoints the emulator implements, errors included,
checked against X's official OpenAPI document (v2.167, tests/xemulator/spec/)."""

import jsonschema
import pytest
import requests

from tests.xemulator.conftest import ALL_SCOPES, XApi


@pytest.fixture
def checked_xapi(openapi_spec, emulator):
    return XApi(emulator.url, openapi_spec)


def test_the_document_is_x_api_v2_2_167(openapi_spec):
    assert openapi_spec.version == "2.167"
    for path, method in [
        ("/2/tweets", "post"),
        ("/2/tweets/{id}", "delete"),
        ("/2/users/me", "get"),
        ("/2/users/{id}/tweets", "get"),
    ]:
        assert openapi_spec.operation(path, method)


def test_every_answer_of_every_implemented_endpoint_fits_the_document(
    openapi_spec, control, user, checked_xapi
):
    x = checked_xapi
    token = control.issue_token(user["id"], scope=ALL_SCOPES)["access_token"]
    read_only = control.issue_token(user["id"], scope="tweet.read users.read")["access_token"]

    x.me(token, **{"user.fields": "created_at,profile_image_url,public_metrics,description"})
    x.me(None)
    x.me(token, **{"user.fields": "nope"})
    post_id = x.post(token, "Live now https://onair.example/b/abc/").json()["data"]["id"]
    x.post(token, "Live now https://onair.example/b/abc/")  # 403 duplicate
    x.post(token, "z" * 281)  # 400 invalid request
    x.post(read_only, "no scope")  # 403
    x.post("expired-or-unknown", "who?")  # 401
    control.add_fault("POST /2/tweets", status=429)
    x.post(token, "rate limited")
    control.add_fault("POST /2/tweets", status=503)
    x.post(token, "unavailable")
    control.add_fault("POST /2/tweets", status=500)
    x.post(token, "broken")
    x.timeline(token, user["id"], **{"tweet.fields": "created_at,author_id,entities"})
    x.timeline(token, "1234567")  # unknown user: 200 with errors
    x.timeline(token, user["id"], max_results=1)  # 400
    x.delete(token, post_id)
    x.delete(token, post_id)  # 404 resource not found
    x.timeline(token, user["id"])  # empty

    covered = set(x.checked)
    expected = {
        ("GET", "/2/users/me", 200),
        ("GET", "/2/users/me", 401),
        ("GET", "/2/users/me", 400),
        ("POST", "/2/tweets", 201),
        ("POST", "/2/tweets", 400),
        ("POST", "/2/tweets", 401),
        ("POST", "/2/tweets", 403),
        ("POST", "/2/tweets", 429),
        ("POST", "/2/tweets", 500),
        ("POST", "/2/tweets", 503),
        ("GET", "/2/users/{id}/tweets", 200),
        ("GET", "/2/users/{id}/tweets", 400),
        ("DELETE", "/2/tweets/{id}", 200),
        ("DELETE", "/2/tweets/{id}", 404),
    }
    assert expected <= covered


def test_the_check_rejects_an_answer_the_document_does_not_allow(openapi_spec):
    """The validator is not vacuous: a wrong body fails it."""

    class Fake:
        status_code = 201
        headers = {"Content-Type": "application/json"}

        def __init__(self, body):
            self.body = body

        def json(self):
            return self.body

    openapi_spec.check_response("/2/tweets", "POST", Fake({"data": {"id": "1", "text": "t"}}))
    with pytest.raises(jsonschema.ValidationError):
        openapi_spec.check_response("/2/tweets", "POST", Fake({"data": {"id": 1, "text": "t"}}))
    with pytest.raises(jsonschema.ValidationError):
        openapi_spec.check_response("/2/tweets", "POST", Fake({"data": {"text": "no id"}}))
    with pytest.raises(jsonschema.ValidationError):
        openapi_spec.check_request("/2/tweets", "POST", {"text": "hi", "colour": "red"})


def test_emulator_refuses_what_the_document_refuses(openapi_spec, token, emulator):
    """CreatePostsRequest has additionalProperties: false; so does the emulator."""
    body = {"text": "hi", "colour": "red"}
    with pytest.raises(jsonschema.ValidationError):
        openapi_spec.check_request("/2/tweets", "POST", body)
    response = requests.post(
        f"{emulator.url}/2/tweets",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 400
    openapi_spec.check_response("/2/tweets", "POST", response)
