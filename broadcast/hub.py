"""The media hub: GOP cache and fan-out of a broadcast's stream to its viewer sockets.

One hub per Daphne process. The ingest consumer publishes the init segment and media
pieces (see webm.py); every process delivers them to its own viewers. Without REDIS_URL
the hub is in-process; with it, each piece is PUBLISHed once to Redis and every process
(the publisher's included) fans it out locally. Media never goes through the Channels
layer, whose per-message cost collapses at a few hundred viewers (bench/README.md).

Sending: under Daphne each piece is framed once (onair/fastsend.py) and the same bytes
are written straight to every viewer's socket; the per-send cost of the ASGI path
(autobahn re-framing the piece for each socket) was what limited one process to a few
hundred viewers. Elsewhere (another ASGI server, tests) pieces go through the ASGI send.

Flow control per viewer, so a slow viewer never slows the others: past a bound of bytes
waiting for it, a viewer skips to the next keyframe cluster. Under Daphne the bound is
on the bytes queued in the server's write buffer for that socket (MAX_QUEUED, on top of
a kernel send buffer kept small), which the client cannot lie about. Through the ASGI
send the server cannot see that buffer, so the player acknowledges what it has received
and bytes sent but not acknowledged are bounded instead; a client that acknowledges
bytes it never read makes the server buffer them until the socket closes. What one
client can hold either way is bounded by the per-IP cap on watch sockets
(MEDIA_MAX_WATCH_PER_IP, counted across processes in Redis mode), which also keeps one
client from inflating the viewer count.

Presence (the viewer count) and the publisher lease live in memory without Redis, and
with it in Redis with expiries refreshed by heartbeats, so a killed process's viewers and
publisher disappear on their own.
"""

import asyncio
import contextlib
import json
import logging
import secrets
import struct
import time

from django.conf import settings

from onair import fastsend

logger = logging.getLogger(__name__)

# What a viewer may have waiting for it before it skips to the next keyframe cluster:
# through the ASGI send, bytes not yet acknowledged (~5 s at 1.5 Mbit/s); under Daphne,
# bytes in the server's write buffer, on top of a kernel send buffer capped at
# VIEWER_SEND_BUFFER (the kernel counts that value twice over for its bookkeeping).
MAX_IN_FLIGHT = 1_000_000
MAX_QUEUED = 512 * 1024
VIEWER_SEND_BUFFER = 256 * 1024
MAX_GOP_BYTES = 8 * 1024 * 1024
HOUSEKEEPING_INTERVAL = 2.0
PRESENCE_TTL = 15.0  # a viewer not refreshed for this long is not counted
PUBLISHER_LEASE_TTL = 15.0
STREAM_IDLE_FORGET = 120.0  # forget a stream with no local sockets and no data
# From this many viewers in one process, pieces are batched: at most BATCH_WINDOW later,
# in a fraction of the sends (the fan-out cost is per send, not per byte).
BATCH_FROM_VIEWERS = 2500
BATCH_WINDOW = 0.15

KIND_INIT = b"I"
KIND_PIECE = b"P"
KIND_CONTROL = b"C"
FLAG_CLUSTER_START = 1
FLAG_KEYFRAME = 2
_HEADER = struct.Struct(">cBQQ")  # kind, flags, epoch, seq


def encode(kind, flags, epoch, seq, payload):
    return _HEADER.pack(kind, flags, epoch, seq) + payload


def decode(message):
    kind, flags, epoch, seq = _HEADER.unpack_from(message)
    return kind, flags, epoch, seq, memoryview(message)[_HEADER.size :].tobytes()


def redis_prefix():
    return settings.MEDIA_REDIS_PREFIX


class Subscriber:
    """One viewer socket, as the hub sees it."""

    __slots__ = ("acked", "consumer", "id", "ip", "need_keyframe", "probe", "sent", "skips")

    def __init__(self, consumer, subscriber_id, ip=None):
        self.consumer = consumer
        # Daphne's socket behind the consumer, for the direct path (None: ASGI send only).
        self.probe = fastsend.DaphneProbe.for_send(getattr(consumer, "base_send", None))
        if self.probe is not None:
            self.probe.limit_send_buffer(VIEWER_SEND_BUFFER)
        self.id = subscriber_id
        self.ip = ip  # counted against the per-IP cap while open (None: not counted)
        self.need_keyframe = True
        self.sent = 0
        self.acked = 0
        self.skips = 0

    async def send_media(self, data, message=None):
        self.sent += len(data)
        # Straight to the server, past the consumer's own send() wrapper: it is the
        # hottest call of the relay. One message dict serves every viewer of a piece.
        await self.consumer.base_send(message or {"type": "websocket.send", "bytes": data})

    async def send_text(self, text, raw=None):
        """`raw`: the same text already framed (fastsend.text_frame), for the direct path."""
        if raw is not None and self.probe is not None and self.probe.write(raw) == fastsend.WRITTEN:
            return
        await self.consumer.base_send({"type": "websocket.send", "text": text})


class Stream:
    """What this process knows of one broadcast's stream."""

    def __init__(self, slug):
        self.slug = slug
        self.init = None
        self.epoch = None
        self.last_seq = -1
        self.gop = []  # pieces since the latest keyframe cluster started
        self.gop_bytes = 0
        self.gop_valid = False
        self.viewers = {}
        self.publishers = {}  # publisher id -> consumer (local ones)
        self.lock = asyncio.Lock()
        self.last_activity = time.monotonic()
        self.last_count = None
        self.batch = []  # pieces waiting for the batch window (large audiences)
        self.batch_keyframe = False

    def remember(self, payload, keyframe):
        if keyframe:
            self.gop = [payload]
            self.gop_bytes = len(payload)
            self.gop_valid = True
        elif self.gop_valid:
            self.gop.append(payload)
            self.gop_bytes += len(payload)
            if self.gop_bytes > MAX_GOP_BYTES:
                self.gop, self.gop_bytes, self.gop_valid = [], 0, False


class PublisherHandle:
    """Numbers one publisher connection's stream: a fresh epoch per init segment."""

    def __init__(self, hub, slug, publisher_id):
        self.hub = hub
        self.slug = slug
        self.id = publisher_id
        self.epoch = 0
        self.seq = 0

    async def init_segment(self, data):
        self.epoch = secrets.randbits(63)
        self.seq = 0
        await self.hub.backend.publish(self.slug, encode(KIND_INIT, 0, self.epoch, 0, data))

    async def piece(self, data, *, cluster_start, keyframe):
        self.seq += 1
        flags = (FLAG_CLUSTER_START if cluster_start else 0) | (FLAG_KEYFRAME if keyframe else 0)
        await self.hub.backend.publish(
            self.slug, encode(KIND_PIECE, flags, self.epoch, self.seq, data)
        )


class Hub:
    def __init__(self, backend):
        self.backend = backend
        backend.hub = self
        self.streams = {}
        self.process_id = secrets.token_hex(4)
        self._next_id = 0
        self._started = None
        self._housekeeping = None
        self.loop = None
        self.housekeeping_hooks = []  # async callables(hub), run every interval
        self._tasks = set()

    async def start(self):
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        await self._started

    async def _start(self):
        self.loop = asyncio.get_running_loop()
        await self.backend.start()
        self._housekeeping = asyncio.ensure_future(self._housekeeping_loop())

    def stream(self, slug):
        stream = self.streams.get(slug)
        if stream is None:
            stream = self.streams[slug] = Stream(slug)
        return stream

    def new_id(self):
        self._next_id += 1
        return f"{self.process_id}:{self._next_id}"

    # --- viewers ------------------------------------------------------------------
    async def admit_viewer(self, ip):
        """A viewer id for a new watch socket from `ip`, or None if that address already
        has MEDIA_MAX_WATCH_PER_IP open (in every process, in Redis mode). The id holds
        its place until remove_viewer or release_viewer."""
        await self.start()
        subscriber_id = self.new_id()
        if await self.backend.admit(ip, subscriber_id, settings.MEDIA_MAX_WATCH_PER_IP):
            return subscriber_id
        return None

    async def release_viewer(self, ip, subscriber_id):
        """Give back an admitted place that never became a viewer."""
        await self.backend.release(ip, subscriber_id)

    async def add_viewer(self, slug, consumer, *, subscriber_id=None, ip=None):
        """Register a viewer and send it the init segment and the latest GOP.
        `subscriber_id`/`ip` come from admit_viewer (without them: not counted per IP)."""
        await self.start()
        stream = self.stream(slug)
        if stream.init is None:
            await self.backend.catch_up(stream)
        subscriber = Subscriber(consumer, subscriber_id or self.new_id(), ip)
        async with stream.lock:
            # Pieces waiting in a batch are already in the GOP: send them to the others
            # first, so that the joiner does not get them twice.
            await self._flush_batch_locked(stream)
            stream.viewers[subscriber.id] = subscriber
            if stream.init is not None:
                await subscriber.send_media(stream.init)
                if stream.gop_valid:
                    for payload in stream.gop:
                        await subscriber.send_media(payload)
                    subscriber.need_keyframe = False
        await self.backend.viewer_joined(slug, subscriber.id)
        return subscriber

    async def remove_viewer(self, slug, subscriber):
        stream = self.streams.get(slug)
        if stream is not None:
            stream.viewers.pop(subscriber.id, None)
        await self.backend.viewer_left(slug, subscriber.id)
        if subscriber.ip is not None:
            await self.backend.release(subscriber.ip, subscriber.id)

    async def viewer_count(self, slug):
        return await self.backend.viewer_count(slug)

    # --- publishers ---------------------------------------------------------------
    async def open_publisher(self, slug, consumer, *, session, takeover):
        """Claim the broadcast's single publisher lease. Returns a PublisherHandle, or
        None if another publisher holds it and this one did not ask to take over.
        `session` identifies the browser tab: the same tab reconnecting takes over."""
        await self.start()
        publisher_id = f"{session}/{self.new_id()}"
        claimed = await self.backend.claim_publisher(slug, publisher_id, session, takeover)
        if not claimed:
            return None
        self.stream(slug).publishers[publisher_id] = consumer
        await self.control(slug, {"type": "takeover", "publisher": publisher_id})
        return PublisherHandle(self, slug, publisher_id)

    async def close_publisher(self, slug, handle, *, announce=True):
        stream = self.streams.get(slug)
        if stream is not None:
            stream.publishers.pop(handle.id, None)
        if await self.backend.release_publisher(slug, handle.id) and announce:
            await self.control(slug, {"type": "state", "state": "reconnecting"})

    async def publisher_present(self, slug):
        return await self.backend.publisher_present(slug)

    # --- control ------------------------------------------------------------------
    async def control(self, slug, message):
        """A JSON control message to every process: state changes, takeovers, the end."""
        await self.start()
        payload = json.dumps(message).encode()
        await self.backend.publish(slug, encode(KIND_CONTROL, 0, 0, 0, payload))

    async def end(self, slug, reason):
        await self.control(slug, {"type": "ended", "reason": reason})

    # --- local delivery (called by the backend for every message) -----------------
    async def deliver(self, slug, message):
        kind, flags, epoch, seq, payload = decode(message)
        if kind == KIND_CONTROL:
            await self._deliver_control(slug, json.loads(payload))
            return
        stream = self.stream(slug)
        stream.last_activity = time.monotonic()
        async with stream.lock:
            if kind == KIND_INIT:
                await self._flush_batch_locked(stream)
                stream.init, stream.epoch, stream.last_seq = payload, epoch, seq
                stream.gop, stream.gop_bytes, stream.gop_valid = [], 0, False
                for subscriber in list(stream.viewers.values()):
                    subscriber.need_keyframe = True
                    try:
                        await subscriber.send_media(payload)
                    except Exception:
                        self._drop(stream, subscriber)
                return
            if epoch != stream.epoch or seq <= stream.last_seq:
                return  # a stream we joined mid-way (catch_up fills it) or a duplicate
            stream.last_seq = seq
            keyframe = bool(flags & FLAG_KEYFRAME)
            stream.remember(payload, keyframe)
            if len(stream.viewers) < BATCH_FROM_VIEWERS and not stream.batch:
                await self._fan_out(stream, payload, keyframe)
                return
            # A large audience: the cost is per send, so pieces go out together, at
            # most BATCH_WINDOW late. A keyframe cluster always starts a new batch, so
            # that a viewer skipping ahead can resume at a batch.
            if keyframe and stream.batch:
                await self._flush_batch_locked(stream)
            if not stream.batch:
                stream.batch_keyframe = keyframe
                asyncio.get_running_loop().call_later(
                    BATCH_WINDOW, lambda: self._spawn(self._flush_batch(stream))
                )
            stream.batch.append(payload)

    def _spawn(self, coroutine):
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_batch(self, stream):
        async with stream.lock:
            await self._flush_batch_locked(stream)

    async def _flush_batch_locked(self, stream):
        if stream.batch:
            payload = b"".join(stream.batch)
            stream.batch = []
            await self._fan_out(stream, payload, stream.batch_keyframe)

    async def _fan_out(self, stream, payload, keyframe):
        """One piece (or batch) to every local viewer. Caller holds stream.lock."""
        message = {"type": "websocket.send", "bytes": payload}
        raw = None
        for subscriber in list(stream.viewers.values()):
            if subscriber.need_keyframe:
                if not keyframe:
                    continue
                subscriber.need_keyframe = False
            if subscriber.probe is not None:
                if raw is None:
                    raw = fastsend.binary_frame(payload)
                outcome = subscriber.probe.write(raw, MAX_QUEUED)
                if outcome == fastsend.WRITTEN:
                    subscriber.sent += len(payload)
                    continue
                # FALLBACK (closing, or an extension on the socket): the ASGI send decides.
                behind = outcome == fastsend.SLOW
            else:
                behind = subscriber.sent - subscriber.acked > MAX_IN_FLIGHT
            if behind:
                # Too far behind: drop until the next keyframe cluster.
                subscriber.need_keyframe = True
                subscriber.skips += 1
                continue
            try:
                await subscriber.send_media(payload, message)
            except Exception:
                # Closing under us (the server has not told the consumer yet).
                self._drop(stream, subscriber)

    async def _deliver_control(self, slug, message):
        stream = self.streams.get(slug)
        if stream is None:
            return
        kind = message.get("type")
        if kind == "takeover":
            for publisher_id, consumer in list(stream.publishers.items()):
                if publisher_id != message.get("publisher"):
                    stream.publishers.pop(publisher_id, None)
                    with contextlib.suppress(Exception):
                        await consumer.hub_taken_over()
            return
        text = json.dumps(message)
        raw = fastsend.text_frame(text)
        if kind == "ended":
            stream.init, stream.gop, stream.gop_valid = None, [], False
        for subscriber in list(stream.viewers.values()):
            with contextlib.suppress(Exception):
                await subscriber.send_text(text, raw)
        if kind == "ended":
            # Every viewer has the message before any socket closes (a close costs more;
            # a takedown must reach the last viewer fast).
            for subscriber in list(stream.viewers.values()):
                with contextlib.suppress(Exception):
                    await subscriber.consumer.hub_ended()
            for consumer in list(stream.publishers.values()):
                with contextlib.suppress(Exception):
                    await consumer.hub_ended(message)

    def _drop(self, stream, subscriber):
        """A viewer socket that fails a send is gone: stop sending to it. Its consumer's
        disconnect handler still runs remove_viewer (for the presence set)."""
        stream.viewers.pop(subscriber.id, None)

    # --- housekeeping -------------------------------------------------------------
    async def _housekeeping_loop(self):
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL)
            try:
                await self.housekeeping()
            except Exception:
                logger.exception("media hub housekeeping failed")

    async def housekeeping(self):
        await self.backend.refresh(self)
        now = time.monotonic()
        for slug, stream in list(self.streams.items()):
            if stream.viewers or stream.publishers:
                count = await self.backend.viewer_count(slug)
                if count != stream.last_count:
                    stream.last_count = count
                    text = json.dumps({"type": "viewers", "count": count})
                    for subscriber in list(stream.viewers.values()):
                        try:
                            await subscriber.send_text(text)
                        except Exception:
                            self._drop(stream, subscriber)
                    for consumer in list(stream.publishers.values()):
                        with contextlib.suppress(Exception):
                            await consumer.hub_viewers(count)
            elif now - stream.last_activity > STREAM_IDLE_FORGET:
                del self.streams[slug]
        for hook in self.housekeeping_hooks:
            await hook(self)


class LocalBackend:
    """One process: delivery is a function call, presence and leases are dicts."""

    hub = None

    def __init__(self):
        self.publishers = {}  # slug -> (publisher_id, session)
        self.ips = {}  # ip -> ids of its open watch sockets

    async def start(self):
        pass

    async def admit(self, ip, subscriber_id, limit):
        ids = self.ips.setdefault(ip, set())
        if len(ids) >= limit:
            return False
        ids.add(subscriber_id)
        return True

    async def release(self, ip, subscriber_id):
        ids = self.ips.get(ip)
        if ids is not None:
            ids.discard(subscriber_id)
            if not ids:
                del self.ips[ip]

    async def publish(self, slug, message):
        await self.hub.deliver(slug, message)

    async def catch_up(self, stream):
        pass

    async def viewer_joined(self, slug, subscriber_id):
        pass

    async def viewer_left(self, slug, subscriber_id):
        pass

    async def viewer_count(self, slug):
        stream = self.hub.streams.get(slug)
        return len(stream.viewers) if stream else 0

    async def claim_publisher(self, slug, publisher_id, session, takeover):
        current = self.publishers.get(slug)
        if current and current[1] != session and not takeover:
            return False
        self.publishers[slug] = (publisher_id, session)
        return True

    async def release_publisher(self, slug, publisher_id):
        current = self.publishers.get(slug)
        if current and current[0] == publisher_id:
            del self.publishers[slug]
            return True
        return False

    async def publisher_present(self, slug):
        return slug in self.publishers

    async def refresh(self, hub):
        pass


class RedisBackend:
    """Several processes: one PUBLISH per piece; each process psubscribes to all
    streams and fans out locally. The init segment and the current GOP are mirrored in
    Redis so that a process started mid-stream can serve a late joiner at once."""

    hub = None

    def __init__(self, url, prefix=None):
        import redis.asyncio as redis_asyncio

        self.redis = redis_asyncio.Redis.from_url(url)
        self.prefix = prefix or redis_prefix()
        self._listener = None
        self._claim = self.redis.register_script(_CLAIM_LEASE)
        self._release = self.redis.register_script(_RELEASE_LEASE)
        self._renew = self.redis.register_script(_RENEW_LEASE)
        self._admit = self.redis.register_script(_ADMIT_IP)

    def _key(self, what, slug):
        return f"{self.prefix}:{what}:{slug}"

    async def start(self):
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.psubscribe(f"{self.prefix}:stream:*")
        self._listener = asyncio.ensure_future(self._listen(pubsub))

    async def _listen(self, pubsub):
        channel_prefix_len = len(f"{self.prefix}:stream:")
        while True:
            try:
                message = await pubsub.get_message(timeout=None)
                if message is None or message["type"] != "pmessage":
                    continue
                slug = message["channel"][channel_prefix_len:].decode()
                await self.hub.deliver(slug, message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("media hub: bad message from Redis")
                await asyncio.sleep(0.5)

    async def publish(self, slug, message):
        kind, flags = message[:1], message[1]
        pipe = self.redis.pipeline(transaction=False)
        gop_key = self._key("gop", slug)
        if kind == KIND_INIT:
            pipe.set(self._key("init", slug), message, ex=600)
            pipe.delete(gop_key)
        elif kind == KIND_PIECE:
            if flags & FLAG_KEYFRAME:
                pipe.delete(gop_key)
            pipe.rpush(gop_key, message)
            pipe.ltrim(gop_key, -400, -1)
            pipe.expire(gop_key, 600)
        elif json.loads(message[_HEADER.size :]).get("type") == "ended":
            pipe.delete(self._key("init", slug), gop_key)
        pipe.publish(self._key("stream", slug), message)
        await pipe.execute()

    async def catch_up(self, stream):
        """Fill a stream this process joined mid-way from the Redis mirror."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(self._key("init", stream.slug))
        pipe.lrange(self._key("gop", stream.slug), 0, -1)
        init, gop = await pipe.execute()
        if init is None:
            return
        async with stream.lock:
            if stream.init is not None:
                return
            _, _, epoch, seq, payload = decode(init)
            stream.init, stream.epoch, stream.last_seq = payload, epoch, seq
            stream.gop, stream.gop_bytes, stream.gop_valid = [], 0, False
            for message in gop:
                _, flags, piece_epoch, piece_seq, piece = decode(message)
                if piece_epoch != epoch or piece_seq <= stream.last_seq:
                    continue
                stream.last_seq = piece_seq
                stream.remember(piece, bool(flags & FLAG_KEYFRAME))

    async def viewer_joined(self, slug, subscriber_id):
        await self.redis.zadd(self._key("viewers", slug), {subscriber_id: time.time()})

    async def viewer_left(self, slug, subscriber_id):
        await self.redis.zrem(self._key("viewers", slug), subscriber_id)

    async def viewer_count(self, slug):
        return await self.redis.zcount(
            self._key("viewers", slug), time.time() - PRESENCE_TTL, "+inf"
        )

    async def admit(self, ip, subscriber_id, limit):
        """One member per open watch socket of `ip` (a sorted set scored by heartbeat,
        refreshed by refresh()), so a killed process's sockets stop counting."""
        now = time.time()
        admitted = await self._admit(
            keys=[self._key("ip", ip)],
            args=[now - PRESENCE_TTL, limit, now, subscriber_id, int(PRESENCE_TTL * 4)],
        )
        return bool(admitted)

    async def release(self, ip, subscriber_id):
        await self.redis.zrem(self._key("ip", ip), subscriber_id)

    async def claim_publisher(self, slug, publisher_id, session, takeover):
        claimed = await self._claim(
            keys=[self._key("publisher", slug)],
            args=[publisher_id, f"{session}/", 1 if takeover else 0, _lease_ms()],
        )
        return bool(claimed)

    async def release_publisher(self, slug, publisher_id):
        return bool(await self._release(keys=[self._key("publisher", slug)], args=[publisher_id]))

    async def publisher_present(self, slug):
        return bool(await self.redis.exists(self._key("publisher", slug)))

    async def refresh(self, hub):
        """Heartbeats: this process's viewers and publishers are still here."""
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        for slug, stream in hub.streams.items():
            key = self._key("viewers", slug)
            if stream.viewers:
                pipe.zadd(key, dict.fromkeys(stream.viewers, now))
            pipe.zremrangebyscore(key, "-inf", now - PRESENCE_TTL)
            pipe.expire(key, int(PRESENCE_TTL * 4))
            for subscriber in stream.viewers.values():
                if subscriber.ip is not None:
                    # xx: never bring back a place released meanwhile.
                    ip_key = self._key("ip", subscriber.ip)
                    pipe.zadd(ip_key, {subscriber.id: now}, xx=True)
                    pipe.expire(ip_key, int(PRESENCE_TTL * 4))
            for publisher_id in stream.publishers:
                # Only extends our own lease: a takeover elsewhere replaced the value.
                await self._renew(
                    keys=[self._key("publisher", slug)],
                    args=[publisher_id, _lease_ms()],
                    client=pipe,
                )
        await pipe.execute()


def _lease_ms():
    return int(PUBLISHER_LEASE_TTL * 1000)


# The publisher lease's value is "<session>/<publisher id>". Claim: free, asked to take
# over, or the same session (a tab reconnecting). Release and renew: only our own lease,
# checked and changed in one step, so a takeover in between is never undone.
_CLAIM_LEASE = """
local current = redis.call('GET', KEYS[1])
if (not current) or ARGV[3] == '1' or string.sub(current, 1, #ARGV[2]) == ARGV[2] then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
    return 1
end
return 0
"""
_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
_RENEW_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
# Per-IP watch sockets: drop expired members, refuse at the limit, else add this one.
_ADMIT_IP = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


_hub = None
_sync_redis = None


def sync_redis():
    """One synchronous Redis client per process (connection pool) for the media keys,
    for synchronous callers: the API's viewer count, ending a broadcast."""
    global _sync_redis
    if _sync_redis is None:
        import redis

        _sync_redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
    return _sync_redis


def get_hub():
    """This process's hub, created on first use (the backend is chosen by REDIS_URL)."""
    global _hub
    if _hub is None:
        url = settings.REDIS_URL
        _hub = Hub(RedisBackend(url) if url else LocalBackend())
        from broadcast import services, thumbnails

        # Thumbnails first: the hook never waits (decoding is on a thread of its own).
        _hub.housekeeping_hooks.append(thumbnails.hub_housekeeping)
        _hub.housekeeping_hooks.append(services.hub_housekeeping)
    return _hub


def peek_hub():
    """The hub if this process has one (for synchronous readers such as the API)."""
    return _hub
