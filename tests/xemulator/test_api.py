"""X API v2 endpoints of the emulator: posting, limits, deleting, reading a timeline."""

import time

import requests

from tests.xemulator.conftest import ALL_SCOPES


def test_post_is_created_and_shows_on_the_timeline(control, user, token, xapi):
    response = xapi.post(token, "We are live!")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["text"] == "We are live!"
    assert data["id"].isdigit() and len(data["id"]) == 19
    assert data["edit_history_tweet_ids"] == [data["id"]]

    timeline = xapi.timeline(token, user["id"], **{"tweet.fields": "created_at"}).json()
    assert [post["id"] for post in timeline["data"]] == [data["id"]]
    assert timeline["data"][0]["created_at"].endswith("Z")
    assert timeline["meta"] == {"result_count": 1, "newest_id": data["id"], "oldest_id": data["id"]}
    assert control.tweets(user["id"])[0]["deleted"] is False


def test_links_show_as_tco_links_with_the_original_in_entities(control, user, token, xapi):
    watch_url = "https://onair.example.com/b/abc123/"
    created = xapi.post(token, f"I'm live: {watch_url}!").json()["data"]
    assert watch_url not in created["text"]
    short = created["text"][len("I'm live: ") : -1]
    assert short.startswith("https://t.co/") and len(short) == 23

    post = xapi.timeline(token, user["id"], **{"tweet.fields": "entities"}).json()["data"][0]
    assert post["text"] == created["text"]
    [link] = post["entities"]["urls"]
    assert link["expanded_url"] == watch_url
    assert link["url"] == short
    assert post["text"][link["start"] : link["end"]] == short
    # What was written is kept: the control API and the timeline page show it.
    assert control.tweets(user["id"])[0]["text"] == f"I'm live: {watch_url}!"


def test_bare_domains_are_links_and_ip_addresses_are_not(user, token, xapi):
    # As twitter-text extracts links: a known top-level domain makes one, with or
    # without http://; an address without one (an IP, localhost) stays text.
    text = "see onair.tv/b/x and http://127.0.0.1:8000/b/abc/ or localhost:8000"
    created = xapi.post(token, text).json()["data"]
    assert created["text"].startswith("see https://t.co/")
    assert created["text"].endswith(" and http://127.0.0.1:8000/b/abc/ or localhost:8000")
    post = xapi.timeline(token, user["id"], **{"tweet.fields": "entities"}).json()["data"][0]
    [link] = post["entities"]["urls"]
    assert link["expanded_url"] == "http://onair.tv/b/x"
    assert link["display_url"] == "onair.tv/b/x"


def test_timeline_start_time_filters_older_posts(user, token, xapi):
    xapi.post(token, "old news")
    assert xapi.timeline(token, user["id"], start_time="2099-01-01T00:00:00Z").json() == {
        "meta": {"result_count": 0}
    }
    found = xapi.timeline(token, user["id"], start_time="2020-01-01T00:00:00.000Z").json()
    assert found["meta"]["result_count"] == 1
    assert xapi.timeline(token, user["id"], start_time="yesterday").status_code == 400


def test_posting_needs_the_tweet_write_scope(control, user, xapi):
    read_only = control.issue_token(user["id"], scope="tweet.read users.read")["access_token"]
    response = xapi.post(read_only, "hello")
    assert response.status_code == 403
    assert response.json() == {
        "title": "Forbidden",
        "type": "about:blank",
        "status": 403,
        "detail": "Forbidden",
    }
    assert xapi.me(read_only).status_code == 200
    assert control.tweets(user["id"]) == []


def test_text_over_280_weighted_characters_is_a_400_invalid_request(token, xapi):
    assert xapi.post(token, "a" * 280).status_code == 201
    too_long = xapi.post(token, "b" * 281)
    assert too_long.status_code == 400
    body = too_long.json()
    assert body["type"] == "https://api.x.com/2/problems/invalid-request"
    assert body["title"] == "Invalid Request"
    assert "too long" in body["errors"][0]["message"]
    # As on X, a URL counts 23 and CJK characters count 2.
    assert xapi.post(token, "x" * 250 + " https://example.com/" + "y" * 200).status_code == 201
    assert xapi.post(token, "漢" * 141).status_code == 400


def test_length_counts_an_emoji_sequence_as_two_and_a_bare_domain_as_a_link(token, xapi):
    family = "👨‍👩‍👧‍👦"  # seven code points, one emoji
    assert xapi.post(token, family * 140).status_code == 201
    assert xapi.post(token, family * 141).status_code == 400
    assert xapi.post(token, "🇯🇵1️⃣" * 70).status_code == 201
    assert xapi.post(token, "a" * 256 + " onair.tv").status_code == 201
    assert xapi.post(token, "b" * 257 + " onair.tv").status_code == 400


def test_empty_text_or_unknown_fields_are_invalid_requests(token, xapi, emulator):
    assert xapi.post(token, "").status_code == 400
    bad = requests.post(
        f"{emulator.url}/2/tweets",
        json={"text": "hi", "colour": "red"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert bad.status_code == 400
    assert bad.json()["type"] == "https://api.x.com/2/problems/invalid-request"
    not_json = requests.post(
        f"{emulator.url}/2/tweets",
        data="{oops",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=5,
    )
    assert not_json.status_code == 400


def test_duplicate_text_from_the_same_user_is_403_with_x_body(control, token, xapi):
    assert xapi.post(token, "Same words").status_code == 201
    duplicate = xapi.post(token, "Same words")
    assert duplicate.status_code == 403
    assert duplicate.json() == {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    # Another user may say the same thing.
    bob = control.create_user("bob")
    bob_token = control.issue_token(bob["id"], scope=ALL_SCOPES)["access_token"]
    assert xapi.post(bob_token, "Same words").status_code == 201


def test_more_than_100_posts_in_15_minutes_is_429_with_rate_limit_headers(token, xapi):
    started = time.time()
    for n in range(100):
        response = xapi.post(token, f"post number {n}")
        assert response.status_code == 201, response.text
        assert response.headers["x-rate-limit-limit"] == "100"
        assert response.headers["x-rate-limit-remaining"] == str(99 - n)
    limited = xapi.post(token, "one too many")
    assert limited.status_code == 429
    assert limited.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    assert limited.headers["x-rate-limit-remaining"] == "0"
    reset = int(limited.headers["x-rate-limit-reset"])
    assert started + 15 * 60 - 5 <= reset <= time.time() + 15 * 60 + 5


def test_delete_own_post(control, user, token, xapi):
    post_id = xapi.post(token, "short-lived").json()["data"]["id"]
    deleted = xapi.delete(token, post_id)
    assert deleted.status_code == 200
    assert deleted.json() == {"data": {"deleted": True}}
    assert xapi.timeline(token, user["id"]).json() == {"meta": {"result_count": 0}}
    assert control.tweets(user["id"])[0]["deleted"] is True
    assert xapi.delete(token, post_id).status_code == 404
    # Deleted text may be posted again.
    assert xapi.post(token, "short-lived").status_code == 201


def test_cannot_delete_another_users_post(control, token, xapi):
    bob = control.create_user("bob")
    bob_token = control.issue_token(bob["id"], scope=ALL_SCOPES)["access_token"]
    post_id = xapi.post(bob_token, "bob's").json()["data"]["id"]
    assert xapi.delete(token, post_id).status_code == 403
    assert control.tweets(bob["id"])[0]["deleted"] is False


def test_user_timeline_is_newest_first_with_max_results_and_since_id(user, token, xapi):
    ids = [xapi.post(token, f"post {n}").json()["data"]["id"] for n in range(7)]
    page = xapi.timeline(token, user["id"], max_results=5).json()
    assert [p["id"] for p in page["data"]] == ids[::-1][:5]
    assert page["meta"]["result_count"] == 5
    newer = xapi.timeline(token, user["id"], since_id=ids[4]).json()
    assert [p["id"] for p in newer["data"]] == [ids[6], ids[5]]
    assert xapi.timeline(token, user["id"], max_results=2).status_code == 400
    assert xapi.timeline(token, user["id"], max_results=101).status_code == 400


def test_timeline_of_an_unknown_user_is_a_resource_not_found_error(token, xapi):
    response = xapi.timeline(token, "1234567890")
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["type"] == "https://api.x.com/2/problems/resource-not-found"
    assert error["resource_type"] == "user"


def test_users_me_rejects_unknown_user_fields(token, xapi):
    response = xapi.me(token, **{"user.fields": "created_at,shoe_size"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameters"] == {"user.fields": ["shoe_size"]}


def test_users_me_returns_the_account_creation_date_given_to_the_emulator(control, xapi):
    old = control.create_user("oldtimer", created_at="2009-03-01T10:00:00+00:00")
    token = control.issue_token(old["id"])["access_token"]
    data = xapi.me(token, **{"user.fields": "created_at"}).json()["data"]
    assert data["created_at"] == "2009-03-01T10:00:00.000Z"


def test_control_api_needs_the_emulator_client_credentials(emulator):
    for auth in (None, ("onair-dev-client", "wrong")):
        response = requests.post(f"{emulator.url}/_emulator/reset", auth=auth, timeout=5)
        assert response.status_code == 401


def test_control_api_creates_users_idempotently_by_handle(control):
    first = control.create_user("Zed", name="Zed")
    again = control.create_user("zed")
    assert again["id"] == first["id"]
    assert again["username"] == "Zed"
