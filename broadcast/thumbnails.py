"""Live thumbnails: a small JPEG of each live broadcast, decoded on the server from one
keyframe every THUMBNAIL_EVERY_S seconds, for the moderation desk, report evidence and
the watch page's link card.

Kept in memory only, never on disk or in the database: in this process's memory without
REDIS_URL, in Redis with it, each picture expiring three periods after it was taken.
PyAV reads the init segment and the keyframe cluster from memory (io.BytesIO). A report
copies the picture as its evidence: that is the only stored copy.

Bounded cost. The hub's housekeeping (every couple of seconds) calls this module's hook,
which hands the broadcasts that are due to ONE worker thread, off the event loop; a
broadcast is decoded at most once per period. A tick does nothing when
- the previous batch has not finished (the worker is behind), or
- this process used more than SKIP_ABOVE_CPU of one core since the previous tick (its
  event loop is short of time; the broadcasts stay due and get their picture when the
  load drops, or their old one expires).

Which process decodes: the one holding the broadcast's publisher. In Redis mode every
process has the GOP but only one holds the publisher; a Redis SET NX lock per broadcast
per period also covers a takeover that moves the publisher between processes.
"""

import asyncio
import concurrent.futures
import io
import logging
import struct
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from django.conf import settings
from django.utils import timezone

from broadcast.models import Broadcast

logger = logging.getLogger(__name__)

WIDTH = 320
CONTENT_TYPE = "image/jpeg"
# ffmpeg's JPEG quantiser scale, 2 (best) to 31: 5 gives ~7 KB at 320x240.
JPEG_QSCALE = 5
# A source larger than 4K is not decoded: a publisher could declare any frame size.
MAX_SOURCE_PIXELS = 3840 * 2160
SKIP_ABOVE_CPU = 0.85
# The Redis lock lasts most of a period, not all of it: housekeeping ticks jitter, and a
# lock outliving the period would make every other round miss.
LOCK_SHARE = 0.8
TTL_PERIODS = 3


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    content_type: str
    taken_at: datetime
    width: int
    height: int


def every_s():
    """Seconds between two pictures of a broadcast; 0 or less turns thumbnails off."""
    return settings.THUMBNAIL_EVERY_S


def time_to_live():
    return timedelta(seconds=TTL_PERIODS * every_s())


def is_fresh(thumbnail, now):
    return now < thumbnail.taken_at + time_to_live()


# --- who may see it (no database access) -------------------------------------------


def picture_on_card(broadcast):
    """May the live picture be the watch page's link card (og:image), for everyone?"""
    return (
        broadcast.state == Broadcast.State.LIVE
        and broadcast.show_picture
        and broadcast.visibility in (Broadcast.Visibility.PUBLIC, Broadcast.Visibility.UNLISTED)
    )


def is_moderation_staff(user):
    """Staff who work the moderation desk (they may read reports)."""
    return bool(getattr(user, "is_staff", False)) and user.has_perm("safety.view_report")


def may_see_thumbnail(*, user, broadcast):
    """Moderation staff always see a live broadcast's picture; others only what its card
    shows. Nobody sees the picture of a broadcast that is not live."""
    if broadcast.state != Broadcast.State.LIVE:
        return False
    return is_moderation_staff(user) or picture_on_card(broadcast)


# --- where pictures are kept ---------------------------------------------------------


class MemoryStore:
    """One process (no REDIS_URL): a dict, read by request threads and written by the
    worker thread."""

    def __init__(self):
        self._items = {}
        self._lock = threading.Lock()

    def put(self, slug, thumbnail):
        with self._lock:
            self._items[slug] = thumbnail

    def get(self, slug, *, now):
        with self._lock:
            thumbnail = self._items.get(slug)
        return thumbnail if thumbnail is not None and is_fresh(thumbnail, now) else None

    def prune(self, *, now):
        with self._lock:
            for slug in [s for s, t in self._items.items() if not is_fresh(t, now)]:
                del self._items[slug]

    def claim(self, slug):
        return True  # the only process


# Redis value: taken_at (POSIX seconds), width, height, content type length, then the
# content type and the picture.
_VALUE_HEADER = struct.Struct(">dHHB")


class RedisStore:
    """Several processes (REDIS_URL): one key per broadcast, expiring with the picture.
    The key layout lives here and nowhere else."""

    def __init__(self, client, prefix):
        self.client = client
        self.prefix = prefix

    def key(self, slug):
        return f"{self.prefix}:thumb:{slug}"

    def lock_key(self, slug):
        return f"{self.prefix}:thumb-lock:{slug}"

    def put(self, slug, thumbnail):
        content_type = thumbnail.content_type.encode()
        value = (
            _VALUE_HEADER.pack(
                thumbnail.taken_at.timestamp(),
                thumbnail.width,
                thumbnail.height,
                len(content_type),
            )
            + content_type
            + thumbnail.data
        )
        ttl_ms = int(time_to_live().total_seconds() * 1000)
        self.client.set(self.key(slug), value, px=ttl_ms)

    def get(self, slug, *, now):
        value = self.client.get(self.key(slug))
        if value is None:
            return None
        taken_at, width, height, type_length = _VALUE_HEADER.unpack_from(value)
        start = _VALUE_HEADER.size + type_length
        thumbnail = Thumbnail(
            data=value[start:],
            content_type=value[_VALUE_HEADER.size : start].decode(),
            taken_at=datetime.fromtimestamp(taken_at, tz=UTC),
            width=width,
            height=height,
        )
        return thumbnail if is_fresh(thumbnail, now) else None

    def prune(self, *, now):
        pass  # Redis expires the keys

    def claim(self, slug):
        """One decode per broadcast per period, whichever process asks."""
        lock_ms = max(1, int(every_s() * LOCK_SHARE * 1000))
        return bool(self.client.set(self.lock_key(slug), b"1", nx=True, px=lock_ms))


_store = None


def get_store():
    """This process's store, chosen by REDIS_URL."""
    global _store
    wanted = RedisStore if settings.REDIS_URL else MemoryStore
    if not isinstance(_store, wanted):
        if wanted is RedisStore:
            from broadcast import hub as media_hub

            _store = RedisStore(media_hub.sync_redis(), media_hub.redis_prefix())
        else:
            _store = MemoryStore()
    return _store


def latest_thumbnail(slug, *, now=None):
    """The latest live picture of broadcast `slug`, or None (none yet, expired, or
    thumbnails off). Synchronous (a Redis GET in Redis mode): from async code, call it
    through sync_to_async. It checks neither the broadcast's state nor who asks: see
    may_see_thumbnail."""
    import redis

    try:
        return get_store().get(slug, now=now or timezone.now())
    except redis.RedisError:
        logger.warning("could not read the thumbnail of %s", slug)
        return None


# --- decoding -------------------------------------------------------------------------


def render_thumbnail(init, keyframe_piece, *, width=WIDTH):
    """(JPEG bytes, width, height) of the first video frame of init + keyframe_piece (the
    start of a keyframe cluster), scaled down to `width`; None if nothing decodes. Reads
    from memory only; PyAV is imported here so that the hub never loads it."""
    import av

    try:
        with av.open(io.BytesIO(init + keyframe_piece), mode="r", format="matroska") as source:
            if not source.streams.video:
                return None
            stream = source.streams.video[0]
            if (stream.width or 0) * (stream.height or 0) > MAX_SOURCE_PIXELS:
                return None
            stream.codec_context.thread_count = 1  # one core at most
            for frame in source.decode(stream):
                if frame.width * frame.height > MAX_SOURCE_PIXELS:
                    return None
                return _encode_jpeg(frame, width)
    except (av.FFmpegError, ValueError, OSError):
        return None
    return None


def _encode_jpeg(frame, width):
    import av

    if frame.width > width:
        height = max(2, round(frame.height * width / frame.width / 2) * 2)
    else:
        width, height = frame.width & ~1, frame.height & ~1
    scaled = frame.reformat(width=width, height=height, format="yuvj420p", interpolation="AREA")
    scaled.pts = 0
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.qmin = encoder.qmax = JPEG_QSCALE
    packets = [*encoder.encode(scaled), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets), width, height


# --- the schedule (the hub's housekeeping hook) ---------------------------------------


@dataclass(frozen=True)
class Job:
    slug: str
    init: bytes
    keyframe_piece: bytes


class Thumbnailer:
    """Decides, on each housekeeping tick, which broadcasts get a new picture, and decodes
    them on one worker thread. The clocks are injectable for tests."""

    def __init__(
        self,
        *,
        store=None,
        every=None,
        skip_above_cpu=SKIP_ABOVE_CPU,
        clock=time.monotonic,
        cpu_clock=time.process_time,
        now=timezone.now,
    ):
        self.store = store or get_store()
        self.every = every_s() if every is None else every
        self.skip_above_cpu = skip_above_cpu
        self.clock, self.cpu_clock, self.now = clock, cpu_clock, now
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="thumbnails"
        )
        self.due_at = {}  # slug -> clock() when its next picture is due
        self.batch = None  # the batch on the worker thread, if any
        self.last_tick = None  # (clock(), cpu_clock()) of the previous tick
        self.decoded = self.skipped_busy = self.skipped_load = 0

    async def __call__(self, hub):
        self.tick(hub)

    def tick(self, hub):
        """Start a batch for the broadcasts that are due; returns its future, or None."""
        now, cpu = self.clock(), self.cpu_clock()
        load = None
        if self.last_tick is not None and now > self.last_tick[0]:
            load = (cpu - self.last_tick[1]) / (now - self.last_tick[0])
        self.last_tick = (now, cpu)
        self.store.prune(now=self.now())
        jobs = self.due_jobs(hub, now)
        if not jobs:
            return None
        if self.batch is not None and not self.batch.done():
            self.skipped_busy += 1
            return None
        if load is not None and load > self.skip_above_cpu:
            self.skipped_load += 1
            return None
        for job in jobs:
            self.due_at[job.slug] = now + self.every
        self.batch = asyncio.get_running_loop().run_in_executor(self.executor, self.run, jobs)
        self.batch.add_done_callback(_log_failure)
        return self.batch

    def due_jobs(self, hub, now):
        """Broadcasts whose publisher is in this process, with a keyframe cluster in the
        GOP cache, and no picture for a period."""
        for slug in [s for s in self.due_at if s not in hub.streams]:
            del self.due_at[slug]
        jobs = []
        for slug, stream in hub.streams.items():
            if not (stream.publishers and stream.init and stream.gop_valid and stream.gop):
                continue
            if now < self.due_at.get(slug, now):
                continue
            jobs.append(Job(slug, stream.init, stream.gop[0]))
        return jobs

    def run(self, jobs):
        """On the worker thread: decode and keep each picture."""
        for job in jobs:
            try:
                if not self.store.claim(job.slug):
                    continue
                rendered = render_thumbnail(job.init, job.keyframe_piece)
                if rendered is None:
                    continue
                data, width, height = rendered
                thumbnail = Thumbnail(data, CONTENT_TYPE, self.now(), width, height)
                self.store.put(job.slug, thumbnail)
                self.decoded += 1
            except Exception:
                logger.exception("thumbnail of %s failed", job.slug)


def _log_failure(future):
    if not future.cancelled() and future.exception() is not None:
        logger.error("thumbnail batch failed", exc_info=future.exception())


_thumbnailer = None


async def hub_housekeeping(hub):
    """The hook every process's hub runs on each housekeeping tick."""
    global _thumbnailer
    if every_s() <= 0:
        return
    if _thumbnailer is None:
        _thumbnailer = Thumbnailer()
    await _thumbnailer(hub)
