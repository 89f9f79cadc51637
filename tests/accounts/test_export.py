"""Download my data: one JSON attachment of everything OnAir holds about the user, for
them alone, once a minute; reports against them as counts without the reporters."""

import json
from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.test import Client
from django.utils import timezone

from accounts import blocks
from broadcast.models import Broadcast, XPost
from chat import services
from safety.models import Appeal, Notice, Restriction
from safety.notices import issue_notice
from tests.chat.support import chatter, live_broadcast
from tests.factories import BroadcastFactory, ReportFactory

pytestmark = pytest.mark.django_db


def download(client, **headers):
    return client.post(
        "/accounts/data/", headers={"X-CSRFToken": client.cookies["csrftoken"].value, **headers}
    )


def signed_in(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/accounts/profile/")  # sets the CSRF cookie
    return client


@pytest.fixture
def fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def test_the_export_holds_everything_about_the_user_and_nothing_secret(fresh_cache):
    me = chatter(handle="exporter", display_name="Ex Porter", x_id="424242")
    account = SocialAccount.objects.create(
        user=me, provider="twitter_oauth2", uid="424242", extra_data={"username": "exporter"}
    )
    SocialToken.objects.create(account=account, token="SECRET-ACCESS", token_secret="SECRET-RT")
    mine = BroadcastFactory(owner=me, title="My cooking show", state=Broadcast.State.ENDED)
    XPost.objects.create(
        purpose=XPost.Purpose.GO_LIVE,
        source_key=f"broadcast:{mine.pk}",
        idempotency_key="k1",
        user=me,
        broadcast=mine,
        text="My cooking show https://onair.example/b/x/",
        state=XPost.State.POSTED,
        post_url="https://x.com/exporter/status/1",
    )
    elsewhere = live_broadcast(title="Someone else's live")
    services.post_message(broadcast=elsewhere, user=me, text="hello from me")
    services.post_message(broadcast=elsewhere, user=chatter(), text="not mine")
    pest = chatter(handle="pest")
    blocks.block_user(blocker=me, blocked_id=pest.pk)
    blocks.block_user(blocker=chatter(handle="secretblocker"), blocked_id=me.pk)
    restriction = Restriction.objects.create(
        user=me, until=timezone.now() + timedelta(days=30), reason="Dangerous stunt"
    )
    notice = issue_notice(
        user=me,
        action=Notice.Action.RESTRICTION,
        rule="crime",
        explanation="Dangerous stunt",
        restriction=restriction,
    )
    Appeal.objects.create(notice=notice, text="It was staged")
    ReportFactory(reporter=me, broadcast=elsewhere, reason="spam", details="bot links")
    snitch = chatter(handle="snitch")
    ReportFactory(reporter=snitch, broadcast=mine, target_user=me, reason="harassment")
    ReportFactory(reporter=chatter(), broadcast=mine, target_user=me, reason="spam")

    response = download(signed_in(me))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith('attachment; filename="onair-data-exporter')
    assert response["Cache-Control"] == "no-store"
    raw = response.content.decode()
    data = json.loads(raw)
    assert data["format"] == "onair-export-1"
    assert data["profile"]["handle"] == "exporter" and data["profile"]["x_id"] == "424242"
    assert data["profile"]["birth_date"] == "1990-05-17"
    assert data["x_account"]["token_stored"] is True
    assert [b["title"] for b in data["broadcasts"]] == ["My cooking show"]
    assert data["x_posts"][0]["post_url"] == "https://x.com/exporter/status/1"
    assert [m["text"] for m in data["chat_messages"]] == ["hello from me"]
    assert data["chat_messages"][0]["broadcast"] == "Someone else's live"
    assert data["blocks"] == [{"handle": "pest", "since": data["blocks"][0]["since"]}]
    assert data["restrictions"][0]["reason"] == "Dangerous stunt"
    assert data["notices"][0]["appeal"]["text"] == "It was staged"
    assert [(r["reason"], r["details"]) for r in data["reports_made"]] == [("spam", "bot links")]
    assert data["reports_about_you"] == {"count": 2, "by_reason": {"harassment": 1, "spam": 1}}
    # Never: tokens, who blocked them, who reported them, other people's messages.
    for secret in ("SECRET-ACCESS", "SECRET-RT", "secretblocker", "snitch", "not mine"):
        assert secret not in raw


def test_the_export_is_for_signed_in_users_only_and_needs_csrf(fresh_cache):
    anonymous = Client()
    response = anonymous.post("/accounts/data/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert anonymous.get("/accounts/data/").status_code == 302
    client = signed_in(chatter())
    assert client.post("/accounts/data/").status_code == 403  # no CSRF token
    assert client.get("/accounts/data/").status_code == 405


def test_one_download_a_minute(fresh_cache):
    me = chatter()
    client = signed_in(me)
    assert download(client).status_code == 200
    again = download(client)
    assert again.status_code == 429
    assert 0 < int(again["Retry-After"]) <= 60
    assert "once a minute" in again.content.decode()  # the account page, with the reason
    as_json = download(client, Accept="application/json")
    assert as_json.status_code == 429
    body = as_json.json()
    assert body["code"] == "rate_limited" and 0 < body["retry_after"] <= 60
    # Someone else is not held back by my limit.
    assert download(signed_in(chatter())).status_code == 200


def test_a_user_with_nothing_yet_gets_empty_sections(fresh_cache):
    data = json.loads(download(signed_in(chatter())).content)
    assert data["broadcasts"] == [] and data["chat_messages"] == []
    assert data["x_account"] is None
    assert data["reports_about_you"] == {"count": 0, "by_reason": {}}
