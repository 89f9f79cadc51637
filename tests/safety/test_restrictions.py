"""Restrictions from going live: the go-live page, its POST and the publish socket all
refuse, saying until when; a publish socket already open is closed when the restriction
is made (through a real Daphne process), and the broadcaster's page says why."""

import asyncio
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from broadcast import services
from broadcast.models import Broadcast
from safety.models import AuditEntry, Notice, Reason, Restriction
from safety.restrictions import active_restriction, lift_restriction, restrict
from tests.factories import BroadcastFactory, UserFactory
from tests.media.browser import GO_LIVE, go_live, wait_for_dataset
from tests.media.conftest import FIXTURES, adult, session_cookie
from tests.media.sockets import connect, next_json, publish_path, recorded_chunks, refusal
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "You streamed a fight and cheered it on."


@pytest.fixture
def owner():
    return adult(username="restricted-owner", handle="restricted_owner")


@pytest.fixture
def moderator():
    return UserFactory(username="moderator", handle="moderator", is_staff=True)


def test_restriction_lasts_the_default_period_and_tells_the_user_why(owner, moderator):
    before = timezone.now()

    restriction = restrict(user=owner, by=moderator, reason=REASON, rule=Reason.CRIME)

    expected = before + timedelta(days=settings.RESTRICTION_DAYS)
    assert (
        expected <= restriction.until <= timezone.now() + timedelta(days=settings.RESTRICTION_DAYS)
    )
    assert restriction.created_by == moderator and restriction.lifted_at is None
    notice = Notice.objects.get(user=owner)
    assert notice.action == Notice.Action.RESTRICTION
    assert notice.restriction == restriction
    assert notice.rule == Reason.CRIME and notice.explanation == REASON
    assert notice.issued_by == moderator and notice.read_at is None
    entry = AuditEntry.objects.get(action="restrict")
    assert entry.actor == moderator and entry.reason == REASON
    assert entry.target_id == str(owner.pk)
    assert entry.target_snapshot["handle"] == "restricted_owner"
    assert entry.details["days"] == settings.RESTRICTION_DAYS
    assert active_restriction(owner) == restriction
    assert not services.user_may_broadcast(owner)


def test_restriction_needs_a_reason_and_a_sensible_length(owner, moderator):
    for days, reason in ((0, REASON), (3651, REASON), (7, "   ")):
        with pytest.raises(ValidationError):
            restrict(user=owner, by=moderator, days=days, reason=reason)
    assert not Restriction.objects.exists()
    assert not Notice.objects.exists()


def test_the_restriction_in_force_is_the_one_that_ends_last(owner, moderator):
    restrict(user=owner, by=moderator, days=3, reason=REASON)
    longest = restrict(user=owner, by=moderator, days=60, reason=REASON)
    restrict(user=owner, by=moderator, days=10, reason=REASON)

    assert active_restriction(owner) == longest


def test_a_lifted_or_expired_restriction_lets_the_user_go_live_again(owner, moderator):
    restriction = restrict(user=owner, by=moderator, days=7, reason=REASON)

    assert lift_restriction(restriction=restriction, by=moderator) is True
    assert lift_restriction(restriction=restriction, by=moderator) is False  # once
    assert restriction.lifted_by == moderator and restriction.lifted_at is not None
    assert services.user_may_broadcast(owner)
    assert AuditEntry.objects.filter(action="lift_restriction").count() == 1

    expired = restrict(user=owner, by=moderator, days=7, reason=REASON)
    Restriction.objects.filter(pk=expired.pk).update(until=timezone.now() - timedelta(seconds=1))
    assert active_restriction(owner) is None
    assert services.user_may_broadcast(owner)


def test_the_go_live_service_refuses_a_restricted_owner(owner, moderator):
    restriction = restrict(user=owner, by=moderator, days=7, reason=REASON)

    with pytest.raises(services.Restricted) as refused:
        services.create_broadcast(
            owner=owner, title="Again", visibility="public", tell_followers=False
        )
    assert refused.value.until == restriction.until
    assert "You may not go live until" in str(refused.value)
    assert not Broadcast.objects.filter(owner=owner).exists()


def test_go_live_page_says_until_when_and_why(client, owner, moderator):
    restriction = restrict(user=owner, by=moderator, days=7, reason=REASON, rule=Reason.CRIME)
    client.force_login(owner)

    page = client.get(reverse("broadcast:go_live"))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="go-live-restricted"' in html
    assert "You may not go live until" in html
    assert f"{restriction.until:%Y}" in html
    assert REASON in html and "Violence or a crime in progress" in html
    assert reverse("safety:notices") in html
    assert "js/publisher.js" not in html  # no camera, no go-live form


def test_go_live_post_is_refused_with_code_restricted_and_until(client, owner, moderator):
    restriction = restrict(user=owner, by=moderator, days=7, reason=REASON)
    client.force_login(owner)

    response = client.post(
        reverse("broadcast:go_live"),
        {"title": "Let me back", "visibility": "public"},
        headers={"accept": "application/json"},
    )

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "restricted"
    assert body["until"] == restriction.until.isoformat()
    assert body["message"].startswith("You may not go live until")
    assert not Broadcast.objects.filter(owner=owner).exists()


def test_restricting_a_live_broadcaster_ends_the_live(owner, moderator):
    live = BroadcastFactory(owner=owner, live=True)
    others = BroadcastFactory(live=True)

    restrict(user=owner, by=moderator, reason=REASON)

    live.refresh_from_db()
    others.refresh_from_db()
    assert live.state == Broadcast.State.ENDED
    assert live.end_reason == services.EndReason.RESTRICTED
    assert others.state == Broadcast.State.LIVE
    assert AuditEntry.objects.get(action="restrict").details["ended_broadcasts"] == [live.slug]


def test_publish_socket_refuses_a_restricted_owner(live_server_process, client, owner, moderator):
    broadcast = BroadcastFactory(owner=owner)  # created before the restriction
    restriction = restrict(user=owner, by=moderator, days=7, reason=REASON)
    assert Broadcast.objects.get(pk=broadcast.pk).state == Broadcast.State.ENDED
    cookie = session_cookie(client, owner)

    async def scenario():
        async with connect(live_server_process, publish_path(broadcast.slug), cookie) as ws:
            error = await next_json(ws, kind="error")
            async with asyncio.timeout(10):
                await ws.wait_closed()
            return error, ws.close_code

    error, close_code = asyncio.run(scenario())
    assert error == {"type": "error", "code": "restricted", "until": restriction.until.isoformat()}
    assert close_code == 4403


def test_an_open_publish_socket_is_closed_when_the_restriction_is_made(
    live_server_process, client, owner, moderator
):
    live = BroadcastFactory(owner=owner, live=True)
    cookie = session_cookie(client, owner)
    chunks = recorded_chunks((FIXTURES / "fake-camera-250ms.webm").read_bytes())
    server = live_server_process

    async def scenario():
        async with connect(server, publish_path(live.slug), cookie) as publisher:
            await next_json(publisher, kind="ready")
            for chunk in chunks:
                await publisher.send(chunk)
            await publisher.send('{"type": "ping", "id": 1}')
            await next_json(publisher, kind="pong")  # media is flowing
            restrict(user=owner, by=moderator, reason=REASON)
            ended = await next_json(publisher, kind="ended", timeout=20)
            async with asyncio.timeout(20):
                await publisher.wait_closed()
            closed = publisher.close_code
        # The page's automatic reconnect is refused too, saying until when.
        async with connect(server, publish_path(live.slug, "tab-2"), cookie) as again:
            refused = await refusal(again)
        return ended, closed, refused

    ended, closed, refused = asyncio.run(scenario())
    assert ended == {"type": "ended", "reason": "restricted"}
    assert closed == 1000
    assert refused == ("restricted", 4403)
    live.refresh_from_db()
    assert live.state == Broadcast.State.ENDED and live.end_reason == "restricted"


# --- in Chromium (last: the browser holds an event loop for the rest of the module) ----


@pytest.mark.browser
def test_broadcaster_page_says_why_the_live_ended_then_until_when(
    browser, live_server_process, client, owner, moderator, screenshot_dir
):
    shots = screenshot_dir
    context, page, _slug, errors = go_live(
        browser, live_server_process, client, owner, viewport={"width": 1280, "height": 800}
    )
    try:
        restrict(user=owner, by=moderator, days=7, reason=REASON, rule=Reason.CRIME)

        wait_for_dataset(page, GO_LIVE, "ended", "true", timeout=20)
        notice = page.locator("[data-notice]")
        assert "restricted your account from going live" in notice.inner_text()
        assert page.eval_on_selector(GO_LIVE, "el => el.dataset.connection") == "ended"
        page.screenshot(
            path=str(shots / "safety-restricted-live-ended-desktop.png"), full_page=True
        )

        page.goto(f"{live_server_process.url}/live/")
        restricted = page.get_by_test_id("go-live-restricted")
        wait_for(restricted.is_visible, timeout=10, what="the restricted go-live page")
        assert "You may not go live until" in restricted.inner_text()
        assert REASON in restricted.inner_text()
        assert page.get_by_test_id("notice-banner").is_visible()
        page.screenshot(path=str(shots / "safety-restricted-go-live-desktop.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / "safety-restricted-go-live-phone.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def test_deleting_the_account_does_not_escape_a_restriction(owner, moderator):
    from accounts.self_service import delete_account, finish_account_deletion

    x_id = owner.x_id
    restriction = restrict(user=owner, by=moderator, reason=REASON, rule=Reason.CRIME)
    delete_account(user=owner)
    finish_account_deletion(user_id=owner.pk)

    returning = adult(username="same-x-account", handle="restricted_owner", x_id=x_id)
    assert active_restriction(returning) == restriction
    assert not services.user_may_broadcast(returning)
    stranger = adult(username="someone-else", handle="someone_else")
    assert active_restriction(stranger) is None
