"""Redis mode: two Daphne processes share broadcasts through Redis pub/sub (one PUBLISH
per piece); viewer counts are heartbeats with an expiry, right after a process dies."""

import asyncio
import json
import urllib.request
import uuid

import pytest
import redis

from broadcast.models import Broadcast
from tests.conftest import DaphneServer
from tests.factories import BroadcastFactory
from tests.media.conftest import adult, session_cookie
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

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_servers(redis_url, django_db_setup, tmp_path):
    servers = [DaphneServer(tmp_path, name=f"web{i}", REDIS_URL=redis_url) for i in (1, 2)]
    yield servers
    for server in servers:
        server.stop()


def viewers_seen_by(server, slug):
    with urllib.request.urlopen(f"{server.url}/api/broadcasts/{slug}", timeout=10) as response:
        return json.load(response)["viewers"]


def test_viewer_on_one_process_watches_a_broadcaster_on_the_other(
    two_servers, client, fixture_webm
):
    one, two = two_servers
    owner = adult(username="redis-owner")
    broadcast = BroadcastFactory(owner=owner, live=True)
    cookie = session_cookie(client, owner)
    chunks = recorded_chunks(fixture_webm)
    slug = broadcast.slug

    async def scenario():
        async with connect(one, publish_path(slug), cookie) as publisher:
            await next_json(publisher, kind="ready")
            # A viewer on the other process, before the stream starts...
            async with connect(two, f"/ws/b/{slug}/watch/") as early:
                await next_json(early, kind="state")
                await publisher.send(chunks[0])
                await publisher.send(chunks[1])
                early_init = await next_media(early)
                early_first = await next_media(early)
                for chunk in chunks[2:]:
                    await publisher.send(chunk)
                # ...and one joining late, served from the GOP cache.
                async with connect(two, f"/ws/b/{slug}/watch/") as late:
                    await next_json(late, kind="state")
                    late_init = await next_media(late)
                    late_first = await next_media(late)
                    async with connect(one, f"/ws/b/{slug}/watch/") as local:
                        await next_json(local, kind="state")
                        await asyncio.to_thread(
                            wait_for,
                            lambda: (
                                viewers_seen_by(one, slug) == 3 and viewers_seen_by(two, slug) == 3
                            ),
                            timeout=20,
                            what="3 viewers counted by both processes",
                        )
                # The owner ends it on process one; the viewer on process two hears it.
                await publisher.send('{"type": "end"}')
                ended = await next_json(early, kind="ended", timeout=15)
        return early_init, early_first, late_init, late_first, ended

    early_init, early_first, late_init, late_first, ended = asyncio.run(scenario())
    assert early_init == late_init and early_init.startswith(EBML_MAGIC)
    assert chunks[1].startswith(early_first)  # the first cluster, as it arrived
    assert late_first.startswith(b"\x1f\x43\xb6\x75") and late_first in fixture_webm
    assert ended["reason"] == "owner"
    assert Broadcast.objects.get(pk=broadcast.pk).state == Broadcast.State.ENDED


def test_viewer_count_stays_right_after_a_process_is_killed(two_servers, client):
    one, two = two_servers
    broadcast = BroadcastFactory(owner=adult(username="count-owner"), live=True)
    slug = broadcast.slug

    async def scenario():
        async with connect(one, f"/ws/b/{slug}/watch/") as viewer_one:
            await next_json(viewer_one, kind="state")
            async with connect(two, f"/ws/b/{slug}/watch/") as viewer_two:
                await next_json(viewer_two, kind="state")
                await asyncio.to_thread(
                    wait_for, lambda: viewers_seen_by(one, slug) == 2, timeout=20, what="2"
                )
                two.process.kill()  # SIGKILL: no clean disconnect is ever sent
                await asyncio.to_thread(
                    wait_for,
                    lambda: viewers_seen_by(one, slug) == 1,
                    timeout=45,
                    what="the dead process's viewer to expire",
                )

    asyncio.run(scenario())


def test_watch_sockets_per_address_are_capped_across_processes(
    redis_url, django_db_setup, tmp_path
):
    prefix = f"onair-test-{uuid.uuid4().hex[:8]}"  # no places left over by other tests
    servers = [
        DaphneServer(
            tmp_path,
            name=f"capped{i}",
            REDIS_URL=redis_url,
            MEDIA_REDIS_PREFIX=prefix,
            MEDIA_MAX_WATCH_PER_IP="2",
        )
        for i in (1, 2)
    ]
    one, two = servers
    slug = BroadcastFactory(owner=adult(username="capped-owner"), live=True).slug
    path = f"/ws/b/{slug}/watch/"

    async def scenario():
        async with connect(one, path) as first, connect(two, path) as second:
            await next_json(first, kind="state")
            await next_json(second, kind="state")
            async with connect(one, path) as third:
                refused = await refusal(third)
            await first.close()
            # The place is given back when the server has handled the close.
            places = redis.Redis.from_url(redis_url)
            await asyncio.to_thread(
                wait_for,
                lambda: places.zcard(f"{prefix}:ip:127.0.0.1") == 1,
                timeout=10,
                what="the closed socket's place to be given back",
            )
            async with connect(two, path) as again:
                admitted = await next_json(again)
        return refused, admitted

    try:
        refused, admitted = asyncio.run(scenario())
    finally:
        for server in servers:
            server.stop()
    assert refused == ("too_many_sockets", 4429)
    assert admitted["type"] == "state"
