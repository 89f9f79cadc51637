"""The chat fan-out hub: one per web process.

Services store an event, then (after commit) publish it once: to Redis pub/sub when
REDIS_URL is set (every process subscribed to the room receives it once), else straight
to this process's hub. The hub orders events by seq, batches them per room for
a 50-100 ms window, encodes each batch once and writes the same frame to every live viewer.

It never drops silently: an event missing from the stream (out of order, a lost
publish) is read back from the database by seq; a viewer whose socket buffer passes
SLOW_CLIENT_BYTES gets {"type": "resync"} and stops receiving until it asks to be caught
up from the stored history. The Channels layer is not used here (control events only).
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import OrderedDict, deque
from urllib.parse import urlparse

from channels.db import database_sync_to_async
from django.conf import settings

from chat import selectors
from chat.protocol import (
    HISTORY_ON_JOIN,
    SYNC_PAGE,
    blanked_message,
    dumps,
    encode_event,
    erased_message,
    events_frame,
)
from onair import fastsend

logger = logging.getLogger(__name__)

# The batching window grows with the room: 50 ms for a small room, 100 ms from 1000
# sockets up (each frame costs every socket a write; see bench/README.md).
BATCH_WINDOW_MIN = 0.05
BATCH_WINDOW_MAX = 0.1
BATCH_WINDOW_FULL_AT = 1000
GAP_GRACE = 0.25  # how long an out-of-order event waits for the ones before it
POLL_INTERVAL = 2.0  # safety net: compare each room with the database
PRESENCE_HEARTBEAT = 5.0
PRESENCE_TTL = 15.0
PRESENCE_DEBOUNCE = 0.5
SLOW_CLIENT_BYTES = 512 * 1024
LOG_SIZE = 1000


# --- publishing (called by services, from any thread, after commit) ------------------
_sync_redis = None
_hub = None


def _prefix():
    """Pub/sub channels are shared by every database of a Redis server: name them after
    the site's channel prefix and its database number so two sites never mix."""
    layer = settings.CHANNEL_LAYERS.get("default", {}).get("CONFIG", {})
    database = urlparse(settings.REDIS_URL or "").path.strip("/") or "0"
    return f"{layer.get('prefix', 'onair')}:{database}:chat"


def channel_name(room_id):
    return f"{_prefix()}:{room_id}"


def presence_key(room_id):
    return f"{_prefix()}:presence:{room_id}"


def _redis_sync():
    global _sync_redis
    if _sync_redis is None:
        import redis

        _sync_redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)
    return _sync_redis


def _publish(room_id, data):
    if settings.REDIS_URL:
        try:
            _redis_sync().publish(channel_name(room_id), data)
        except Exception:
            # Stored already: every process finds it in the database on its next poll.
            logger.warning("chat publish to Redis failed for room %s", room_id, exc_info=True)
        return
    hub = _hub
    if hub is not None and not hub.loop.is_closed():
        hub.loop.call_soon_threadsafe(hub.on_data, room_id, data)


def publish_event(room_id, seq, encoded):
    _publish(room_id, f"E{seq} {encoded}")


def publish_to_moderators(room_id, payload):
    _publish(room_id, "M" + dumps(payload))


def publish_to_user(room_id, user_id, payload):
    _publish(room_id, f"U{user_id} {dumps(payload)}")


def get_hub():
    """This process's hub, bound to the running event loop."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = ChatHub(loop)
    return _hub


# --- the hub --------------------------------------------------------------------------
class Client:
    """One socket as the hub sees it. `send` is an ASGI-style coroutine taking text;
    `probe` (optional) gives direct access to the server's transport."""

    def __init__(self, *, send, user_id=None, moderator=False, probe=None):
        self.send_text = send
        self.user_id = user_id
        self.moderator = moderator
        self.probe = probe
        self.state = "syncing"  # syncing -> live; live -> paused on overflow
        self.last_seq = 0
        self.closed = False
        self.on_notice = None  # callback for user-targeted notices (role changes)

    def buffered_bytes(self):
        return self.probe.buffered_bytes() if self.probe else 0

    async def send(self, text):
        if self.closed:
            return False
        try:
            await self.send_text(text)
        except Exception:
            self.closed = True
            return False
        return True


class Room:
    def __init__(self, room_id):
        self.room_id = room_id
        self.clients = set()
        self.last_seq = None  # everything up to here is delivered or readable from the DB
        self.pending = {}
        self.gap_since = None
        self.flush_handle = None
        self.last_flush_at = 0.0
        self.flushing = False
        self.ready = asyncio.Event()
        self.failed = False
        self.presence_handle = None
        self.presence_sent = None
        # What joiners and reconnects need, kept from the stream so that a thousand
        # people arriving at once don't each read the database.
        self.recent_messages = OrderedDict()  # message id -> encoded event, still visible
        self.log = deque(maxlen=LOG_SIZE)  # (seq, encoded) of the latest events

    def remember(self, seq, encoded):
        self.log.append((seq, encoded))
        event = json.loads(encoded)
        if event["type"] == "message":
            self.recent_messages[event["id"]] = encoded
            while len(self.recent_messages) > 2 * HISTORY_ON_JOIN:
                self.recent_messages.popitem(last=False)
        elif event["type"] == "delete":
            self.recent_messages.pop(event["id"], None)
            self.forget_text(event["id"], erase=event.get("erased", False))

    def forget_text(self, message_id, erase=False):
        """A deleted message's text must not be served again from memory (a sync from
        an older seq reads the log): keep its seq, blank its text."""
        for index, (seq, encoded) in enumerate(self.log):
            if f'"id":{message_id},' not in encoded:
                continue
            event = json.loads(encoded)
            if event.get("type") == "message" and event.get("id") == message_id:
                # An author who deleted their account leaves no name behind either.
                blank = erased_message if erase else blanked_message
                self.log[index] = (seq, encode_event(seq, blank(event)))

    def history(self):
        return list(self.recent_messages.values())[-HISTORY_ON_JOIN:]

    def logged_after(self, seq):
        """Events after `seq` from memory, or None when the log doesn't reach back."""
        if not self.log or self.log[0][0] > seq + 1:
            return None
        return [(s, encoded) for s, encoded in self.log if s > seq]


class ChatHub:
    def __init__(self, loop):
        self.loop = loop
        self.process_id = uuid.uuid4().hex[:12]
        self.rooms = {}
        self.tasks = set()
        self.redis = None
        self.pubsub = None
        self.reader = None
        self.ticker = None

    # -- lifecycle of rooms and clients --
    async def join(self, room_id, client):
        room = self.rooms.get(room_id)
        if room is None:
            room = Room(room_id)
            self.rooms[room_id] = room
            try:
                await self._open(room)
            except BaseException:
                # Don't leave a room that will never be ready: later joiners would wait
                # on it forever. Unregister it, wake anyone waiting (they retry) and fail.
                if self.rooms.get(room_id) is room:
                    del self.rooms[room_id]
                room.failed = True
                room.ready.set()
                if settings.REDIS_URL and self.pubsub is not None:
                    with contextlib.suppress(Exception):
                        await self.pubsub.unsubscribe(channel_name(room_id))
                raise
        else:
            await room.ready.wait()
            if room.failed:
                raise RuntimeError(f"chat room {room_id} could not be opened")
        room.clients.add(client)
        self._presence_changed(room)
        return room

    async def _open(self, room):
        # Subscribe before reading the counter: nothing can fall between the two.
        if settings.REDIS_URL:
            await self._subscribe(room.room_id)
        last_seq, history = await database_sync_to_async(selectors.join_history)(
            room_id=room.room_id
        )
        for encoded in history:
            event = json.loads(encoded)
            room.recent_messages[event["id"]] = encoded
        room.last_seq = last_seq
        room.ready.set()
        if room.pending:
            # Events that arrived between subscribing and reading the counter were
            # queued while last_seq was unknown: deliver them now.
            self._schedule_flush(room)
        if self.ticker is None:
            self.ticker = self._spawn(self._tick())

    async def leave(self, room_id, client):
        client.closed = True
        room = self.rooms.get(room_id)
        if room is None:
            return
        room.clients.discard(client)
        if room.clients:
            self._presence_changed(room)
            return
        del self.rooms[room_id]
        for handle in (room.flush_handle, room.presence_handle):
            if handle:
                handle.cancel()
        if settings.REDIS_URL:
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(channel_name(room_id))
                await self.redis.hdel(presence_key(room_id), self.process_id)
                await self.redis.publish(channel_name(room_id), "P")

    async def catch_up(self, room_id, client, after_seq=None):
        """Bring a client to live: the join history (after_seq None) or every stored
        event after after_seq, page by page, then the live stream."""
        room = self.rooms[room_id]
        client.state = "syncing"
        if after_seq is not None and after_seq > room.last_seq:
            stored = await database_sync_to_async(selectors.room_last_seq)(room_id=room_id)
            if after_seq > stored:
                after_seq = None  # a number this room never gave: start afresh
        if after_seq is None:
            # The room's own copy of its last messages, exactly as of room.last_seq.
            last_seq = room.last_seq
            frame = events_frame(room.history(), kind="history", last_seq=last_seq)
            if not await client.send(frame):
                return
            client.last_seq = last_seq
        else:
            client.last_seq = after_seq
        while not client.closed and client.last_seq < room.last_seq:
            batch = room.logged_after(client.last_seq)
            if batch is None:
                batch = await database_sync_to_async(selectors.events_after)(
                    room_id=room_id, after_seq=client.last_seq, limit=SYNC_PAGE
                )
            if not batch:
                break
            if not await client.send(events_frame([encoded for _, encoded in batch])):
                return
            client.last_seq = batch[-1][0]
            await self._drain(client)
        client.state = "live"

    async def _drain(self, client):
        """Let a slow socket empty its buffer before the next history page."""
        deadline = time.monotonic() + 10
        while client.buffered_bytes() > SLOW_CLIENT_BYTES and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    # -- incoming data from Redis or local publishes --
    def on_data(self, room_id, data):
        room = self.rooms.get(room_id)
        if room is None or not data:
            return
        kind = data[0]
        if kind == "E":
            space = data.index(" ")
            seq = int(data[1:space])
            if room.last_seq is not None and seq <= room.last_seq:
                return
            room.pending[seq] = data[space + 1 :]
            self._schedule_flush(room)
        elif kind == "M":
            targets = [c for c in room.clients if c.moderator and c.state != "syncing"]
            self._send_each(targets, data[1:])
        elif kind == "U":
            space = data.index(" ")
            user_id = int(data[1:space])
            targets = [c for c in room.clients if c.user_id == user_id]
            for client in targets:
                if client.on_notice:
                    client.on_notice(data[space + 1 :])
            self._send_each(targets, data[space + 1 :])
        elif kind == "P":
            self._spawn(self._recount(room))

    def _send_each(self, clients, text):
        if clients:
            self._spawn(self._send_all(clients, text))

    async def _send_all(self, clients, text):
        for client in clients:
            await client.send(text)

    # -- batching and delivery --
    def _schedule_flush(self, room, delay=None):
        """At most one frame per window per room: an event after a quiet spell goes out at
        once, events during a busy one wait for the end of the window."""
        if room.flush_handle is not None or room.flushing:
            return
        if delay is None:
            share = min(1.0, len(room.clients) / BATCH_WINDOW_FULL_AT)
            window = BATCH_WINDOW_MIN + (BATCH_WINDOW_MAX - BATCH_WINDOW_MIN) * share
            delay = max(0.0, room.last_flush_at + window - time.monotonic())
        if delay == 0:
            room.flush_handle = self.loop.call_soon(self._start_flush, room)
        else:
            room.flush_handle = self.loop.call_later(delay, self._start_flush, room)

    def _start_flush(self, room):
        room.flush_handle = None
        room.last_flush_at = time.monotonic()
        self._spawn(self._flush(room))

    async def _flush(self, room):
        if room.flushing or room.last_seq is None:
            return
        room.flushing = True
        try:
            await self._deliver_ready(room)
        finally:
            room.flushing = False
            # Even after a failed read-back: queued events must get another try.
            if room.pending and self.rooms.get(room.room_id) is room:
                self._schedule_flush(room, GAP_GRACE if room.gap_since else None)

    async def _deliver_ready(self, room):
        now = time.monotonic()
        ready = self._take_contiguous(room)
        if room.pending and not ready:
            # A gap: wait a moment for the missing events, then read them back.
            room.gap_since = room.gap_since or now
            if now - room.gap_since < GAP_GRACE:
                return
            await self._fill_from_db(room)
            ready = self._take_contiguous(room)
        room.gap_since = now if room.pending and ready else None
        if not ready:
            return
        previous = room.last_seq
        room.last_seq = latest = previous + len(ready)
        for offset, encoded in enumerate(ready, start=1):
            room.remember(previous + offset, encoded)
        frame = events_frame(ready)
        raw = fastsend.text_frame(frame)
        await self._sweep(room, previous, latest, ready, frame, raw)

    async def _sweep(self, room, previous, latest, ready, frame, raw):
        for client in list(room.clients):
            if client.state != "live" or client.closed:
                continue
            if client.last_seq == previous:
                # The common case, kept free of awaits: the same bytes for everyone.
                outcome = client.probe.write(raw, SLOW_CLIENT_BYTES) if client.probe else None
                if outcome == fastsend.SLOW:
                    await self._pause(client)
                    continue
                if outcome != fastsend.WRITTEN:
                    await client.send(frame)
            elif client.last_seq >= latest:
                continue
            elif client.last_seq > previous:
                if client.buffered_bytes() > SLOW_CLIENT_BYTES:
                    await self._pause(client)
                    continue
                await client.send(events_frame(ready[client.last_seq - previous :]))
            else:
                # Missed something (can't happen in order; be safe): catch up from the DB.
                client.state = "syncing"
                self._spawn(self.catch_up(room.room_id, client, client.last_seq))
                continue
            client.last_seq = latest

    def _take_contiguous(self, room):
        ready = []
        following = room.last_seq + 1
        while following in room.pending:
            ready.append(room.pending.pop(following))
            following += 1
        for seq in [s for s in room.pending if s < following]:
            del room.pending[seq]
        return ready

    async def _fill_from_db(self, room):
        rows = await database_sync_to_async(selectors.events_after)(
            room_id=room.room_id, after_seq=room.last_seq, limit=SYNC_PAGE
        )
        for seq, encoded in rows:
            room.pending.setdefault(seq, encoded)
        if rows:
            logger.info("chat room %s: read %d events back from the DB", room.room_id, len(rows))

    async def _pause(self, client):
        """Too far behind to keep up live: tell it, stop feeding it, and let it ask for a
        catch-up from the stored history ("sync") once it has read its buffer."""
        client.state = "paused"
        await client.send(dumps({"type": "resync", "last_seq": client.last_seq}))

    # -- presence --
    def _presence_changed(self, room):
        if room.presence_handle is None:
            room.presence_handle = self.loop.call_later(
                PRESENCE_DEBOUNCE, lambda: self._spawn(self._publish_presence(room))
            )

    async def _publish_presence(self, room, announce=True):
        room.presence_handle = None
        if not settings.REDIS_URL:
            await self._send_presence(room, len(room.clients))
            return
        try:
            await self.redis.hset(
                presence_key(room.room_id),
                self.process_id,
                f"{len(room.clients)}:{time.time() + PRESENCE_TTL}",
            )
            await self.redis.expire(presence_key(room.room_id), int(PRESENCE_TTL * 4))
            if announce:
                await self.redis.publish(channel_name(room.room_id), "P")
            else:
                await self._recount(room)
        except Exception:
            logger.warning("chat presence update failed", exc_info=True)

    async def _recount(self, room):
        if not settings.REDIS_URL:
            return
        try:
            entries = await self.redis.hgetall(presence_key(room.room_id))
        except Exception:
            logger.warning("chat presence read failed", exc_info=True)
            return
        now = time.time()
        total = 0
        for process_id, value in entries.items():
            count, _, expires = value.decode().partition(":")
            if float(expires) < now:
                with contextlib.suppress(Exception):
                    await self.redis.hdel(presence_key(room.room_id), process_id)
                continue
            total += int(count)
        await self._send_presence(room, total)

    async def _send_presence(self, room, total):
        if total == room.presence_sent:
            return
        room.presence_sent = total
        frame = dumps({"type": "presence", "count": total})
        raw = fastsend.text_frame(frame)
        for client in list(room.clients):
            if client.state == "syncing" or client.closed:
                continue
            if not client.probe or client.probe.write(raw) != fastsend.WRITTEN:
                await client.send(frame)

    # -- safety net and heartbeats --
    async def _tick(self):
        last_heartbeat = 0.0
        while self.rooms:
            await asyncio.sleep(POLL_INTERVAL)
            for room in list(self.rooms.values()):
                if room.last_seq is None or room.flushing or room.flush_handle is not None:
                    continue
                try:
                    await self._fill_from_db(room)
                except Exception:
                    logger.warning("chat poll failed", exc_info=True)
                if room.pending:
                    self._schedule_flush(room, 0)
            if settings.REDIS_URL and time.monotonic() - last_heartbeat >= PRESENCE_HEARTBEAT:
                last_heartbeat = time.monotonic()
                for room in list(self.rooms.values()):
                    await self._publish_presence(room, announce=False)
        self.ticker = None

    # -- Redis --
    async def _subscribe(self, room_id):
        if self.redis is None:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(settings.REDIS_URL)
            self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(channel_name(room_id))
        if self.reader is None:
            self.reader = self._spawn(self._read())

    async def _read(self):
        prefix_len = len(channel_name(""))
        while True:
            try:
                message = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("chat pub/sub connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await self.pubsub.reset()
                    self.pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
                    for room_id in list(self.rooms):
                        await self.pubsub.subscribe(channel_name(room_id))
                continue
            if message is None or message.get("type") != "message":
                continue
            try:
                room_id = int(message["channel"][prefix_len:])
                self.on_data(room_id, message["data"].decode())
            except Exception:
                logger.exception("chat: bad pub/sub message")

    async def close(self):
        """Stop this hub's background work (tests; a process shutting down)."""
        tasks = [task for task in self.tasks if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.pubsub.aclose()
                await self.redis.aclose()

    def _spawn(self, coro):
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task):
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("chat hub task failed", exc_info=task.exception())
