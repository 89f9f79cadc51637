"""X's rate-limit headers on every answer of the emulator's v2 API: per user and per
endpoint, 15-minute windows, 429 once a window is used up."""

import time

from tests.xemulator.conftest import ALL_SCOPES
from xemulator import rate_limits

WINDOW_S = 15 * 60
HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")


def window(response):
    return tuple(int(response.headers[name]) for name in HEADERS)


def test_every_answer_carries_the_callers_window_of_that_endpoint(user, token, xapi):
    started = time.time()
    calls = {
        "GET /2/users/me": lambda: xapi.me(token),
        "GET /2/users/:id/tweets": lambda: xapi.timeline(token, user["id"]),
        "POST /2/tweets": lambda: xapi.post(token, f"hello {time.time()}"),
        "DELETE /2/tweets/:id": lambda: xapi.delete(token, "1234567890123456789"),
    }
    for endpoint, call in calls.items():
        first, second = call(), call()
        limit, remaining, reset = window(first)
        assert (
            limit
            == {
                "GET /2/users/me": 75,
                "GET /2/users/:id/tweets": 900,
                "POST /2/tweets": 100,
                "DELETE /2/tweets/:id": 50,
            }[endpoint]
        )
        assert remaining == limit - 1, endpoint
        assert started + WINDOW_S <= reset <= time.time() + WINDOW_S + 1
        assert window(second) == (limit, limit - 2, reset), endpoint


def test_errors_carry_the_window_too_and_count_in_it(user, token, xapi):
    assert xapi.post(token, "same words").status_code == 201
    duplicate = xapi.post(token, "same words")
    assert duplicate.status_code == 403
    assert window(duplicate)[:2] == (100, 98)
    invalid = xapi.post(token, "")
    assert invalid.status_code == 400
    assert window(invalid)[:2] == (100, 97)
    missing = xapi.delete(token, "1234567890123456789")
    assert missing.status_code == 404
    assert window(missing)[:2] == (50, 49)


def test_without_a_valid_token_there_is_no_window_to_report(xapi):
    response = xapi.me("not-a-token")
    assert response.status_code == 401
    assert not any(name in response.headers for name in HEADERS)


def test_windows_are_per_user_and_per_endpoint(control, user, token, xapi):
    bob = control.create_user("bob")
    bob_token = control.issue_token(bob["id"], scope=ALL_SCOPES)["access_token"]
    for n in range(3):
        xapi.post(token, f"alice {n}")
    assert window(xapi.post(bob_token, "bob 0"))[:2] == (100, 99)
    assert window(xapi.me(token))[:2] == (75, 74)
    assert window(xapi.post(token, "alice 3"))[:2] == (100, 96)


def test_a_used_up_window_is_429_and_the_refused_call_does_nothing(control, user, token, xapi):
    post_id = xapi.post(token, "keep me").json()["data"]["id"]
    for _ in range(50):
        assert xapi.delete(token, "1234567890123456789").status_code == 404
    refused = xapi.delete(token, post_id)
    assert refused.status_code == 429
    assert refused.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    limit, remaining, reset = window(refused)
    assert (limit, remaining) == (50, 0)
    assert reset >= time.time() + WINDOW_S - 60
    assert control.tweets(user["id"])[0]["deleted"] is False
    # Other endpoints keep their own windows.
    assert xapi.timeline(token, user["id"]).status_code == 200


def test_an_injected_429_reports_that_endpoints_limit(control, token, xapi):
    control.add_fault("DELETE /2/tweets/:id", status=429, reset_in=30)
    control.add_fault("*", status=429, reset_in=5)
    before = int(time.time())
    deleted = xapi.delete(token, "1234567890123456789")
    me = xapi.me(token)
    assert (deleted.status_code, me.status_code) == (429, 429)
    assert window(deleted)[:2] == (50, 0)
    assert before + 30 <= window(deleted)[2] <= time.time() + 31
    assert window(me)[:2] == (75, 0)


def test_the_token_endpoint_has_no_rate_limit_headers(emulator, token_endpoint):
    response = token_endpoint.refresh("not-a-refresh-token")
    assert response.status_code == 400
    assert not any(name in response.headers for name in HEADERS)


def test_a_window_opens_with_the_first_call_and_resets_after_15_minutes():
    rate_limits.reset()
    key = {"user_id": "window-test", "endpoint": "DELETE /2/tweets/:id"}
    start = 1_000_000.0
    for n in range(50):
        allowed, headers = rate_limits.take(**key, now=start + n)
        assert allowed
    allowed, headers = rate_limits.take(**key, now=start + WINDOW_S - 1)
    assert not allowed
    assert headers == {
        "x-rate-limit-limit": "50",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int(start) + WINDOW_S),
    }
    allowed, headers = rate_limits.take(**key, now=start + WINDOW_S)
    assert allowed
    assert headers["x-rate-limit-remaining"] == "49"
    assert headers["x-rate-limit-reset"] == str(int(start) + 2 * WINDOW_S)
    rate_limits.reset()
