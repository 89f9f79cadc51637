"""Chatting over real sockets through Daphne (two processes sharing the room through
Redis when REDIS_URL is set): write, read, history, resume without gap or duplicate,
presence."""

import asyncio

import pytest
from django.db import connection

from chat import services
from chat.models import ChatEvent, ChatMessage, ChatRoom
from tests.chat.support import ChatSocket, chatter, live_broadcast, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def room_last_seq(room_id):
    """Read from a worker thread; its connection is closed before the thread is reused."""
    try:
        return ChatRoom.objects.get(pk=room_id).last_seq
    finally:
        connection.close()


def test_two_signed_in_users_chat_and_an_anonymous_viewer_reads(chat_servers):
    broadcast = live_broadcast()
    alice, bob = chatter(), chatter()
    alice_cookie, bob_cookie = session_cookie(alice), session_cookie(bob)
    first, second = chat_servers

    async def scenario():
        a = await ChatSocket.open(first, broadcast.slug, alice_cookie)
        b = await ChatSocket.open(second, broadcast.slug, bob_cookie)
        anon = await ChatSocket.open(second, broadcast.slug)
        ack = await a.say("hello bob")
        await b.wait(lambda s: "hello bob" in s.texts(), what="bob sees alice")
        reply = await b.say("hi alice")
        await a.wait(lambda s: "hi alice" in s.texts(), what="alice sees bob")
        await anon.wait(lambda s: len(s.messages) == 2, what="anonymous reads both")
        refused = await anon.say("let me in")
        for sock in (a, b, anon):
            await sock.close()
        return ack, reply, refused, anon

    ack, reply, refused, anon = asyncio.run(scenario())
    assert ack["type"] == "ack" and ack["held"] is False and ack["seq"] == 1
    assert reply["seq"] == 2
    assert refused["type"] == "error" and refused["code"] == "sign_in_required"
    assert anon.role == "anonymous"
    assert anon.problems == []
    # Stored before it was acknowledged: both messages and their events are in the DB.
    assert list(ChatMessage.objects.order_by("seq").values_list("text", flat=True)) == [
        "hello bob",
        "hi alice",
    ]
    assert list(ChatEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]


def test_a_joiner_gets_the_last_fifty_messages_in_order(chat_servers):
    broadcast = live_broadcast()
    for n in range(60):
        services.post_message(broadcast=broadcast, user=broadcast.owner, text=f"message {n}")
    deleted = ChatMessage.objects.get(text="message 59")
    services.delete_message(message_id=deleted.pk, by=broadcast.owner)

    async def scenario():
        sock = await ChatSocket.open(chat_servers[1], broadcast.slug)
        await sock.close()
        return sock

    sock = asyncio.run(scenario())
    history = sock.of_type("history")[0]
    assert [e["text"] for e in history["events"]] == [f"message {n}" for n in range(9, 59)]
    assert [e["seq"] for e in history["events"]] == list(range(10, 60))
    assert history["last_seq"] == 61  # 60 messages and one deletion


def test_resume_after_reconnect_gets_every_event_once_while_others_keep_sending(chat_servers):
    broadcast = live_broadcast()
    owner = broadcast.owner
    moderator = chatter()
    services.add_moderator(broadcast=broadcast, user=moderator, by=owner)
    owner_cookie, mod_cookie = session_cookie(owner), session_cookie(moderator)
    first, second = chat_servers
    total = 60

    async def keep_sending(sock):
        for n in range(total):
            await sock.say(f"tick {n}")
            await asyncio.sleep(0.06)

    async def scenario():
        owner_sock = await ChatSocket.open(first, broadcast.slug, owner_cookie)
        mod_sock = await ChatSocket.open(second, broadcast.slug, mod_cookie)
        viewer = await ChatSocket.open(first, broadcast.slug)
        sender = asyncio.create_task(keep_sending(owner_sock))
        # Deletions and a mode change are numbered events too, from the other process.
        await mod_sock.wait(lambda s: len(s.messages) >= 5, what="some messages")
        first_ids = sorted(mod_sock.messages)[:3]
        for message_id in first_ids:
            assert (await mod_sock.request("delete", id=message_id))["type"] == "ok"
        await viewer.wait(lambda s: len(s.seqs) >= 15, what="viewer reading")
        await viewer.close()
        seen_before = list(viewer.seqs)
        await mod_sock.request("set_mode", slow_mode_seconds=5)
        await owner_sock.wait(lambda s: len(s.seqs) >= len(seen_before) + 15, what="more traffic")
        again = await ChatSocket.open(second, broadcast.slug, after_seq=viewer.last_seq)
        await sender
        final = await asyncio.to_thread(room_last_seq, broadcast.pk)
        await again.wait(lambda s: s.last_seq == final, what="viewer caught up", timeout=15)
        for sock in (owner_sock, mod_sock, again):
            await sock.close()
        return seen_before, viewer, again, first_ids, final

    seen_before, viewer, again, deleted_ids, final = asyncio.run(scenario())
    assert final == total + len(deleted_ids) + 1
    combined = seen_before + again.seqs
    assert combined == list(range(1, final + 1))  # no gap, no duplicate
    assert again.problems == []
    assert again.modes["slow_mode_seconds"] == 5
    events = [e for sock in (viewer, again) for f in sock.of_type("events") for e in f["events"]]
    assert sorted(e["id"] for e in events if e["type"] == "delete") == deleted_ids
    assert [e["type"] for e in events].count("mode") == 1


def test_presence_counts_everyone_in_the_room_across_processes(chat_servers):
    broadcast = live_broadcast()
    first, second = chat_servers

    async def scenario():
        a = await ChatSocket.open(first, broadcast.slug)
        b = await ChatSocket.open(second, broadcast.slug)
        c = await ChatSocket.open(second, broadcast.slug)
        await a.wait(lambda s: s.presence == 3, what="three present", timeout=15)
        await c.close()
        await a.wait(lambda s: s.presence == 2, what="two present", timeout=15)
        await b.wait(lambda s: s.presence == 2, what="b sees two", timeout=15)
        for sock in (a, b):
            await sock.close()

    asyncio.run(scenario())


def test_unknown_broadcast_refuses_the_socket(live_server_process):
    import websockets

    async def scenario():
        url = f"{live_server_process.ws_url}/ws/b/nope/chat/"
        async with websockets.connect(url, origin=live_server_process.url) as ws:
            await ws.recv()

    with pytest.raises((websockets.InvalidStatus, websockets.ConnectionClosed)):
        asyncio.run(scenario())
