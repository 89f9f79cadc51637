"""Deleting one's own account: the page and its confirmation, what goes at once (profile,
broadcasts, chat messages everywhere, with their stored events, blocks, notices,
sessions), what a legal hold keeps, and, end to end over real HTTP with the X emulator
and a real Celery worker, the posts OnAir made on X deleted before the tokens, and the
emptied account row deleted last."""

import asyncio
import os
from datetime import date

import pytest
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.db import connection
from django.test import Client

from accounts import blocks, self_service
from accounts.models import Block, RefusedXAccount, User
from accounts.selectors import x_id_hash
from broadcast import posting
from broadcast.models import Broadcast, XPost
from chat import services
from chat.models import ChatEvent, ChatMessage
from safety.models import AuditEntry, Notice
from safety.notices import issue_notice
from tests.accounts.test_sign_in_with_x import consent, give_birth_date
from tests.chat.support import ChatSocket, chatter, live_broadcast, session_cookie
from tests.conftest import CeleryWorker
from tests.factories import BroadcastFactory, ReportFactory
from tests.support import wait_for
from tests.xposting.conftest import WORKER_ENV, make_x_user
from tests.xposting.test_post_watch_link import settled


def signed_in(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/accounts/delete/")  # sets the CSRF cookie
    return client


def confirm(client, typed):
    return client.post(
        "/accounts/delete/",
        {"confirm": typed},
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )


def message_report(message):
    return ReportFactory(
        broadcast=None, message=message, target_kind="message", target_key=f"m:{message.pk}"
    )


# --- the page -------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_profile_page_leads_to_the_deletion_page(client):
    client.force_login(chatter())
    assert b'href="/accounts/delete/"' in client.get("/accounts/profile/").content


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get("/accounts/delete/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Client().post("/accounts/delete/", {"confirm": "x"}).status_code == 302


@pytest.mark.django_db
def test_the_page_says_what_goes_and_what_a_legal_hold_keeps(settings):
    settings.LEGAL_HOLD_DAYS = 77
    settings.LEGAL_HOLD_CHILD_SAFETY_DAYS = 444
    me = chatter(handle="dana")
    kept = BroadcastFactory(owner=me, state=Broadcast.State.ENDED)
    BroadcastFactory(owner=me, state=Broadcast.State.ENDED)
    services.post_message(broadcast=live_broadcast(), user=me, text="hi")
    client = signed_in(me)
    page = client.get("/accounts/delete/").content.decode()
    assert "Your 2 broadcasts, with their chat." in page
    assert "Your chat message, in every chat" in page
    assert "Nothing of yours is part of an open report today." in page
    ReportFactory(broadcast=kept)
    page = client.get("/accounts/delete/").content.decode()
    assert 'data-testid="held-warning"' in page
    assert "One of your broadcasts is kept because of a report." in page
    assert "chat messages are kept" not in page and "chat message is kept" not in page
    assert "77 days after it closes (444 days when a child" in page
    assert "Type your handle, dana, to confirm" in page


@pytest.mark.django_db
def test_nothing_is_deleted_without_the_handle_typed_and_a_csrf_token():
    me = chatter(handle="dana")
    client = signed_in(me)
    wrong = confirm(client, "not-dana")
    assert wrong.status_code == 200
    assert "That is not your handle. Type dana to confirm." in wrong.content.decode()
    forged = client.post("/accounts/delete/", {"confirm": "dana"})  # no CSRF token
    assert forged.status_code == 403
    me.refresh_from_db()
    assert me.is_active and me.handle == "dana"


# --- what goes at once ----------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_deletion_removes_everything_and_open_chats_see_the_messages_go(live_server_process):
    me = chatter(handle="leaving", display_name="Lee Leaving")
    friend, fan = chatter(), chatter()
    mine = live_broadcast(owner=me, title="My last live")
    theirs = live_broadcast(owner=friend)
    services.post_message(broadcast=mine, user=fan, text="fan in my room")
    services.post_message(broadcast=theirs, user=me, text="my words in their room")
    services.post_message(broadcast=theirs, user=fan, text="fan stays")
    blocks.block_user(blocker=me, blocked_id=fan.pk)
    blocks.block_user(blocker=friend, blocked_id=me.pk)
    issue_notice(user=me, action=Notice.Action.MESSAGE_REMOVED, rule="spam")
    RefusedXAccount.objects.create(x_id_hash=x_id_hash("555"), why=RefusedXAccount.Why.BANNED)
    cookie = session_cookie(friend)
    my_id = me.pk

    async def watch_it_go():
        sock = await ChatSocket.open(live_server_process, theirs.slug, cookie)
        assert "my words in their room" in sock.texts()
        outcome = await asyncio.to_thread(_delete_in_thread, me)
        await sock.wait(lambda s: "my words in their room" not in s.texts(), what="removal")
        joiner = await ChatSocket.open(live_server_process, theirs.slug)
        replay = await ChatSocket.open(live_server_process, theirs.slug, after_seq=0)
        await replay.wait(lambda s: s.last_seq == joiner.last_seq, what="replay from seq 0")
        for s in (sock, joiner, replay):
            await s.close()
        return outcome, sock, joiner, replay

    outcome, sock, joiner, replay = asyncio.run(watch_it_go())
    assert outcome.account_kept is False and outcome.posts_being_deleted == 0
    assert outcome.broadcasts_removed == 1 and outcome.messages_removed == 1
    assert not User.objects.filter(pk=my_id).exists()
    assert not Broadcast.objects.filter(pk=mine.pk).exists()  # with the fan's message in it
    assert list(ChatMessage.objects.values_list("text", flat=True)) == ["fan stays"]
    assert not Block.objects.exists() and not Notice.objects.exists()
    # The stored event keeps its seq (no gap) but no text, name or id of the author.
    erased = ChatEvent.objects.get(room_id=theirs.pk, seq=1)
    assert erased.payload["text"] == "" and erased.payload["deleted"] is True
    assert erased.payload["user"] == {"id": None, "handle": "", "name": ""}
    assert joiner.texts() == ["fan stays"]
    replayed = [f for f in replay.frames if f["type"] == "events"]
    dump = repr(replayed) + repr(joiner.frames)
    assert "my words in their room" not in dump and "Lee Leaving" not in dump
    assert replay.problems == [] and sock.problems == []
    # A ban is not lifted by deleting the account; the deletion itself is recorded.
    assert RefusedXAccount.objects.filter(why=RefusedXAccount.Why.BANNED).count() == 1
    entry = AuditEntry.objects.get(action="account_deleted")
    assert entry.actor_label == "@leaving" and entry.target_id == str(my_id)
    assert entry.target_snapshot["broadcasts"] == 1


def _delete_in_thread(user):
    try:
        return self_service.delete_account(user=user)
    finally:
        connection.close()


@pytest.mark.django_db
def test_a_live_broadcast_ends_before_it_is_removed():
    me = chatter()
    live = live_broadcast(owner=me)
    ReportFactory(broadcast=live)  # held: it stays, so its end can be seen
    self_service.delete_account(user=me)
    live.refresh_from_db()
    assert live.state == Broadcast.State.ENDED and live.end_reason == "account_deleted"


@pytest.mark.django_db
def test_held_broadcasts_and_messages_stay_with_an_emptied_account_row():
    me = chatter(handle="heldback", display_name="Held Back", avatar_url="https://x/a.png")
    reported = BroadcastFactory(owner=me, state=Broadcast.State.ENDED)
    services.post_message(broadcast=live_broadcast(owner=me), user=me, text="in my free room")
    elsewhere = live_broadcast()
    evidence = services.post_message(broadcast=elsewhere, user=me, text="reported words")
    message_report(evidence.message)
    ReportFactory(broadcast=reported)

    outcome = self_service.delete_account(user=me)

    assert outcome.held_broadcasts == 1 and outcome.held_messages == 1
    assert outcome.account_kept is True
    assert Broadcast.objects.filter(owner_id=me.pk).get() == reported
    assert ChatMessage.objects.get(author_id=me.pk).text == "reported words"
    row = User.objects.get(pk=me.pk)
    assert row.username == f"deleted:{me.pk}" and not row.is_active
    assert (row.handle, row.display_name, row.avatar_url, row.birth_date, row.x_id) == (
        "",
        "",
        "",
        None,
        None,
    )
    assert not row.has_usable_password()
    assert self_service.finish_account_deletion(user_id=me.pk) == "held"
    # Once the holds end (the reports closed long ago), the sweep deletes the row.
    from safety.models import Report

    Report.objects.update(state=Report.State.DISMISSED, hold_until="2000-01-01T00:00:00Z")
    assert self_service.finish_account_deletion(user_id=me.pk) == "deleted"
    assert not User.objects.filter(pk=me.pk).exists()


# --- end to end: HTTP, the X emulator, a real worker ----------------------------------
@pytest.fixture(autouse=True)
def _no_faults_left(request):
    yield
    if "x" in request.fixturenames:
        request.getfixturevalue("x").clear_faults()


@pytest.fixture(scope="module")
def worker(django_db_setup, tmp_path_factory):
    worker = CeleryWorker(tmp_path_factory.mktemp("deletion"), name="accounts", **WORKER_ENV)
    yield worker
    worker.stop()


def posted(x, user, broadcast):
    """The go-live post and one chat echo, both made on X by the worker."""
    go_live = settled(posting.request_go_live_post(broadcast=broadcast))
    services.post_message(broadcast=broadcast, user=user, text="also on X", post_to_x=True)
    echo = settled(XPost.objects.get(purpose=XPost.Purpose.CHAT_ECHO, user=user))
    assert go_live.state == echo.state == XPost.State.POSTED
    assert {p["id"] for p in x.tweets(user.x_id) if not p["deleted"]} == {
        go_live.post_id,
        echo.post_id,
    }
    return [go_live, echo]


@pytest.mark.django_db(transaction=True)
def test_deleting_an_account_deletes_its_x_posts_then_its_tokens_then_the_row(x, worker):
    me = make_x_user(x)
    x_id, my_id = me.x_id, me.pk
    broadcast = BroadcastFactory(owner=me, live=True, tell_followers=True)
    posts = posted(x, me, broadcast)
    laptop, phone = signed_in(me), signed_in(me)
    # X answers the first deletions with errors: nothing may go before the posts do.
    x.add_fault("DELETE /2/tweets/:id", status=503, count=2)

    response = confirm(laptop, me.handle)

    assert response.status_code == 302 and response["Location"] == "/accounts/deleted/"
    page = laptop.get("/accounts/deleted/").content.decode()
    assert "Your 2 posts on X are being deleted." in page
    assert 'data-testid="held-kept"' not in page
    # Signed out on every device at once.
    for client in (laptop, phone):
        profile = client.get("/accounts/profile/")
        assert profile.status_code == 302 and "/accounts/login/" in profile["Location"]
    assert not Broadcast.objects.filter(pk=broadcast.pk).exists()
    assert SocialToken.objects.filter(account__user_id=my_id).exists()  # still needed

    wait_for(
        lambda: all(p["deleted"] for p in x.tweets(x_id)),
        timeout=60,
        interval=0.2,
        what="the posts to be deleted on X",
    )
    wait_for(
        lambda: not User.objects.filter(pk=my_id).exists(),
        timeout=90,
        interval=0.2,
        what="the emptied account row to be deleted by the worker",
    )
    assert not SocialAccount.objects.filter(uid=x_id).exists()
    assert not XPost.objects.filter(pk__in=[p.pk for p in posts]).exists()
    log = list(AuditEntry.objects.order_by("pk").values_list("action", "target_id"))
    deleted_at = [i for i, (action, _) in enumerate(log) if action == "x_post_deleted"]
    tokens_at = [i for i, (action, _) in enumerate(log) if action == "x_tokens_forgotten"]
    assert len(deleted_at) == 2 and len(tokens_at) == 1
    assert max(deleted_at) < tokens_at[0]  # posts first, tokens after
    assert [t for a, t in log if a == "x_post_deleted"] == [str(p.pk) for p in posts]


@pytest.mark.django_db(transaction=True)
def test_held_items_outlive_an_account_whose_posts_were_deleted(x, worker):
    me = make_x_user(x)
    x_id, my_id = me.x_id, me.pk
    reported = BroadcastFactory(owner=me, live=True, tell_followers=True)
    posts = posted(x, me, reported)
    ReportFactory(broadcast=reported, reason="harassment")
    client = signed_in(me)

    confirm(client, me.handle)

    page = client.get("/accounts/deleted/").content.decode()
    assert 'data-testid="held-kept"' in page
    assert "One of your broadcasts is kept because of a report." in page
    assert "One of your chat messages is kept because of a report." in page
    wait_for(
        lambda: all(p["deleted"] for p in x.tweets(x_id)),
        timeout=60,
        interval=0.2,
        what="the posts to be deleted on X",
    )
    wait_for(
        lambda: not SocialAccount.objects.filter(user_id=my_id).exists(),
        timeout=90,
        interval=0.2,
        what="the worker to unlink the X account",
    )
    # The row stays, emptied, with what the hold keeps; X posts and tokens are gone.
    row = User.objects.get(pk=my_id)
    assert row.username == f"deleted:{my_id}" and row.x_id is None and not row.is_active
    assert Broadcast.objects.filter(pk=reported.pk, owner_id=my_id).exists()
    assert ChatMessage.objects.filter(room_id=reported.pk, text="also on X").exists()
    assert not SocialToken.objects.filter(account__user_id=my_id).exists()
    assert all(
        state == XPost.DeletionState.DELETED
        for state in XPost.objects.filter(pk__in=[p.pk for p in posts]).values_list(
            "deletion_state", flat=True
        )
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_signing_in_again_waits_for_the_posts_then_starts_afresh(
    browser, live_server_process, x, worker, screenshot_dir
):
    handle = f"comeback{os.getpid() % 1000}"
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, base_url=live_server_process.url, locale="en"
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/")
        consent(page, handle=handle, name="Cam Back")
        give_birth_date(page, date(1990, 5, 17))
        page.wait_for_url(f"{live_server_process.url}/")
        me = User.objects.get(handle=handle)
        posted(x, me, BroadcastFactory(owner=me, live=True, tell_followers=True))
        x.add_fault("DELETE /2/tweets/:id", status=503, count=1000)  # X keeps failing

        page.goto("/accounts/profile/")
        page.get_by_role("link", name="Delete my account").click()
        page.fill("#id_confirm", f"@{handle}")
        page.get_by_role("button", name="Delete my account").click()
        page.wait_for_url("**/accounts/deleted/")
        assert "Your 2 posts on X are being deleted." in page.inner_text("main")
        assert page.get_by_test_id("x-sign-in").count() > 0  # signed out

        # While X has not deleted the posts, the same X account cannot come back.
        consent(page, handle=handle, name="Cam Back")
        page.wait_for_url("**/accounts/x/deletion-pending/")
        page.screenshot(path=str(screenshot_dir / "accounts-deletion-pending.png"))
        assert User.objects.get(pk=me.pk).handle == ""  # the emptied row stays empty

        x.clear_faults()
        wait_for(
            lambda: not User.objects.filter(pk=me.pk).exists(),
            timeout=120,
            interval=0.2,
            what="the deletion to finish once X answers",
        )
        consent(page, handle=handle, name="Cam Back")
        give_birth_date(page, date(1990, 5, 17))  # a new account: asked again
        page.wait_for_url(f"{live_server_process.url}/")
        assert User.objects.get(handle=handle).pk != me.pk
    finally:
        context.close()
