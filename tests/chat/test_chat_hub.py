"""The hub in-process, with stand-in sockets: what happens to a slow viewer and to an
event that arrives out of order. (Everything else is tested over real sockets.)"""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from chat import services
from chat.hub import POLL_INTERVAL, SLOW_CLIENT_BYTES, ChatHub, Client, Room
from chat.models import ChatEvent
from chat.protocol import encode_event
from onair import fastsend
from onair.fastsend import text_frame
from tests.chat.support import live_broadcast

pytestmark = pytest.mark.django_db(transaction=True)


class StandInProbe:
    """Looks like a Daphne socket whose send buffer holds `buffered` bytes."""

    def __init__(self):
        self.buffered = 0
        self.raw = []

    def buffered_bytes(self):
        return self.buffered

    def write(self, raw, limit=None):
        if limit is not None and self.buffered > limit:
            return fastsend.SLOW
        self.raw.append(raw)
        return fastsend.WRITTEN


def viewer(probe=None):
    frames = []

    async def send(text):
        frames.append(json.loads(text))

    client = Client(send=send, probe=probe)
    client.frames = frames
    return client


def seqs_of(client):
    frames = list(client.frames)
    if client.probe:
        # Pre-framed bytes written straight to the transport: strip the 2-4 byte header.
        for raw in client.probe.raw:
            header = 4 if raw[1] == 126 else 2
            frames.append(json.loads(raw[header:]))
    return [e["seq"] for f in frames if f["type"] in ("events", "history") for e in f["events"]]


async def wait_until(condition, timeout=5):
    async def loop():
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)


def published(broadcast, text):
    result = services.post_message(broadcast=broadcast, user=broadcast.owner, text=text)
    return result.seq, ChatEvent.objects.get(room_id=broadcast.pk, seq=result.seq)


def test_a_slow_viewer_gets_resync_then_catches_up_from_history():
    broadcast = live_broadcast()

    async def scenario():
        hub = ChatHub(asyncio.get_running_loop())
        fast, slow = viewer(StandInProbe()), viewer(StandInProbe())
        for client in (fast, slow):
            await hub.join(broadcast.pk, client)
            await hub.catch_up(broadcast.pk, client)
        slow.probe.buffered = SLOW_CLIENT_BYTES + 1
        seq, event = await sync_to_async(published)(broadcast, "hello")
        from chat.protocol import encode_event

        hub.on_data(broadcast.pk, f"E{seq} {encode_event(seq, event.payload)}")
        await wait_until(lambda: seqs_of(fast) == [1])
        assert slow.state == "paused"
        assert slow.frames[-1] == {"type": "resync", "last_seq": 0}
        # While paused it is not fed; when it asks, it gets everything from the store.
        seq2, event2 = await sync_to_async(published)(broadcast, "second")
        hub.on_data(broadcast.pk, f"E{seq2} {encode_event(seq2, event2.payload)}")
        await wait_until(lambda: seqs_of(fast) == [1, 2])
        assert seqs_of(slow) == []
        slow.probe.buffered = 0
        await hub.catch_up(broadcast.pk, slow, after_seq=0)
        assert slow.state == "live"
        assert seqs_of(slow) == [1, 2]
        await hub.leave(broadcast.pk, fast)
        await hub.leave(broadcast.pk, slow)
        await hub.close()
        await sync_to_async(connections.close_all)()

    asyncio.run(scenario())


def test_an_event_that_never_arrives_is_read_back_from_the_store_in_order(settings):
    # The in-process hub (no Redis): nothing but the hub's own read-back can fill the gap,
    # and it must do so well before the safety poll would.
    settings.REDIS_URL = ""
    broadcast = live_broadcast()

    async def scenario():
        from chat.protocol import encode_event

        hub = ChatHub(asyncio.get_running_loop())
        client = viewer()
        await hub.join(broadcast.pk, client)
        await hub.catch_up(broadcast.pk, client)
        stored = [await sync_to_async(published)(broadcast, f"m{n}") for n in range(3)]
        # Only the third reaches this process (say a publish was lost).
        seq, event = stored[2]
        hub.on_data(broadcast.pk, f"E{seq} {encode_event(seq, event.payload)}")
        await wait_until(lambda: seqs_of(client) == [1, 2, 3], timeout=POLL_INTERVAL / 2)
        await hub.leave(broadcast.pk, client)
        await hub.close()
        await sync_to_async(connections.close_all)()

    asyncio.run(scenario())


def test_text_frame_is_a_valid_websocket_frame():
    assert text_frame("hi") == b"\x81\x02hi"
    long = text_frame("x" * 300)
    assert long[:4] == b"\x81\x7e\x01\x2c" and len(long) == 304


def deliver(hub, broadcast, seq):
    """What Redis (or a local publish) hands the hub for a stored event."""
    event = ChatEvent.objects.get(room_id=broadcast.pk, seq=seq)
    hub.on_data(broadcast.pk, f"E{seq} {encode_event(seq, event.payload)}")


def test_a_deleted_message_is_not_served_again_by_sync_or_to_a_new_joiner(settings):
    settings.REDIS_URL = ""
    broadcast = live_broadcast()

    async def scenario():
        hub = ChatHub(asyncio.get_running_loop())
        reader = viewer()
        await hub.join(broadcast.pk, reader)
        await hub.catch_up(broadcast.pk, reader)
        seq, _ = await sync_to_async(published)(broadcast, "regrettable words")
        await sync_to_async(deliver)(hub, broadcast, seq)
        await wait_until(lambda: seqs_of(reader) == [1])
        message_id = reader.frames[-1]["events"][0]["id"]
        await sync_to_async(services.delete_message)(message_id=message_id, by=broadcast.owner)
        await sync_to_async(deliver)(hub, broadcast, 2)
        await wait_until(lambda: seqs_of(reader) == [1, 2])
        # From this hub's memory: a sync from 0 and a fresh joiner.
        syncing, joiner = viewer(), viewer()
        for client in (syncing, joiner):
            await hub.join(broadcast.pk, client)
        await hub.catch_up(broadcast.pk, syncing, after_seq=0)
        await hub.catch_up(broadcast.pk, joiner)
        # From the database: another process's hub that never saw the message live.
        other = ChatHub(asyncio.get_running_loop())
        from_store = viewer()
        await other.join(broadcast.pk, from_store)
        await other.catch_up(broadcast.pk, from_store, after_seq=0)
        for client in (reader, syncing, joiner):
            await hub.leave(broadcast.pk, client)
        await other.leave(broadcast.pk, from_store)
        await hub.close()
        await other.close()
        await sync_to_async(connections.close_all)()
        return syncing, joiner, from_store

    syncing, joiner, from_store = asyncio.run(scenario())
    assert seqs_of(syncing) == [1, 2] and seqs_of(from_store) == [1, 2]
    for client in (syncing, joiner, from_store):
        assert "regrettable" not in json.dumps(client.frames)
    assert "regrettable" not in json.dumps(list(ChatEvent.objects.values_list("payload")))


def test_a_room_that_cannot_be_opened_fails_its_joiners_instead_of_hanging(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    broadcast = live_broadcast()

    async def scenario():
        hub = ChatHub(asyncio.get_running_loop())
        joins = [hub.join(broadcast.pk, viewer()) for _ in range(2)]
        outcomes = await asyncio.wait_for(asyncio.gather(*joins, return_exceptions=True), 10)
        rooms_left = dict(hub.rooms)
        await hub.close()
        return outcomes, rooms_left

    outcomes, rooms_left = asyncio.run(scenario())
    assert all(isinstance(outcome, Exception) for outcome in outcomes), outcomes
    assert rooms_left == {}


def test_an_event_queued_while_the_room_opens_is_delivered_without_waiting_for_the_poll(
    settings,
):
    settings.REDIS_URL = ""
    broadcast = live_broadcast()
    services.post_message(broadcast=broadcast, user=broadcast.owner, text="before")

    async def scenario():
        hub = ChatHub(asyncio.get_running_loop())
        room = hub.rooms[broadcast.pk] = Room(broadcast.pk)
        # Seq 2 reaches the process before the room has read its counter (1).
        payload = {"type": "message", "id": 99, "user": None, "text": "early", "ts": ""}
        hub.on_data(broadcast.pk, f"E2 {encode_event(2, payload)}")
        await hub._open(room)
        await wait_until(lambda: room.last_seq == 2, timeout=POLL_INTERVAL / 2)
        await hub.close()
        await sync_to_async(connections.close_all)()

    asyncio.run(scenario())


class NotPlainTcp:
    """A transport with a socket that is not a plain TCP connection (as TLS is)."""

    def __init__(self, sock):
        self.socket = sock
        self.written = []

    def write(self, data):
        self.written.append(data)


class OpenProtocol:
    STATE_OPEN = 1
    state = 1

    def __init__(self, transport):
        self.transport = transport


def test_the_raw_socket_path_is_only_for_plain_tcp_transports():
    import socket

    ours, peer = socket.socketpair()
    with ours, peer:
        transport = NotPlainTcp(ours)
        outcome = fastsend.DaphneProbe(OpenProtocol(transport)).write(text_frame("secret"))
        peer.setblocking(False)
        try:
            leaked = peer.recv(100)
        except BlockingIOError:
            leaked = b""
    assert outcome == fastsend.WRITTEN
    assert transport.written == [text_frame("secret")]
    assert leaked == b""
