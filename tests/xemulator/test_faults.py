"""Fault switches: the next N calls fail, hang, or hand out short-lived tokens."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support import wait_for


@pytest.mark.parametrize("status", [500, 503])
def test_next_n_calls_fail_with_the_status_then_succeed(control, user, token, xapi, status):
    control.add_fault("POST /2/tweets", status=status, count=3)
    for _ in range(3):
        response = xapi.post(token, "try me")
        assert response.status_code == status
        assert response.json()["type"] == "about:blank"
        assert response.json()["status"] == status
    assert control.tweets(user["id"]) == []
    assert xapi.post(token, "try me").status_code == 201


def test_injected_429_carries_rate_limit_headers(control, token, xapi):
    control.add_fault("POST /2/tweets", status=429, reset_in=30)
    before = int(time.time())
    response = xapi.post(token, "hello")
    assert response.status_code == 429
    assert response.headers["x-rate-limit-limit"] == "100"
    assert response.headers["x-rate-limit-remaining"] == "0"
    assert before + 30 <= int(response.headers["x-rate-limit-reset"]) <= time.time() + 31
    assert xapi.post(token, "hello").status_code == 201


def test_faults_target_one_endpoint_or_all(control, user, token, xapi):
    control.add_fault("GET /2/users/me", status=503)
    assert xapi.post(token, "unaffected").status_code == 201
    assert xapi.me(token).status_code == 503
    control.add_fault("*", status=500, count=2)
    assert xapi.timeline(token, user["id"]).status_code == 500
    assert xapi.me(token).status_code == 500
    assert xapi.me(token).status_code == 200


def test_clearing_faults(control, token, xapi):
    control.add_fault("POST /2/tweets", status=503, count=10)
    assert control.clear_faults() == {"cleared": 1}
    assert xapi.post(token, "clear skies").status_code == 201


def test_token_endpoint_faults(control, sign_in, token_endpoint):
    body = sign_in()
    control.add_fault("POST /2/oauth2/token", status=503)
    assert token_endpoint.refresh(body["refresh_token"]).status_code == 503
    # The failed call did not consume the refresh token.
    assert token_endpoint.refresh(body["refresh_token"]).status_code == 200


def test_bad_fault_requests_are_refused(emulator, control):
    session = requests.Session()
    session.auth = control.session.auth
    for body in (
        {"endpoint": "GET /nowhere", "status": 500},
        {"endpoint": "POST /2/tweets"},
        {"endpoint": "POST /2/tweets", "status": 200},
        {"endpoint": "POST /2/tweets", "status": 500, "count": 0},
    ):
        response = session.post(f"{emulator.url}/_emulator/faults", json=body, timeout=5)
        assert response.status_code == 400, body
        assert response.json()["error"] == "invalid_request"


def test_concurrent_calls_each_consume_one_fault(control, token, xapi):
    control.add_fault("POST /2/tweets", status=503, count=3)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda n: xapi.post(token, f"racer {n}").status_code, range(8)))
    assert sorted(statuses) == [201] * 5 + [503] * 3


def test_delayed_post_is_still_created_after_the_client_gives_up(control, user, token, xapi):
    control.add_fault("POST /2/tweets", delay_s=2)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        xapi.post(token, "slow X", timeout=0.5)
    assert control.tweets(user["id"]) == []
    posts = wait_for(
        lambda: control.tweets(user["id"]), timeout=10, what="the delayed post to be created"
    )
    assert time.monotonic() - started >= 2
    assert [post["text"] for post in posts] == ["slow X"]
    # A client that timed out finds it by reading the timeline, as the reconciler does.
    assert xapi.timeline(token, user["id"]).json()["data"][0]["text"] == "slow X"


def test_a_delayed_call_does_not_hold_up_other_requests(control, user, token, xapi, emulator):
    control.add_fault("POST /2/tweets", delay_s=3)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(xapi.post, token, "patience")
        wait_for(lambda: not control.tweets(user["id"]) and not slow.done(), timeout=2)
        started = time.monotonic()
        assert xapi.me(token).status_code == 200
        assert requests.get(f"{emulator.url}/alice", timeout=5).status_code == 200
        assert xapi.post(token, "meanwhile").status_code == 201
        assert time.monotonic() - started < 1.5
        assert not slow.done()
        assert slow.result(timeout=10).status_code == 201
    assert [p["text"] for p in control.tweets(user["id"])] == ["patience", "meanwhile"]


def test_delay_then_status_fails_after_waiting(control, token, xapi):
    control.add_fault("GET /2/users/me", delay_s=1, status=503)
    started = time.monotonic()
    assert xapi.me(token).status_code == 503
    assert time.monotonic() - started >= 1
