"""End to end, in Chromium, with two web processes sharing broadcasts through Redis (as in
production): a broadcaster goes live and tells their X followers, viewers on both
processes watch, an anonymous viewer reports it as a crime in progress, it shows first on
the desk's live wall with its live picture, staff take it down from there; viewers on both processes
see the removal message, the chat closes, the publisher cannot reconnect, the post is
gone from the X emulator, and the act is in the audit log."""

import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from broadcast import posting
from broadcast.models import Broadcast, XPost
from safety import report_limits
from safety.models import AuditEntry, Notice, Reason, Report
from safety.selectors import active_restriction
from tests.chat.support import chatter
from tests.conftest import CeleryWorker, DaphneServer
from tests.factories import BroadcastFactory, UserFactory
from tests.media.browser import (
    GO_LIVE,
    PLAYER,
    dataset,
    go_live,
    open_viewer,
    playback,
    wait_for_dataset,
    wait_until_playing,
)
from tests.support import wait_for
from tests.xposting.conftest import WORKER_ENV, make_x_user
from xemulator.control import EmulatorControl

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REMOVED = "This broadcast was removed for breaking the rules."
# What the publisher page sees when it tries its socket again after the takedown.
TRY_PUBLISHING = """(path) => new Promise((resolve) => {
  const ws = new WebSocket(`ws://${location.host}${path}`);
  let refusal = null;
  ws.onmessage = (event) => { refusal = JSON.parse(event.data); };
  ws.onclose = (event) => resolve({ refusal, code: event.code });
})"""


@pytest.fixture
def web_servers(redis_url, live_server_process, tmp_path):
    """Two web processes on one Redis: every test process's servers get REDIS_URL."""
    assert redis_url == settings.REDIS_URL
    second = DaphneServer(tmp_path, name="web-two")
    yield [live_server_process, second]
    second.stop()


@pytest.fixture
def worker(tmp_path):
    worker = CeleryWorker(tmp_path, name="takedown-worker", **WORKER_ENV)
    yield worker
    worker.stop()


@pytest.fixture
def x(x_emulator_process):
    return EmulatorControl(settings.X_API_BASE, settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)


def signed_in(browser, server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    return context


def has_thumbnail(server, slug):
    try:
        with urllib.request.urlopen(f"{server.url}/b/{slug}/thumbnail.jpg", timeout=5) as r:
            return r.status == 200
    except urllib.error.HTTPError:
        return False


def chat_state(page):
    return page.eval_on_selector(
        "[data-chat]",
        """el => ({
          closed: el.dataset.closed === "true",
          shown: !el.querySelector("[data-chat-closed]").hidden,
          inputDisabled: el.querySelector("[data-chat-input]")?.disabled ?? null,
        })""",
    )


def test_staff_take_down_a_live_broadcast_for_everyone_everywhere(
    browser, web_servers, worker, x, client
):
    one, two = web_servers
    owner = make_x_user(x)
    contexts = []
    try:
        context, studio, slug, studio_errors = go_live(
            browser, one, client, owner, title="Live from the fake camera"
        )
        contexts.append(context)
        broadcast = Broadcast.objects.get(slug=slug)
        # The go-live post is made on X (first keyframe -> worker -> emulator).
        post = wait_for(
            lambda: XPost.objects.filter(
                pk=getattr(posting.go_live_post_of(broadcast), "pk", None),
                state=XPost.State.POSTED,
            ).first(),
            timeout=60,
            interval=0.25,
            what="the go-live post to be made",
        )
        assert [p["id"] for p in x.tweets(owner.x_id) if not p["deleted"]] == [post.post_id]

        # An anonymous viewer on each process, and a signed-in chatter on the second.
        viewers = []
        for server in (one, two):
            context, page, errors = open_viewer(browser, server, slug)
            contexts.append(context)
            viewers.append((page, errors))
        context = signed_in(browser, two, chatter(username="td-chatter"))
        contexts.append(context)
        chatter_page = context.new_page()
        chatter_page.goto(f"{two.url}/b/{slug}/")
        viewers.append((chatter_page, []))
        for page, _ in viewers:
            wait_until_playing(page)
        wait_for(
            lambda: chat_state(chatter_page)["inputDisabled"] is False,
            timeout=20,
            what="the chatter's chat to be ready",
        )

        # An anonymous viewer reports it as a crime in progress. (Every page here comes
        # from 127.0.0.1: this address starts a fresh hourly window of anonymous reports.)
        report_limits.forget_address(address="127.0.0.1")
        wait_for(lambda: has_thumbnail(one, slug), timeout=40, what="a live picture")
        reporter = viewers[0][0]
        reporter.get_by_role("button", name="Report this broadcast").click()
        dialog = reporter.get_by_role("dialog", name="Report this broadcast")
        dialog.get_by_label(str(Reason.CRIME.label)).check()
        dialog.get_by_role("button", name="Send report").click()
        expect(dialog.locator("[data-report-confirmation]")).to_be_visible()
        filed = Report.objects.get(target_key=f"b:{broadcast.pk}")
        assert filed.reporter is None and filed.urgent and filed.reason == Reason.CRIME

        # It shows first on the live wall, ahead of a quiet broadcast, with its picture.
        quiet = BroadcastFactory(live=True, title="Quiet knitting")
        moderator = UserFactory(
            username="td-staff", handle="td_staff", is_staff=True, is_superuser=True
        )
        context = signed_in(browser, one, moderator)
        contexts.append(context)
        desk = context.new_page()
        desk.goto(one.url + reverse("admin:safety_live"))
        cards = desk.eval_on_selector_all(
            "[data-desk-card]", "cards => cards.map(card => card.dataset.deskCard)"
        )
        assert cards[0] == slug and quiet.slug in cards
        card = desk.locator(f"[data-desk-card='{slug}']")
        wait_for(
            lambda: card.locator("img[data-desk-thumb]").evaluate(
                "img => img.complete && img.naturalWidth > 0"
            ),
            timeout=20,
            what="the live picture on the wall",
        )

        # Staff take it down from the desk's live wall.
        card.locator("summary").click()
        card.locator("select").select_option(Reason.CRIME.value)
        card.locator("textarea").fill("Live violence.")
        card.locator("button[type=submit]").click()

        # Viewers on both processes see the removal message.
        for page, _ in viewers:
            wait_for_dataset(page, PLAYER, "endReason", "removed", timeout=15)
            assert playback(page)["state"] == "ended"
            assert playback(page)["status"] == REMOVED
        # Its chat closes for everyone at once; nobody is offered to write any more.
        for page, _ in viewers:
            wait_for(lambda p=page: chat_state(p)["closed"], timeout=15, what="chat closed")
            assert chat_state(page)["shown"] is True
        assert chat_state(chatter_page)["inputDisabled"] is True

        # The broadcaster's page says why, and its socket cannot come back.
        wait_for_dataset(studio, GO_LIVE, "ended", "true", timeout=15)
        notice = studio.locator("[data-notice]").inner_text()
        assert "removed for breaking the rules" in notice
        # The report was urgent, so the wall's form had the restriction pre-selected: the
        # owner may not go live again for a while, which the socket says first.
        restriction = active_restriction(owner)
        assert restriction is not None and restriction.rule == Reason.CRIME
        again = studio.evaluate(TRY_PUBLISHING, f"/ws/b/{slug}/publish/?session=again")
        assert again == {
            "refusal": {
                "type": "error",
                "code": "restricted",
                "until": restriction.until.isoformat(),
            },
            "code": 4403,
        }
        assert dataset(studio, GO_LIVE, "connection") == "ended"

        # The post is gone from X.
        wait_for(
            lambda: all(p["deleted"] for p in x.tweets(owner.x_id)),
            timeout=60,
            interval=0.25,
            what="the go-live post to be deleted from X",
        )
        post.refresh_from_db()
        assert post.deletion_state == XPost.DeletionState.DELETED

        # The broadcaster is told, and the act is in the audit log.
        assert Notice.objects.filter(
            user=owner, action=Notice.Action.TAKEDOWN, rule=Reason.CRIME, broadcast=broadcast
        ).exists()
        entry = AuditEntry.objects.get(action="takedown", target_id=str(broadcast.pk))
        assert entry.actor == moderator
        assert entry.target_snapshot["slug"] == slug
        assert entry.target_snapshot["owner_handle"] == owner.handle
        assert entry.target_snapshot["viewers"] >= 3

        # A viewer arriving now reads the same.
        context, late, late_errors = open_viewer(browser, two, slug)
        contexts.append(context)
        wait_for_dataset(late, PLAYER, "endReason", "removed", timeout=15)
        assert playback(late)["status"] == REMOVED
        wait_for(lambda: chat_state(late)["closed"], timeout=15, what="late chat closed")

        for _, errors in viewers:
            assert errors == []
        assert studio_errors == late_errors == []
    finally:
        for context in contexts:
            context.close()
