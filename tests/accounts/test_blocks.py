"""Blocking: the rules (accounts.blocks), the HTTP side (CSRF, sign-in, errors), and its
two effects over the real chat socket and in Chromium: the blocked person cannot chat
in the blocker's broadcasts, and the blocker no longer sees their messages anywhere
while everyone else still does."""

import asyncio

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from playwright.sync_api import expect

from accounts import blocks
from accounts.models import Block, User
from chat import services
from chat.protocol import ChatRefused
from tests.chat.support import ChatSocket, chatter, live_broadcast, session_cookie

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def signed_in(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/accounts/blocks/")  # sets the CSRF cookie
    return client


def post(client, path, data, **headers):
    return client.post(
        path, data, headers={"X-CSRFToken": client.cookies["csrftoken"].value, **headers}
    )


# --- rules ----------------------------------------------------------------------------
@pytest.mark.django_db
def test_blocking_twice_keeps_one_block_and_unblocking_lifts_it():
    me, them = chatter(), chatter()
    first = blocks.block_user(blocker=me, blocked_id=them.pk)
    again = blocks.block_user(blocker=me, blocked_id=them.pk)
    assert first.pk == again.pk and Block.objects.count() == 1
    assert blocks.blocked_ids(user=me) == [them.pk]
    assert blocks.has_blocked(blocker=me, blocked=them)
    assert not blocks.has_blocked(blocker=them, blocked=me)  # a block goes one way
    assert blocks.unblock_user(blocker=me, blocked_id=them.pk) is True
    assert blocks.unblock_user(blocker=me, blocked_id=them.pk) is False
    assert blocks.blocked_ids(user=me) == []


@pytest.mark.django_db
def test_nobody_can_block_themselves_or_an_account_that_is_gone():
    me = chatter()
    gone = chatter(is_active=False)
    with pytest.raises(blocks.BlockRefused) as refused:
        blocks.block_user(blocker=me, blocked_id=me.pk)
    assert refused.value.code == "self"
    for missing in (gone.pk, 999_999):
        with pytest.raises(blocks.BlockRefused) as refused:
            blocks.block_user(blocker=me, blocked_id=missing)
        assert refused.value.code == "not_found"


@pytest.mark.django_db
def test_the_block_list_is_bounded_because_every_chat_socket_carries_it():
    me = chatter()
    others = User.objects.bulk_create(
        User(username=f"crowd{n}", handle=f"crowd{n}") for n in range(blocks.MAX_BLOCKS + 1)
    )
    Block.objects.bulk_create(Block(blocker=me, blocked=u) for u in others[:-1])
    with pytest.raises(blocks.BlockRefused) as refused:
        blocks.block_user(blocker=me, blocked_id=others[-1].pk)
    assert refused.value.code == "too_many"
    assert Block.objects.filter(blocker=me).count() == blocks.MAX_BLOCKS


@pytest.mark.django_db
def test_a_blocked_person_cannot_chat_in_the_blockers_broadcasts_but_can_elsewhere():
    broadcast = live_broadcast()
    elsewhere = live_broadcast()
    pest = chatter()
    blocks.block_user(blocker=broadcast.owner, blocked_id=pest.pk)
    with pytest.raises(ChatRefused) as refused:
        services.post_message(broadcast=broadcast, user=pest, text="let me in")
    assert refused.value.code == "blocked"
    assert services.post_message(broadcast=elsewhere, user=pest, text="hello").seq == 1
    # The blocker still chats in their own room, and others too.
    assert services.post_message(broadcast=broadcast, user=broadcast.owner, text="hi").seq == 1
    assert services.post_message(broadcast=broadcast, user=chatter(), text="hey").seq == 2


@pytest.mark.django_db
def test_the_block_check_adds_no_query_to_a_chat_message():
    from chat.models import ChatBan

    broadcast = live_broadcast()
    viewer = chatter()
    with CaptureQueriesContext(connection) as queries:
        services.post_message(broadcast=broadcast, user=viewer, text="counted")
    block_queries = [q["sql"] for q in queries if Block._meta.db_table in q["sql"]]
    # One statement, and it is the chat-ban lookup's: no extra round trip per message.
    assert len(block_queries) == 1
    assert ChatBan._meta.db_table in block_queries[0]
    assert "blocker_id = " in block_queries[0] and "blocked_id = " in block_queries[0]
    # The broadcaster's own messages make the same one statement (it also checks that
    # the account is still active).
    with CaptureQueriesContext(connection) as queries:
        services.post_message(broadcast=broadcast, user=broadcast.owner, text="mine")
    assert len([q for q in queries if Block._meta.db_table in q["sql"]]) == 1


@pytest.mark.django_db
def test_a_block_and_a_chat_ban_each_still_refuse_with_their_own_code():
    broadcast = live_broadcast()
    banned, both = chatter(), chatter()
    services.ban_user(broadcast=broadcast, target=banned, by=broadcast.owner)
    services.ban_user(broadcast=broadcast, target=both, by=broadcast.owner)
    blocks.block_user(blocker=broadcast.owner, blocked_id=both.pk)
    for user, code in ((banned, "banned"), (both, "blocked")):
        with pytest.raises(ChatRefused) as refused:
            services.post_message(broadcast=broadcast, user=user, text="hello")
        assert refused.value.code == code


# --- HTTP -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_the_chat_page_blocks_with_a_csrf_protected_post_and_gets_json():
    me, them = chatter(), chatter()
    client = signed_in(me)
    no_token = client.post(
        "/accounts/blocks/add/", {"user": them.pk}, headers={"Accept": "application/json"}
    )
    assert no_token.status_code == 403 and not Block.objects.exists()
    response = post(client, "/accounts/blocks/add/", {"user": them.pk}, Accept="application/json")
    assert response.status_code == 200
    assert response.json() == {"type": "blocked", "user_id": them.pk}
    assert blocks.blocked_ids(user=me) == [them.pk]


@pytest.mark.django_db
def test_bad_block_requests_get_a_stable_code():
    me = chatter()
    client = signed_in(me)
    for data, status, code in (
        ({"user": "abc"}, 400, "invalid"),
        ({}, 400, "invalid"),
        ({"user": me.pk}, 400, "self"),
        ({"user": 999_999}, 404, "not_found"),
    ):
        response = post(client, "/accounts/blocks/add/", data, Accept="application/json")
        assert response.status_code == status
        body = response.json()
        assert body["type"] == "error" and body["code"] == code and body["message"]


@pytest.mark.django_db
def test_anonymous_visitors_cannot_block_or_see_a_block_list():
    them = chatter()
    client = Client()
    assert client.post("/accounts/blocks/add/", {"user": them.pk}).status_code == 302
    response = client.get("/accounts/blocks/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Block.objects.exists()


@pytest.mark.django_db
def test_blocking_from_a_persons_page_then_unblocking_from_the_block_list():
    me = chatter()
    them = chatter(handle="loudneighbour", display_name="Loud Neighbour")
    client = signed_in(me)
    page = client.get(f"/u/{them.handle}/")
    assert b'data-testid="block-user"' in page.content
    response = post(
        client, "/accounts/blocks/add/", {"user": them.pk, "next": f"/u/{them.handle}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/u/{them.handle}/"
    page = client.get(f"/u/{them.handle}/")
    assert "You blocked @loudneighbour." in page.content.decode()
    assert b'data-testid="block-user"' not in page.content  # Unblock is offered instead
    listing = client.get("/accounts/blocks/").content.decode()
    assert "Loud Neighbour" in listing and "@loudneighbour" in listing
    # A next pointing off the site is ignored.
    response = post(
        client, f"/accounts/blocks/{them.pk}/remove/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/accounts/blocks/"
    assert not Block.objects.exists()
    assert 'data-testid="no-blocks"' in client.get("/accounts/blocks/").content.decode()


@pytest.mark.django_db
def test_nobody_is_offered_to_block_themselves():
    me = chatter(handle="myself")
    client = signed_in(me)
    assert b'data-testid="block-user"' not in client.get("/u/myself/").content


# --- over the real chat socket ---------------------------------------------------------
live_db = pytest.mark.django_db(transaction=True)


@live_db
def test_a_blocked_viewer_is_refused_with_blocked_over_the_chat_socket(live_server_process):
    broadcast = live_broadcast()
    pest, friend = chatter(), chatter()
    blocks.block_user(blocker=broadcast.owner, blocked_id=pest.pk)
    pest_cookie, friend_cookie = session_cookie(pest), session_cookie(friend)

    async def scenario():
        p = await ChatSocket.open(live_server_process, broadcast.slug, pest_cookie)
        f = await ChatSocket.open(live_server_process, broadcast.slug, friend_cookie)
        refused = await p.say("you can't stop me")
        ok = await f.say("hello")
        await p.wait(lambda s: "hello" in s.texts(), what="the blocked viewer still reads")
        for sock in (p, f):
            await sock.close()
        return refused, ok, p

    refused, ok, pest_socket = asyncio.run(scenario())
    assert refused["type"] == "error" and refused["code"] == "blocked"
    assert "blocked you" in refused["message"]
    assert ok["type"] == "ack"
    assert "you can't stop me" not in pest_socket.texts()


@live_db
def test_the_hello_frame_carries_the_viewers_own_blocks_and_nobody_elses(live_server_process):
    broadcast = live_broadcast()
    me, pest, other = chatter(), chatter(), chatter()
    blocks.block_user(blocker=me, blocked_id=pest.pk)
    blocks.block_user(blocker=other, blocked_id=me.pk)
    me_cookie, pest_cookie = session_cookie(me), session_cookie(pest)

    async def scenario():
        mine = await ChatSocket.open(live_server_process, broadcast.slug, me_cookie)
        theirs = await ChatSocket.open(live_server_process, broadcast.slug, pest_cookie)
        anon = await ChatSocket.open(live_server_process, broadcast.slug)
        for sock in (mine, theirs, anon):
            await sock.close()
        return [s.of_type("hello")[0] for s in (mine, theirs, anon)]

    mine, theirs, anon = asyncio.run(scenario())
    assert mine["blocked"] == [pest.pk]  # not who blocked me: that stays private
    assert theirs["blocked"] == []
    assert "blocked" not in anon


# --- in Chromium ----------------------------------------------------------------------
def chat_page(browser, server, user, device="desktop"):
    context = browser.new_context(viewport=VIEWPORTS[device], locale="en")
    cookie = session_cookie(user).split("=", 1)[1]
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": server.url}])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


@live_db
@pytest.mark.browser
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_blocker_stops_seeing_a_persons_messages_in_every_room_while_others_see_them(
    browser, live_server_process, screenshot_dir, device
):
    room = live_broadcast(title="Quiz night")
    other_room = live_broadcast(title="Cooking")
    me = chatter(display_name="Mia Blocker")
    pest = chatter(display_name="Pat Pest", handle=f"patpest{device}")
    witness = chatter(display_name="Wes Witness")
    services.post_message(broadcast=room, user=pest, text="first pest message")
    services.post_message(broadcast=room, user=witness, text="witness says hi")
    services.post_message(broadcast=other_room, user=pest, text="pest in the kitchen")
    mine = chat_page(browser, live_server_process, me, device)
    theirs = chat_page(browser, live_server_process, witness, device)
    try:
        for page in (mine, theirs):
            page.goto(f"{live_server_process.url}/b/{room.slug}/chat/")
            page.wait_for_selector(".chat-message:has-text('first pest message')")
        # Block from the chat message itself.
        mine.locator(".chat-message:has-text('first pest message') .chat-tool-block").click()
        expect(mine.locator("[data-chat-notice]")).to_contain_text(f"You blocked @patpest{device}")
        expect(mine.locator(".chat-message:has-text('first pest message')")).to_have_count(0)
        mine.screenshot(path=str(screenshot_dir / f"chat-after-block-{device}.png"))
        assert list(Block.objects.values_list("blocker_id", "blocked_id")) == [(me.pk, pest.pk)]

        # New messages: the witness sees them, the blocker does not.
        services.post_message(broadcast=room, user=pest, text="second pest message")
        services.post_message(broadcast=room, user=witness, text="witness again")
        theirs.wait_for_selector(".chat-message:has-text('second pest message')")
        mine.wait_for_selector(".chat-message:has-text('witness again')")
        assert "pest message" not in mine.inner_text("[data-chat-log]")

        # In another room, and after a reload, the block holds (from the hello frame).
        mine.goto(f"{live_server_process.url}/b/{other_room.slug}/chat/")
        mine.wait_for_selector(".chat-panel[data-connection=open]")
        services.post_message(broadcast=other_room, user=witness, text="kitchen witness")
        mine.wait_for_selector(".chat-message:has-text('kitchen witness')")
        assert "pest in the kitchen" not in mine.inner_text("[data-chat-log]")
        theirs.goto(f"{live_server_process.url}/b/{other_room.slug}/chat/")
        theirs.wait_for_selector(".chat-message:has-text('pest in the kitchen')")
        assert mine.errors == [] and theirs.errors == []
    finally:
        for page in (mine, theirs):
            page.context.close()
