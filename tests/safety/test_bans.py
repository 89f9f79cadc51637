"""Site-wide bans: signed out everywhere, the live ended, chat stopped on an open socket
(a real Daphne process), posts on X deleted before the tokens go (a real Celery worker
and the X emulator), and the X account refused at sign-in, even after the account is
deleted (Chromium through the X emulator's consent page)."""

import asyncio
import itertools
import os

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import RefusedXAccount, User
from accounts.selectors import can_chat, x_id_hash
from broadcast import posting
from broadcast.models import Broadcast, XPost
from broadcast.services import user_may_broadcast
from chat.models import ChatMessage
from safety.bans import ban_account, is_banned, lift_ban
from safety.models import Appeal, AuditEntry, Notice, Reason
from tests.accounts.test_sign_in_with_x import consent, give_birth_date
from tests.chat.support import ChatSocket, chatter, live_broadcast
from tests.chat.support import session_cookie as chat_cookie
from tests.conftest import CeleryWorker
from tests.factories import BroadcastFactory, UserFactory
from tests.support import wait_for, years_ago
from tests.x_fixtures import x  # noqa: F401 (the X emulator's control API)
from tests.xposting.conftest import WORKER_ENV, make_x_user
from tests.xposting.test_post_watch_link import live_posts, settled

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Repeated threats against other viewers."
_names = itertools.count()


@pytest.fixture
def moderator():
    return UserFactory(username="ban-moderator", handle="ban_moderator", is_staff=True)


@pytest.fixture
def member():
    return chatter(username="banned-member", handle="banned_member")


def test_ban_closes_the_account_and_refuses_its_x_account_from_now_on(member, moderator):
    notice = ban_account(user=member, by=moderator, reason=REASON, rule=Reason.HARASSMENT)

    member.refresh_from_db()
    assert not member.is_active and is_banned(member)
    assert not can_chat(member) and not user_may_broadcast(member)
    refused = RefusedXAccount.objects.get()
    assert refused.why == RefusedXAccount.Why.BANNED
    assert refused.x_id_hash == x_id_hash(member.x_id) and member.x_id not in refused.x_id_hash
    assert notice.action == Notice.Action.BAN and notice.user == member
    assert notice.rule == Reason.HARASSMENT and notice.explanation == REASON
    assert notice.issued_by == moderator
    entry = AuditEntry.objects.get(action="ban")
    assert entry.actor == moderator and entry.reason == REASON
    assert entry.target_snapshot == {
        "user_id": member.pk,
        "handle": "banned_member",
        "x_id_hash": x_id_hash(member.x_id),
    }


def test_ban_is_refused_for_staff_without_a_reason_or_twice(member, moderator):
    with pytest.raises(ValidationError) as no_reason:
        ban_account(user=member, by=moderator, reason="  ")
    with pytest.raises(ValidationError) as staff:
        ban_account(user=UserFactory(is_staff=True), by=moderator, reason=REASON)
    ban_account(user=member, by=moderator, reason=REASON)
    with pytest.raises(ValidationError) as twice:
        ban_account(user=member, by=moderator, reason=REASON)

    codes = [refusal.value.code for refusal in (no_reason, staff, twice)]
    assert codes == ["reason", "staff", "already_banned"]
    assert Notice.objects.count() == 1


def test_ban_signs_the_user_out_of_every_session(member, moderator):
    phone, laptop = Client(), Client()
    for device in (phone, laptop):
        device.force_login(member)
        assert device.get(reverse("accounts:profile")).status_code == 200
    assert Session.objects.count() == 2

    ban_account(user=member, by=moderator, reason=REASON)

    for device in (phone, laptop):
        page = device.get(reverse("accounts:profile"))
        assert page.status_code == 302 and page["Location"].startswith(reverse("account_login"))
    # Even once the ban is lifted, the old sessions stay signed out: a new sign-in is needed.
    lift_ban(user=member, by=moderator)
    for device in (phone, laptop):
        assert device.get(reverse("accounts:profile")).status_code == 302


def test_ban_ends_their_live_broadcast(member, moderator):
    live = BroadcastFactory(owner=member, live=True)
    someone_elses = BroadcastFactory(live=True)

    ban_account(user=member, by=moderator, reason=REASON)

    live.refresh_from_db()
    someone_elses.refresh_from_db()
    assert live.state == Broadcast.State.ENDED and live.end_reason == "banned"
    assert someone_elses.state == Broadcast.State.LIVE
    assert AuditEntry.objects.get(action="ban").details["ended_broadcasts"] == [live.slug]


def test_lifting_a_ban_lets_the_account_and_its_x_account_back(member, moderator):
    ban_account(user=member, by=moderator, reason=REASON)

    assert lift_ban(user=member, by=moderator) is True
    assert lift_ban(user=member, by=moderator) is False  # nothing left to lift

    member.refresh_from_db()
    assert member.is_active and can_chat(member) and not is_banned(member)
    assert not RefusedXAccount.objects.exists()
    assert AuditEntry.objects.filter(action="lift_ban", actor=moderator).count() == 1


def test_ban_stops_chat_on_a_socket_that_was_already_open(live_server_process, member, moderator):
    room = live_broadcast()
    cookie = chat_cookie(member)

    async def scenario():
        sock = await ChatSocket.open(live_server_process, room.slug, cookie)
        try:
            before = await sock.say("hello before")
            ban_account(user=member, by=moderator, reason=REASON)
            if settings.REDIS_URL:
                # Every web process hears it through Redis: the socket is told at once.
                await sock.wait(
                    lambda s: any(f.get("role") == "anonymous" for f in s.of_type("role")),
                    what="the role to drop to anonymous",
                )
            after = await sock.say("hello after")
            return before, after, sock.of_type("notice")
        finally:
            await sock.close()

    before, after, notices = asyncio.run(scenario())
    assert before["type"] == "ack"
    assert after["type"] == "error"
    if settings.REDIS_URL:
        assert [n["code"] for n in notices] == ["account_banned"]
        assert "banned" in notices[0]["message"]
        assert after["code"] == "sign_in_required"  # the socket reads on as anonymous
    else:
        # In-process layer and a ban made outside the web process: chat's own check.
        assert after["code"] == "not_allowed"
    assert list(ChatMessage.objects.filter(author=member).values_list("text", flat=True)) == [
        "hello before"
    ]


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    worker = CeleryWorker(tmp_path_factory.mktemp("bans"), name="bans", **WORKER_ENV)
    yield worker
    worker.stop()


def test_ban_deletes_their_posts_on_x_before_forgetting_their_x_tokens(
    x,  # noqa: F811 (the fixture imported above)
    worker,
    moderator,
):
    user = make_x_user(x)
    broadcast = BroadcastFactory(owner=user, live=True, tell_followers=True)
    post = settled(posting.request_go_live_post(broadcast=broadcast))
    assert post.state == XPost.State.POSTED and len(live_posts(x, user)) == 1

    ban_account(user=user, by=moderator, reason=REASON)

    # The token stays while the post waits for its deletion (the deletion needs it).
    post.refresh_from_db()
    assert post.deletion_state in (XPost.DeletionState.REQUESTED, XPost.DeletionState.DELETING)
    assert SocialToken.objects.filter(account__user=user).exists()
    wait_for(lambda: live_posts(x, user) == [], timeout=30, what="the post to go from X")
    wait_for(
        lambda: not SocialToken.objects.filter(account__user=user).exists(),
        timeout=90,
        interval=0.5,
        what="the X tokens to be forgotten",
    )
    deleted = AuditEntry.objects.get(action="x_post_deleted")
    forgotten = AuditEntry.objects.get(action="x_tokens_forgotten")
    assert deleted.created_at <= forgotten.created_at


# --- in Chromium (last: the browser holds an event loop for the rest of the module) ----


def new_handle():
    return f"banned{os.getpid() % 1000}_{next(_names)}"[:15]


@pytest.mark.browser
def test_banned_x_account_is_refused_at_sign_in_even_after_the_account_is_deleted(
    browser,
    live_server_process,
    x,  # noqa: F811 (the fixture imported above)
    moderator,
    screenshot_dir,
):
    handle = new_handle()
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server_process.url
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/")
        consent(page, handle=handle, name="Soon Banned")
        give_birth_date(page, years_ago(30))
        page.wait_for_url(f"{live_server_process.url}/")
        user = User.objects.get(handle=handle)

        ban_account(user=user, by=moderator, reason=REASON, rule=Reason.HARASSMENT)

        # Signed out: the next page is anonymous.
        page.goto("/")
        assert page.get_by_test_id("x-sign-in").count() >= 1
        # Signing in again with the same X account is refused, saying it is a ban.
        consent(page, handle=handle, name="Soon Banned")
        page.wait_for_url("**/accounts/x/refused/")
        refusal = page.get_by_test_id("ban-refused")
        assert "banned" in refusal.inner_text()
        assert page.get_by_test_id("age-refused").count() == 0
        shoot(page, "ban-refused", screenshot_dir)

        # They may still read the decision and appeal it, once, without signing in.
        page.get_by_role("link", name="Read the decision, or appeal it").click()
        page.wait_for_url("**/safety/notices/")
        card = page.locator("[data-action=ban]")
        assert REASON in card.inner_text() and "Harassment or hate" in card.inner_text()
        card.locator("textarea").fill("It was a misunderstanding; <b>sorry</b>.")
        card.get_by_role("button", name="Send my appeal").click()
        page.wait_for_url("**/safety/notices/**")
        assert page.get_by_test_id("appeal-state").inner_text().count("<b>sorry</b>") == 1
        assert Appeal.objects.get(notice__user=user).state == Appeal.State.PENDING
        shoot(page, "ban-notices", screenshot_dir)

        # The account is deleted: the same X account is still refused, and nothing is made.
        User.objects.filter(pk=user.pk).delete()
        context.clear_cookies()
        page.goto("/")
        consent(page, handle=handle, name="Soon Banned")
        page.wait_for_url("**/accounts/x/refused/")
        assert page.get_by_test_id("ban-refused").is_visible()
        assert page.get_by_role("link", name="Read the decision, or appeal it").count() == 0
        assert not User.objects.filter(handle=handle).exists()
        assert not SocialAccount.objects.filter(uid=user.x_id).exists()
    finally:
        context.close()


def shoot(page, name, screenshot_dir):
    page.screenshot(path=str(screenshot_dir / f"safety-{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(screenshot_dir / f"safety-{name}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
