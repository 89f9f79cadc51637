"""Live thumbnails: a keyframe decoded to a small JPEG in memory, kept for three periods,
at most one decode per broadcast per period, skipped under load, and produced on a real
Daphne from a publisher's stream without ever touching the disk or the database."""

import asyncio
import io
import threading
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
import redis
from django.apps import apps
from django.conf import settings
from django.db import connection, models

from broadcast import thumbnails
from broadcast.hub import Hub, LocalBackend
from broadcast.thumbnails import MemoryStore, RedisStore, Thumbnail, Thumbnailer
from broadcast.webm import InitSegment, Segmenter
from tests.conftest import DaphneServer
from tests.factories import BroadcastFactory
from tests.media.conftest import FIXTURES, adult, session_cookie
from tests.media.sockets import connect, next_json, publish_path, recorded_chunks
from tests.media.synthetic_webm import synthetic_webm
from tests.support import wait_for

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def keyframe_source(data):
    """(init segment, first keyframe piece) of a recording cut like a live stream."""
    segmenter, events = Segmenter(), []
    for start in range(0, len(data), 4096):
        events += segmenter.feed(data[start : start + 4096])
    init = next(e.data for e in events if isinstance(e, InitSegment))
    return init, next(e.data for e in events if not isinstance(e, InitSegment) and e.keyframe)


def decode_jpeg(data):
    with av.open(io.BytesIO(data)) as container:
        return next(container.decode(video=0))


def distinct_luma_values(frame):
    return len(set(bytes(frame.planes[0])))


def picture(taken_at=T0):
    return Thumbnail(b"\xff\xd8jpeg\xff\xd9", "image/jpeg", taken_at, 320, 240)


# --- decoding ---------------------------------------------------------------------------


def test_a_keyframe_of_the_fake_camera_becomes_a_small_jpeg():
    init, keyframe = keyframe_source((FIXTURES / "fake-camera-100ms.webm").read_bytes())

    data, width, height = thumbnails.render_thumbnail(init, keyframe)

    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"
    assert len(data) < 30_000
    frame = decode_jpeg(data)
    assert (frame.width, frame.height) == (width, height) == (320, 240)
    assert distinct_luma_values(frame) > 20  # a picture, not a grey or black square


def test_a_720p_keyframe_is_scaled_to_320_pixels_wide_keeping_its_shape():
    init, keyframe = keyframe_source(synthetic_webm(1280, 720, seconds=1))

    data, width, height = thumbnails.render_thumbnail(init, keyframe)

    frame = decode_jpeg(data)
    assert (frame.width, frame.height) == (width, height) == (320, 180)
    assert distinct_luma_values(frame) > 20


def test_what_is_not_a_decodable_keyframe_gives_no_picture():
    init, keyframe = keyframe_source((FIXTURES / "fake-camera-100ms.webm").read_bytes())

    assert thumbnails.render_thumbnail(init, b"") is None
    assert thumbnails.render_thumbnail(b"not webm at all", keyframe) is None
    assert thumbnails.render_thumbnail(init, keyframe[:40]) is None


# --- keeping ------------------------------------------------------------------------------


def test_a_picture_expires_three_periods_after_it_was_taken(settings):
    settings.THUMBNAIL_EVERY_S = 10
    store = MemoryStore()
    store.put("slug", picture())

    assert store.get("slug", now=T0 + timedelta(seconds=29.9)) == picture()
    assert store.get("slug", now=T0 + timedelta(seconds=30)) is None
    store.prune(now=T0 + timedelta(seconds=30))
    assert store.get("slug", now=T0) is None  # gone from memory, not just hidden


def test_in_redis_a_picture_expires_with_its_key(settings, redis_url):
    settings.THUMBNAIL_EVERY_S = 0.2
    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client, f"test-thumbs-{uuid.uuid4().hex}")
    now = datetime.now(UTC)
    store.put("slug", picture(now))

    assert store.get("slug", now=now) == picture(now)
    assert 0 < client.pttl(store.key("slug")) <= 600
    assert store.get("slug", now=now + timedelta(seconds=0.6)) is None  # a driven clock
    wait_for(lambda: client.exists(store.key("slug")) == 0, timeout=10, what="key expiry")
    assert store.get("slug", now=now) is None


def test_in_redis_one_process_a_period_may_decode_a_broadcast(settings, redis_url):
    settings.THUMBNAIL_EVERY_S = 0.2
    client = redis.Redis.from_url(redis_url)
    prefix = f"test-thumbs-{uuid.uuid4().hex}"
    one, other = RedisStore(client, prefix), RedisStore(client, prefix)

    assert one.claim("slug") is True
    assert other.claim("slug") is False
    assert one.claim("another-slug") is True
    wait_for(lambda: other.claim("slug"), timeout=10, what="the next period's lock")


# --- the schedule -------------------------------------------------------------------------


class Clocks:
    """Monotonic and CPU clocks the test moves by hand."""

    def __init__(self):
        self.wall = 0.0
        self.cpu = 0.0

    def advance(self, seconds, cpu_share=0.1):
        self.wall += seconds
        self.cpu += seconds * cpu_share


async def live_hub(slugs):
    """An in-process hub with a publisher per slug that sent the fake camera."""
    hub, hub.test_handles = Hub(LocalBackend()), {}
    events = Segmenter().feed((FIXTURES / "fake-camera-250ms.webm").read_bytes())
    for slug in slugs:
        handle = hub.test_handles[slug] = await hub.open_publisher(
            slug, object(), session="s", takeover=False
        )
        for event in events:
            if isinstance(event, InitSegment):
                await handle.init_segment(event.data)
            else:
                await handle.piece(
                    event.data, cluster_start=event.cluster_start, keyframe=event.keyframe
                )
    return hub


def thumbnailer(clocks, store=None, **kwargs):
    return Thumbnailer(
        store=store or MemoryStore(),
        every=10,
        clock=lambda: clocks.wall,
        cpu_clock=lambda: clocks.cpu,
        now=lambda: T0 + timedelta(seconds=clocks.wall),
        **kwargs,
    )


async def tick(worker, hub):
    batch = worker.tick(hub)
    if batch is not None:
        await batch
    return batch is not None


def test_each_live_broadcast_is_decoded_at_most_once_a_period():
    clocks = Clocks()

    async def scenario():
        hub = await live_hub(["one", "two"])
        worker = thumbnailer(clocks)
        ran = [await tick(worker, hub)]
        for _ in range(4):  # housekeeping every 2 s, within the period
            clocks.advance(2)
            ran.append(await tick(worker, hub))
        decoded_within_period = worker.decoded
        clocks.advance(2)  # 10 s after the first
        ran.append(await tick(worker, hub))
        return worker, ran, decoded_within_period

    worker, ran, decoded_within_period = asyncio.run(scenario())

    assert ran == [True, False, False, False, False, True]
    assert decoded_within_period == 2
    assert worker.decoded == 4
    got = worker.store.get("one", now=T0 + timedelta(seconds=10))
    assert got.taken_at == T0 + timedelta(seconds=10)
    assert got.content_type == "image/jpeg"
    assert decode_jpeg(got.data).width == 320


def test_only_the_process_holding_the_publisher_decodes():
    clocks = Clocks()

    async def scenario():
        hub = await live_hub(["watched-here"])
        # What a process of viewers holds: the GOP cache, but not the publisher.
        await hub.close_publisher("watched-here", hub.test_handles["watched-here"])
        assert hub.stream("watched-here").gop_valid
        worker = thumbnailer(clocks)
        return await tick(worker, hub), worker.decoded

    assert asyncio.run(scenario()) == (False, 0)


def test_a_tick_is_skipped_while_the_previous_batch_is_still_decoding():
    clocks = Clocks()
    release = threading.Event()

    class SlowStore(MemoryStore):
        def claim(self, slug):
            release.wait(30)
            return True

    async def scenario():
        hub = await live_hub(["busy"])
        worker = thumbnailer(clocks, store=SlowStore())
        first = worker.tick(hub)
        clocks.advance(10)
        second = worker.tick(hub)
        release.set()
        await first
        clocks.advance(2)
        third = await tick(worker, hub)
        return worker, first, second, third

    worker, first, second, third = asyncio.run(scenario())

    assert first is not None and second is None
    assert worker.skipped_busy == 1
    assert third is True  # still due: decoded as soon as the worker is free
    assert worker.decoded == 2


def test_a_tick_is_skipped_when_the_process_is_busy():
    clocks = Clocks()

    async def scenario():
        hub = await live_hub(["loaded"])
        worker = thumbnailer(clocks)
        worker.tick(hub)  # the first tick has no measure yet: nothing due is skipped
        await worker.batch
        clocks.advance(10, cpu_share=0.95)
        skipped = worker.tick(hub)
        clocks.advance(2, cpu_share=0.3)
        resumed = await tick(worker, hub)
        return worker, skipped, resumed

    worker, skipped, resumed = asyncio.run(scenario())

    assert skipped is None and worker.skipped_load == 1
    assert resumed is True and worker.decoded == 2


# --- a real server ------------------------------------------------------------------------


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, b""


def files_holding(data, roots):
    found = []
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file() and data in path.read_bytes():
                found.append(str(path))
    return found


def database_rows_holding(data):
    """Rows of any binary column, and cache entries, that hold the picture."""
    found = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.BinaryField):
                for value in model._default_manager.values_list(field.name, flat=True):
                    if value is not None and data in bytes(value):
                        found.append(f"{model.__name__}.{field.name}")
    if "onair_cache" in connection.introspection.table_names():
        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key FROM onair_cache WHERE cache_key LIKE %s", ["%thumb%"])
            found += [row[0] for row in cursor.fetchall()]
    return found


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_live_broadcast_on_daphne_gets_a_picture_kept_off_disk(client, tmp_path):
    server = DaphneServer(tmp_path, name="thumbs-web", THUMBNAIL_EVERY_S=1)
    try:
        owner = adult(username="thumb-owner")
        broadcast = BroadcastFactory(owner=owner, live=True, show_picture=True)
        cookie = session_cookie(client, owner)
        chunks = recorded_chunks((FIXTURES / "fake-camera-250ms.webm").read_bytes())
        url = f"{server.url}/b/{broadcast.slug}/thumbnail.jpg"

        async def scenario():
            async with connect(server, publish_path(broadcast.slug), cookie) as publisher:
                await next_json(publisher, kind="ready")
                for chunk in chunks:
                    await publisher.send(chunk)
                return await asyncio.to_thread(
                    wait_for,
                    lambda: (got := http_get(url))[0] == 200 and got,
                    timeout=60,
                    what="the first thumbnail",
                )

        _, headers, data = asyncio.run(scenario())
        if settings.REDIS_URL:
            store = thumbnails.get_store()
            assert store.get(broadcast.slug, now=datetime.now(UTC)).data == data
            assert 0 < store.client.pttl(store.key(broadcast.slug)) <= 3 * 1000  # 3 x 1 s
    finally:
        server.stop()

    assert headers["Content-Type"] == "image/jpeg"
    frame = decode_jpeg(data)
    assert (frame.width, frame.height) == (320, 240)
    assert distinct_luma_values(frame) > 20
    assert files_holding(data, [settings.VAR_DIR, tmp_path]) == []
    assert database_rows_holding(data) == []
