"""The hub in Redis mode, against a real Redis: publisher leases renewed by the
housekeeping pass with several live streams, changed only by their holder, and the per-IP
cap on watch sockets counted across processes (two hubs on one Redis)."""

import asyncio
import uuid

import pytest

from broadcast.hub import PUBLISHER_LEASE_TTL, Hub, RedisBackend
from tests.media.test_hub import FakeViewerSocket


def redis_hub(redis_url, prefix):
    return Hub(RedisBackend(redis_url, prefix=prefix))


async def shut(*hubs):
    for hub in hubs:
        for task in (hub._housekeeping, hub.backend._listener):
            if task is not None:
                task.cancel()
        await hub.backend.redis.aclose()


@pytest.fixture
def prefix():
    return f"onair-test-{uuid.uuid4().hex[:8]}"


def test_housekeeping_renews_the_publisher_lease_with_several_live_streams(redis_url, prefix):
    async def scenario():
        hub = redis_hub(redis_url, prefix)
        try:
            handle = await hub.open_publisher("one", object(), session="tab", takeover=False)
            assert handle is not None
            for slug in ("one", "two"):
                await hub.add_viewer(slug, FakeViewerSocket(acks=True))
            lease = f"{prefix}:publisher:one"
            await hub.backend.redis.pexpire(lease, 2000)  # as if 13 s had passed
            await hub.housekeeping()
            ttl = await hub.backend.redis.pttl(lease)
            counts = [await hub.viewer_count(slug) for slug in ("one", "two")]
            return ttl, counts, await hub.publisher_present("one")
        finally:
            await shut(hub)

    ttl, counts, present = asyncio.run(scenario())
    assert ttl > (PUBLISHER_LEASE_TTL - 3) * 1000  # renewed to the full lease
    assert counts == [1, 1]
    assert present


def test_a_publisher_released_after_a_takeover_leaves_the_new_lease_alone(redis_url, prefix):
    class Publisher:
        async def hub_taken_over(self):
            pass

    async def scenario():
        hub = redis_hub(redis_url, prefix)
        try:
            first = await hub.open_publisher("slug", Publisher(), session="a", takeover=False)
            refused = await hub.open_publisher("slug", Publisher(), session="b", takeover=False)
            second = await hub.open_publisher("slug", Publisher(), session="b", takeover=True)
            released_old = await hub.backend.release_publisher("slug", first.id)
            holder = await hub.backend.redis.get(f"{prefix}:publisher:slug")
            # The same tab reconnecting takes its own lease back without asking.
            again = await hub.open_publisher("slug", Publisher(), session="b", takeover=False)
            released_new = await hub.backend.release_publisher("slug", again.id)
            return refused, second, released_old, holder, again, released_new
        finally:
            await shut(hub)

    refused, second, released_old, holder, again, released_new = asyncio.run(scenario())
    assert refused is None
    assert released_old is False
    assert holder.decode() == second.id
    assert again is not None
    assert released_new is True


def test_watch_sockets_per_ip_are_capped_across_processes(redis_url, prefix, settings):
    settings.MEDIA_MAX_WATCH_PER_IP = 2

    async def scenario():
        one, two = redis_hub(redis_url, prefix), redis_hub(redis_url, prefix)
        try:
            ip = "203.0.113.9"
            first_id = await one.admit_viewer(ip)
            first = await one.add_viewer(
                "slug", FakeViewerSocket(acks=True), subscriber_id=first_id, ip=ip
            )
            second_id = await two.admit_viewer(ip)
            await two.add_viewer(
                "slug", FakeViewerSocket(acks=True), subscriber_id=second_id, ip=ip
            )
            refused = await two.admit_viewer(ip)
            elsewhere = await two.admit_viewer("198.51.100.2")
            await one.housekeeping()  # heartbeats keep the places taken
            still_refused = await one.admit_viewer(ip)
            await one.remove_viewer("slug", first)
            after_close = await one.admit_viewer(ip)
            return refused, elsewhere, still_refused, after_close
        finally:
            await shut(one, two)

    refused, elsewhere, still_refused, after_close = asyncio.run(scenario())
    assert refused is None and still_refused is None
    assert elsewhere is not None
    assert after_close is not None
