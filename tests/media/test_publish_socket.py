"""The ingest and watch sockets through a real Daphne process: who may publish, one
publisher at a time, bad input, joining at the latest keyframe, the end."""

import asyncio

import pytest

from broadcast import services
from broadcast.models import Broadcast
from tests.conftest import DaphneServer
from tests.factories import BroadcastFactory, UserFactory
from tests.media.conftest import adult, session_cookie, years_ago
from tests.media.sockets import (
    EBML_MAGIC,
    connect,
    next_json,
    next_media,
    publish_path,
    recorded_chunks,
    refusal,
)
from tests.support import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def owner():
    return adult(username="owner", handle="owner")


@pytest.fixture
def live(owner):
    return BroadcastFactory(owner=owner, live=True)


def test_anonymous_client_cannot_publish(live_server_process, live):
    async def scenario():
        async with connect(live_server_process, publish_path(live.slug)) as ws:
            return await refusal(ws)

    assert asyncio.run(scenario()) == ("not_signed_in", 4401)


def test_signed_in_non_owner_cannot_publish(live_server_process, live, client):
    cookie = session_cookie(client, adult(username="someone-else"))

    async def scenario():
        async with connect(live_server_process, publish_path(live.slug), cookie) as ws:
            return await refusal(ws)

    assert asyncio.run(scenario()) == ("not_owner", 4403)


def test_owner_under_18_cannot_publish(live_server_process, client):
    minor = UserFactory(username="minor", birth_date=years_ago(17))
    broadcast = BroadcastFactory(owner=minor, live=True)
    cookie = session_cookie(client, minor)

    async def scenario():
        async with connect(live_server_process, publish_path(broadcast.slug), cookie) as ws:
            return await refusal(ws)

    assert asyncio.run(scenario()) == ("not_allowed", 4403)


def test_nobody_publishes_to_an_ended_broadcast(live_server_process, owner, client):
    broadcast = BroadcastFactory(owner=owner, state=Broadcast.State.ENDED)
    cookie = session_cookie(client, owner)

    async def scenario():
        async with connect(live_server_process, publish_path(broadcast.slug), cookie) as ws:
            return await refusal(ws)

    assert asyncio.run(scenario()) == ("not_live", 4403)


def test_second_tab_is_refused_unless_it_takes_over(live_server_process, live, owner, client):
    cookie = session_cookie(client, owner)
    server = live_server_process

    async def scenario():
        async with connect(server, publish_path(live.slug, "tab-1"), cookie) as first:
            assert (await next_json(first))["type"] == "ready"
            async with connect(server, publish_path(live.slug, "tab-2"), cookie) as second:
                refused = await refusal(second)
            async with connect(server, publish_path(live.slug, "tab-2", True), cookie) as third:
                assert (await next_json(third, kind="ready"))["type"] == "ready"
                taken = await refusal(first)
                # The same tab reconnecting (its socket dropped) takes back its own.
                async with connect(server, publish_path(live.slug, "tab-2"), cookie) as again:
                    assert (await next_json(again, kind="ready"))["type"] == "ready"
            return refused, taken

    refused, taken = asyncio.run(scenario())
    assert refused == ("already_publishing", 4409)
    assert taken == ("taken_over", 4410)


def test_late_viewer_joins_at_init_and_latest_keyframe_then_sees_the_end(
    live_server_process, live, owner, client, fixture_webm
):
    cookie = session_cookie(client, owner)
    chunks = recorded_chunks(fixture_webm)
    server = live_server_process

    async def scenario():
        async with connect(server, publish_path(live.slug), cookie) as publisher:
            await next_json(publisher, kind="ready")
            for chunk in chunks:
                await publisher.send(chunk)
            await publisher.send('{"type": "ping", "id": 1}')
            await next_json(publisher, kind="pong")  # everything before it was ingested
            async with connect(server, f"/ws/b/{live.slug}/watch/") as viewer:
                state = await next_json(viewer, kind="state")
                init = await next_media(viewer)
                first_cluster = await next_media(viewer)
                await publisher.send('{"type": "end"}')
                ended = await next_json(viewer, kind="ended")
                async with asyncio.timeout(10):
                    await viewer.wait_closed()
                return state, init, first_cluster, ended, viewer.close_code

    state, init, first_cluster, ended, close_code = asyncio.run(scenario())
    assert state == {"type": "state", "state": "live"}
    assert init.startswith(EBML_MAGIC)
    assert first_cluster.startswith(b"\x1f\x43\xb6\x75")  # a Cluster...
    assert first_cluster in fixture_webm  # ...taken from the recording, the latest GOP
    assert fixture_webm.rfind(first_cluster) > len(fixture_webm) // 2
    assert ended == {"type": "ended", "reason": "owner"}
    assert close_code == 1000
    assert Broadcast.objects.get(pk=live.pk).end_reason == "owner"


def test_garbage_closes_the_publisher_and_leaves_viewers_unharmed(
    live_server_process, live, owner, client, fixture_webm
):
    cookie = session_cookie(client, owner)
    chunks = recorded_chunks(fixture_webm)
    server = live_server_process

    async def scenario():
        async with connect(server, f"/ws/b/{live.slug}/watch/") as viewer:
            await next_json(viewer, kind="state")
            async with connect(server, publish_path(live.slug), cookie) as publisher:
                await next_json(publisher, kind="ready")
                await publisher.send(chunks[0])
                await publisher.send(chunks[1])
                assert (await next_media(viewer)).startswith(EBML_MAGIC)
                await next_media(viewer)
                await publisher.send(b"\x00\x01garbage" * 100)
                bad = await refusal(publisher)
            reconnecting = await next_json(viewer, kind="state")
            # The broadcaster comes back; the same viewer socket carries on.
            async with connect(server, publish_path(live.slug), cookie) as publisher:
                await next_json(publisher, kind="ready")
                for chunk in chunks[:4]:
                    await publisher.send(chunk)
                fresh_init = await next_media(viewer)
                after = await next_media(viewer)
            return bad, reconnecting, fresh_init, after

    bad, reconnecting, fresh_init, after = asyncio.run(scenario())
    assert bad == ("bad_media", 4400)
    assert reconnecting["state"] == "reconnecting"
    assert fresh_init.startswith(EBML_MAGIC)
    assert after.startswith(b"\x1f\x43\xb6\x75")


def test_oversize_frame_closes_the_publisher(live_server_process, live, owner, client):
    cookie = session_cookie(client, owner)

    async def scenario():
        async with connect(live_server_process, publish_path(live.slug), cookie) as publisher:
            await next_json(publisher, kind="ready")
            await publisher.send(b"\x1a" * (600 * 1024))
            return await refusal(publisher)

    assert asyncio.run(scenario()) == ("too_large", 4413)


def test_broadcast_ends_as_disconnected_after_its_publisher_process_is_killed(
    django_db_setup, tmp_path, live, owner, client, fixture_webm
):
    """The lease is in the database: once the process holding the publisher is gone,
    the sweep (a beat task) ends the broadcast 30 s after the last media."""
    server = DaphneServer(tmp_path, name="doomed")
    cookie = session_cookie(client, owner)
    try:

        async def publish():
            async with connect(server, publish_path(live.slug), cookie) as publisher:
                await next_json(publisher, kind="ready")
                for chunk in recorded_chunks(fixture_webm):
                    await publisher.send(chunk)
                await asyncio.to_thread(
                    wait_for,
                    lambda: Broadcast.objects.get(pk=live.pk).last_media_at,
                    what="the publisher's lease to be written",
                )
                server.process.kill()  # SIGKILL: nothing is cleaned up
                async with asyncio.timeout(10):
                    await publisher.wait_closed()

        asyncio.run(publish())
    finally:
        server.stop()
    live.refresh_from_db()
    assert live.state == Broadcast.State.LIVE
    last_media = live.last_media_at
    assert services.end_idle_broadcasts(now=last_media + services.IDLE_TIMEOUT / 2) == []
    ended = services.end_idle_broadcasts(now=last_media + services.IDLE_TIMEOUT * 1.1)
    assert ended == [live.slug]
    live.refresh_from_db()
    assert (live.state, live.end_reason) == (Broadcast.State.ENDED, "broadcaster_disconnected")


def test_an_admin_ending_elsewhere_closes_every_viewer_within_seconds(live_server_process, live):
    """Ended from another process (admin, sweep): the hubs hear it (Redis) or notice it
    (they poll the state of their broadcasts), and close their viewers."""

    async def scenario():
        async with connect(live_server_process, f"/ws/b/{live.slug}/watch/") as viewer:
            await next_json(viewer, kind="state")
            await asyncio.to_thread(
                services.end_broadcast, broadcast=live, reason=services.EndReason.ADMIN
            )
            ended = await next_json(viewer, kind="ended", timeout=10)
            async with asyncio.timeout(10):
                await viewer.wait_closed()
            return ended, viewer.close_code

    assert asyncio.run(scenario()) == ({"type": "ended", "reason": "admin"}, 1000)


def test_watching_an_ended_broadcast_says_so_at_once(live_server_process, owner):
    broadcast = BroadcastFactory(owner=owner, state=Broadcast.State.ENDED, end_reason="owner")

    async def scenario():
        async with connect(live_server_process, f"/ws/b/{broadcast.slug}/watch/") as viewer:
            ended = await next_json(viewer)
            async with asyncio.timeout(10):
                await viewer.wait_closed()
            return ended, viewer.close_code

    assert asyncio.run(scenario()) == ({"type": "ended", "reason": "owner"}, 1000)


def test_the_first_publisher_connection_puts_a_not_started_broadcast_live(
    live_server_process, owner, client
):
    broadcast = BroadcastFactory(owner=owner)
    cookie = session_cookie(client, owner)

    async def scenario():
        async with connect(live_server_process, f"/ws/b/{broadcast.slug}/watch/") as viewer:
            before = await next_json(viewer, kind="state")
            async with connect(live_server_process, publish_path(broadcast.slug), cookie) as ws:
                ready = await next_json(ws, kind="ready")
                after = await next_json(viewer, kind="state")
        return before, ready, after

    before, ready, after = asyncio.run(scenario())
    broadcast.refresh_from_db()
    assert before["state"] == "created" and after["state"] == "live"
    assert broadcast.state == Broadcast.State.LIVE
    assert ready["started_at"] == broadcast.started_at.isoformat()


def test_the_publisher_hears_how_many_media_bytes_arrived(
    live_server_process, live, owner, client, fixture_webm
):
    """Its uplink backlog is what it sent minus this: reports at most every 0.5 s, and
    one after the last bytes, so a publisher waiting for its backlog to drain hears it."""
    cookie = session_cookie(client, owner)
    chunks = recorded_chunks(fixture_webm)
    total = sum(map(len, chunks))

    async def scenario():
        async with connect(live_server_process, publish_path(live.slug), cookie) as ws:
            await next_json(ws, kind="ready")
            for chunk in chunks:
                await ws.send(chunk)
            reports = []
            while not reports or reports[-1] < total:
                reports.append((await next_json(ws, kind="received"))["bytes"])
            return reports

    reports = asyncio.run(scenario())
    assert reports[-1] == total
    assert reports == sorted(reports)
    assert len(reports) < len(chunks) / 4  # not one per chunk
