"""The hub's fan-out, in-process: GOP cache for joiners, and a slow viewer that skips to
the next keyframe cluster without slowing the others or growing memory."""

import asyncio

from broadcast.hub import MAX_IN_FLIGHT, Hub, LocalBackend
from broadcast.webm import InitSegment, Segmenter
from tests.media.conftest import FIXTURES

SLUG = "hubtest"


class FakeViewerSocket:
    """Stands in for a viewer consumer: records what the hub sends."""

    def __init__(self, *, acks):
        self.acks = acks
        self.media = []
        self.texts = []
        self.subscriber = None
        self.closed = False

    async def base_send(self, message):
        if "bytes" in message:
            self.media.append(message["bytes"])
            if self.acks and self.subscriber is not None:
                self.subscriber.acked = self.subscriber.sent
        else:
            self.texts.append(message["text"])

    async def hub_ended(self):
        self.closed = True


def recorded_events():
    return Segmenter().feed((FIXTURES / "fake-camera-250ms.webm").read_bytes())


async def publish(handle, events, times=1):
    for _ in range(times):
        for event in events:
            if isinstance(event, InitSegment):
                await handle.init_segment(event.data)
            else:
                await handle.piece(
                    event.data, cluster_start=event.cluster_start, keyframe=event.keyframe
                )


async def join(hub, socket):
    socket.subscriber = await hub.add_viewer(SLUG, socket)
    return socket.subscriber


def test_slow_viewer_skips_to_keyframes_and_never_holds_up_the_others():
    async def scenario():
        hub = Hub(LocalBackend())
        handle = await hub.open_publisher(SLUG, object(), session="s", takeover=False)
        fast, slow = FakeViewerSocket(acks=True), FakeViewerSocket(acks=False)
        await join(hub, fast)
        slow_subscriber = await join(hub, slow)
        events = recorded_events()
        await publish(handle, events[:1])
        in_flight = []
        for _ in range(40):  # ~140 s of video through a viewer that never reads
            await publish(handle, events[1:])
            in_flight.append(slow_subscriber.sent - slow_subscriber.acked)
        return events, fast, slow, slow_subscriber, in_flight

    events, fast, slow, slow_subscriber, in_flight = asyncio.run(scenario())
    pieces = [e.data for e in events[1:]]
    # The viewer that keeps up gets everything, in order.
    assert fast.media == [events[0].data, *pieces * 40]
    # The slow one is cut off at the bound, and stays bounded.
    assert max(in_flight) <= MAX_IN_FLIGHT + max(len(p) for p in pieces)
    assert slow_subscriber.skips > 0
    # What the server holds for it (sent, not yet read) never passed the bound.
    assert sum(map(len, slow.media)) <= MAX_IN_FLIGHT + max(len(p) for p in pieces)


def test_a_slow_viewer_that_catches_up_resumes_at_a_keyframe_cluster():
    async def scenario():
        hub = Hub(LocalBackend())
        handle = await hub.open_publisher(SLUG, object(), session="s", takeover=False)
        slow = FakeViewerSocket(acks=False)
        subscriber = await join(hub, slow)
        events = recorded_events()
        await publish(handle, events[:1])
        while subscriber.skips == 0:
            await publish(handle, events[1:])
        received = len(slow.media)
        subscriber.acked = subscriber.sent  # it finally read everything
        await publish(handle, events[1:])
        return events, slow.media[received:]

    events, resumed = asyncio.run(scenario())
    keyframes = {e.data for e in events[1:] if e.keyframe}
    assert resumed and resumed[0] in keyframes


def test_a_joiner_gets_init_and_the_gop_from_the_latest_keyframe():
    async def scenario():
        hub = Hub(LocalBackend())
        handle = await hub.open_publisher(SLUG, object(), session="s", takeover=False)
        events = recorded_events()
        await publish(handle, events)
        late = FakeViewerSocket(acks=True)
        await join(hub, late)
        return events, late

    events, late = asyncio.run(scenario())
    last_keyframe = max(i for i, e in enumerate(events) if getattr(e, "keyframe", False))
    assert late.media == [events[0].data] + [e.data for e in events[last_keyframe:]]


def test_a_second_publisher_is_refused_then_takes_over_by_choice():
    class FakePublisher:
        taken_over = False

        async def hub_taken_over(self):
            self.taken_over = True

    async def scenario():
        hub = Hub(LocalBackend())
        first = FakePublisher()
        assert await hub.open_publisher(SLUG, first, session="a", takeover=False)
        refused = await hub.open_publisher(SLUG, FakePublisher(), session="b", takeover=False)
        taken = await hub.open_publisher(SLUG, FakePublisher(), session="b", takeover=True)
        return refused, taken, first.taken_over

    refused, taken, first_taken_over = asyncio.run(scenario())
    assert refused is None
    assert taken is not None
    assert first_taken_over


def test_ending_sends_a_final_message_and_closes_every_viewer():
    async def scenario():
        hub = Hub(LocalBackend())
        viewers = [FakeViewerSocket(acks=True) for _ in range(3)]
        for viewer in viewers:
            await join(hub, viewer)
        await hub.end(SLUG, "admin")
        return viewers

    for viewer in asyncio.run(scenario()):
        assert viewer.texts[-1] == '{"type": "ended", "reason": "admin"}'
        assert viewer.closed


def test_a_viewer_socket_closing_under_the_hub_does_not_stop_the_others():
    """Autobahn raises when a socket closes before the consumer hears of it."""

    class ClosingSocket(FakeViewerSocket):
        async def base_send(self, message):
            if len(self.media) >= 2:
                raise ConnectionError("Attempt to send on a closed protocol")
            await super().base_send(message)

    async def scenario():
        hub = Hub(LocalBackend())
        handle = await hub.open_publisher(SLUG, object(), session="s", takeover=False)
        closing, healthy = ClosingSocket(acks=True), FakeViewerSocket(acks=True)
        await join(hub, closing)
        await join(hub, healthy)
        events = recorded_events()
        await publish(handle, events)
        return events, closing, healthy, hub.streams[SLUG]

    events, closing, healthy, stream = asyncio.run(scenario())
    assert len(healthy.media) == len(events)
    assert closing.subscriber.id not in stream.viewers


def test_a_large_audience_gets_pieces_in_batches_that_start_at_keyframes(monkeypatch):
    """Past BATCH_FROM_VIEWERS viewers the fan-out costs per send: pieces are joined,
    in order, never across a keyframe cluster, and a joiner gets nothing twice."""
    from broadcast import hub as hub_module

    monkeypatch.setattr(hub_module, "BATCH_FROM_VIEWERS", 2)
    monkeypatch.setattr(hub_module, "BATCH_WINDOW", 0.05)

    async def scenario():
        hub = Hub(LocalBackend())
        handle = await hub.open_publisher(SLUG, object(), session="s", takeover=False)
        early = [FakeViewerSocket(acks=True) for _ in range(3)]
        for viewer in early:
            await join(hub, viewer)
        events = recorded_events()
        await handle.init_segment(events[0].data)
        late = None
        for number, event in enumerate(events[1:]):
            await handle.piece(
                event.data, cluster_start=event.cluster_start, keyframe=event.keyframe
            )
            await asyncio.sleep(0.02)
            if number == 8:
                late = FakeViewerSocket(acks=True)
                await join(hub, late)
        await asyncio.sleep(0.2)
        return events, early, late

    events, early, late = asyncio.run(scenario())
    stream = b"".join(e.data for e in events)
    keyframes = [e.data for e in events[1:] if e.keyframe]
    for viewer in early:
        assert b"".join(viewer.media) == stream
        assert len(viewer.media) < len(events)  # fewer sends than pieces
        for batch in viewer.media[1:]:
            # A keyframe cluster only ever starts a batch.
            assert not any(k in batch[1:] for k in keyframes)
    # The late joiner: init, the GOP, then the rest, each piece once.
    assert late.media[0] == events[0].data
    assert len(late.media) > 1
    received = b"".join(late.media[1:])
    assert received.startswith(tuple(keyframes))  # from a keyframe cluster
    assert stream.endswith(received)


def test_watch_sockets_per_ip_are_capped_and_given_back_on_close(settings):
    settings.MEDIA_MAX_WATCH_PER_IP = 2

    async def scenario():
        hub = Hub(LocalBackend())
        first_id = await hub.admit_viewer("203.0.113.7")
        first = await hub.add_viewer(
            SLUG, FakeViewerSocket(acks=True), subscriber_id=first_id, ip="203.0.113.7"
        )
        second_id = await hub.admit_viewer("203.0.113.7")
        refused = await hub.admit_viewer("203.0.113.7")
        other_address = await hub.admit_viewer("198.51.100.1")
        await hub.remove_viewer(SLUG, first)  # a socket closes: its place is free again
        after_close = await hub.admit_viewer("203.0.113.7")
        await hub.release_viewer("203.0.113.7", second_id)  # admitted, never joined
        after_release = await hub.admit_viewer("203.0.113.7")
        return second_id, refused, other_address, after_close, after_release

    second_id, refused, other_address, after_close, after_release = asyncio.run(scenario())
    assert second_id is not None
    assert refused is None
    assert other_address is not None
    assert after_close is not None
    assert after_release is not None
