"""The media consumers in-process (channels' WebsocketCommunicator, the real database):
a broadcast that ends while its publisher connects, and the per-IP cap on watch sockets."""

import asyncio

import pytest

from broadcast import consumers, protocol, services
from broadcast.hub import Hub, LocalBackend
from broadcast.models import Broadcast
from tests.factories import BroadcastFactory
from tests.media.conftest import adult

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hub(monkeypatch):
    """A hub of this test's own (the process-wide one would outlive the event loop)."""
    hub = Hub(LocalBackend())
    monkeypatch.setattr(consumers, "get_hub", lambda: hub)
    return hub


def communicator(consumer, slug, path, *, user=None, ip="203.0.113.5"):
    from channels.testing import WebsocketCommunicator

    socket = WebsocketCommunicator(consumer.as_asgi(), path)
    socket.scope["url_route"] = {"kwargs": {"slug": slug}}
    socket.scope["client"] = [ip, 50000]
    if user is not None:
        socket.scope["user"] = user
    return socket


async def refusal(socket):
    connected, _ = await socket.connect()
    assert connected
    error = await socket.receive_json_from()
    closed = await socket.receive_output()
    return error["code"], closed.get("code")


def test_a_broadcast_ended_while_its_publisher_connects_is_refused_as_not_live(hub, monkeypatch):
    owner = adult(username="racer")
    broadcast = BroadcastFactory(owner=owner)  # not started yet
    go_live = services.go_live

    def ended_just_before(*, broadcast):
        # The admin (or the sweep) ends it between the consumer's checks and go_live.
        services.end_broadcast(
            broadcast=Broadcast.objects.get(pk=broadcast.pk), reason=services.EndReason.ADMIN
        )
        return go_live(broadcast=broadcast)

    monkeypatch.setattr(services, "go_live", ended_just_before)
    slug = broadcast.slug

    async def scenario():
        socket = communicator(
            consumers.PublishConsumer, slug, f"/ws/b/{slug}/publish/?session=tab", user=owner
        )
        refused = await refusal(socket)
        await socket.wait()
        return refused, await hub.publisher_present(slug)

    refused, lease_held = asyncio.run(scenario())
    assert refused == (protocol.ERROR_NOT_LIVE, protocol.CLOSE_FORBIDDEN)
    assert not lease_held  # the lease it had claimed is given back
    assert Broadcast.objects.get(pk=broadcast.pk).end_reason == services.EndReason.ADMIN


def test_one_address_may_open_only_so_many_watch_sockets(hub, settings):
    settings.MEDIA_MAX_WATCH_PER_IP = 2
    slug = BroadcastFactory(owner=adult(username="popular"), live=True).slug
    path = f"/ws/b/{slug}/watch/"

    async def watcher(ip="203.0.113.5"):
        socket = communicator(consumers.WatchConsumer, slug, path, ip=ip)
        connected, _ = await socket.connect()
        assert connected
        assert (await socket.receive_json_from())["type"] == "state"
        return socket

    async def scenario():
        first, second = await watcher(), await watcher()
        over = await refusal(communicator(consumers.WatchConsumer, slug, path))
        other = await watcher(ip="198.51.100.3")
        counted = await hub.viewer_count(slug)
        await first.disconnect()
        third = await watcher()  # a closed socket gives its place back
        for socket in (second, other, third):
            await socket.disconnect()
        return over, counted

    over, counted = asyncio.run(scenario())
    assert over == (protocol.ERROR_TOO_MANY_SOCKETS, protocol.CLOSE_TOO_MANY_SOCKETS)
    assert counted == 3  # the refused one never counted as a viewer
