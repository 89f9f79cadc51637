"""The media sockets: ingest (`/ws/b/<slug>/publish/`) and playback (`/ws/b/<slug>/watch/`).

Thin adapters: they check who may connect, run the publisher's bytes through the WebM
segmenter into the hub, and hand viewers to the hub. Media frames skip Channels'
per-message database clean-up (no database in those handlers); the rare database work
goes through database_sync_to_async, which does its own clean-up.
"""

import asyncio
import json
import logging
import re
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from broadcast import protocol, services
from broadcast.hub import get_hub
from broadcast.models import Broadcast
from broadcast.webm import InitSegment, Segmenter, WebMError
from onair import client_address
from safety.selectors import active_restriction

logger = logging.getLogger(__name__)

SESSION_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
LEASE_WRITE_EVERY = services.MEDIA_LEASE_WRITE_EVERY.total_seconds()
# How often the publisher hears how many media bytes have arrived: its measure of the
# backlog on its uplink (what it sent minus this), kernel buffers included.
RECEIVED_REPORT_EVERY = 0.5


@database_sync_to_async
def load_broadcast(slug):
    return Broadcast.objects.select_related("owner").filter(slug=slug).first()


@database_sync_to_async
def may_broadcast(user):
    return services.user_may_broadcast(user)


@database_sync_to_async
def restriction_of(user):
    return active_restriction(user)


class MediaConsumer(AsyncWebsocketConsumer):
    async def dispatch(self, message):
        if message["type"] == "websocket.receive":
            # The hot path: no Django DB connection clean-up hop per frame.
            await self.websocket_receive(message)
            return
        await super().dispatch(message)

    def background(self, coroutine):
        """Database follow-ups that must not hold up the media frames."""
        if not hasattr(self, "_tasks"):
            self._tasks = set()
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def refuse(self, code, close_code, **fields):
        """Accept only to say why, then close: browsers cannot read an HTTP refusal."""
        await self.accept()
        await self.send(protocol.error(code, **fields))
        await self.close(close_code)


class PublishConsumer(MediaConsumer):
    """The broadcaster's media in. Only the owner of a broadcast that has not ended, one
    at a time; the first connection puts a "not started" broadcast live."""

    async def connect(self):
        self.handle = None
        self.ended = False
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            return await self.refuse(protocol.ERROR_NOT_SIGNED_IN, protocol.CLOSE_NOT_SIGNED_IN)
        broadcast = await load_broadcast(self.slug)
        if broadcast is None:
            return await self.refuse(protocol.ERROR_NOT_FOUND, protocol.CLOSE_NOT_FOUND)
        if broadcast.owner_id != user.pk:
            return await self.refuse(protocol.ERROR_NOT_OWNER, protocol.CLOSE_FORBIDDEN)
        restriction = await restriction_of(user)
        if restriction is not None:
            return await self.refuse(
                protocol.ERROR_RESTRICTED,
                protocol.CLOSE_FORBIDDEN,
                until=restriction.until.isoformat(),
            )
        if not await may_broadcast(user):
            return await self.refuse(protocol.ERROR_NOT_ALLOWED, protocol.CLOSE_FORBIDDEN)
        if broadcast.state == Broadcast.State.ENDED:
            # Why it ended ("removed": taken down) lets the page say so.
            return await self.refuse(
                protocol.ERROR_NOT_LIVE, protocol.CLOSE_FORBIDDEN, reason=broadcast.end_reason
            )
        query = parse_qs(self.scope.get("query_string", b"").decode())
        session = (query.get("session") or [""])[0]
        if not SESSION_RE.match(session):
            session = f"anon-{id(self)}"
        takeover = (query.get("takeover") or ["0"])[0] == "1"
        self.broadcast = broadcast
        self.hub = get_hub()
        self.handle = await self.hub.open_publisher(
            self.slug, self, session=session, takeover=takeover
        )
        if self.handle is None:
            return await self.refuse(
                protocol.ERROR_ALREADY_PUBLISHING, protocol.CLOSE_ALREADY_PUBLISHING
            )
        if broadcast.state == Broadcast.State.CREATED:
            broadcast = await database_sync_to_async(services.go_live)(broadcast=broadcast)
            self.broadcast = broadcast
        if broadcast.state != Broadcast.State.LIVE:
            # Ended between the checks above and go_live (owner, admin, the sweep).
            handle, self.handle = self.handle, None
            await self.hub.close_publisher(self.slug, handle, announce=False)
            return await self.refuse(
                protocol.ERROR_NOT_LIVE, protocol.CLOSE_FORBIDDEN, reason=broadcast.end_reason
            )
        self.segmenter = Segmenter()
        self.keyframe_seen = False
        self.received_bytes = 0
        self.received_report_pending = False
        self.received_reported_at = 0.0
        self.lease_written = time.monotonic()
        self.owner_group = f"owner.{self.slug}"
        if self.channel_layer is not None:
            await self.channel_layer.group_add(self.owner_group, self.channel_name)
        await self.accept()
        await self.send(
            protocol.message(
                "ready",
                slug=self.slug,
                viewers=await self.hub.viewer_count(self.slug),
                max_frame=protocol.MAX_PUBLISH_FRAME,
                started_at=broadcast.started_at.isoformat(),
            )
        )
        await self.hub.control(self.slug, {"type": "state", "state": protocol.STATE_LIVE})

    async def receive(self, text_data=None, bytes_data=None):
        if self.handle is None:
            return
        if bytes_data is not None:
            await self.receive_media(bytes_data)
            return
        if text_data is None or len(text_data) > protocol.MAX_TEXT_FRAME:
            await self.send(protocol.error(protocol.ERROR_BAD_FRAME))
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self.send(protocol.error(protocol.ERROR_BAD_FRAME))
            return
        if isinstance(message, dict) and message.get("type") == "end":
            await database_sync_to_async(services.end_broadcast_by_owner)(
                broadcast=self.broadcast, user=self.scope["user"]
            )
        elif isinstance(message, dict) and message.get("type") == "restart":
            # The recorder restarted (bitrate change, skip ahead): a new stream follows,
            # and whatever was left of an element of the old one is dropped.
            self.segmenter.reset()
        elif isinstance(message, dict) and message.get("type") == "ping":
            await self.send(protocol.message("pong", id=message.get("id")))
        else:
            await self.send(protocol.error("unknown_type"))

    async def receive_media(self, data):
        self.count_received(len(data))
        if len(data) > protocol.MAX_PUBLISH_FRAME:
            await self.send(protocol.error(protocol.ERROR_TOO_LARGE))
            await self.close(protocol.CLOSE_TOO_LARGE)
            return
        try:
            events = self.segmenter.feed(data)
        except WebMError as exc:
            # The stream is unusable from here: drop this publisher, keep the viewers.
            logger.info("publisher of %s sent bad media: %s", self.slug, exc)
            self.segmenter.reset()
            await self.send(protocol.error(protocol.ERROR_BAD_MEDIA, detail=exc.code))
            await self.close(protocol.CLOSE_BAD_MEDIA)
            return
        for event in events:
            if isinstance(event, InitSegment):
                await self.handle.init_segment(event.data)
                continue
            await self.handle.piece(
                event.data, cluster_start=event.cluster_start, keyframe=event.keyframe
            )
            if event.keyframe and not self.keyframe_seen:
                self.keyframe_seen = True
                self.background(self._first_keyframe())
        now = time.monotonic()
        if now - self.lease_written > LEASE_WRITE_EVERY:
            self.lease_written = now
            self.background(
                database_sync_to_async(services.record_media_activity)(
                    broadcast_id=self.broadcast.pk
                )
            )

    def count_received(self, size):
        """Count media bytes in; a report goes out at most every RECEIVED_REPORT_EVERY,
        and always after the last bytes (a publisher that stopped sending to drain its
        backlog must hear that it has drained)."""
        self.received_bytes += size
        if self.received_report_pending:
            return
        self.received_report_pending = True
        due = self.received_reported_at + RECEIVED_REPORT_EVERY - time.monotonic()
        self.background(self._report_received(max(0.0, due)))

    async def _report_received(self, delay):
        if delay:
            await asyncio.sleep(delay)
        self.received_report_pending = False
        self.received_reported_at = time.monotonic()
        if self.handle is not None:
            await self.send(protocol.message("received", bytes=self.received_bytes))

    async def _first_keyframe(self):
        try:
            await database_sync_to_async(services.record_media_activity)(
                broadcast_id=self.broadcast.pk
            )
            await database_sync_to_async(services.first_keyframe_arrived)(broadcast=self.broadcast)
        except Exception:
            logger.exception("go-live follow-up failed for %s", self.slug)

    async def disconnect(self, code):
        if self.handle is not None:
            handle, self.handle = self.handle, None
            await self.hub.close_publisher(self.slug, handle, announce=not self.ended)
            if self.channel_layer is not None:
                await self.channel_layer.group_discard(self.owner_group, self.channel_name)

    # --- from the hub -------------------------------------------------------------
    async def hub_taken_over(self):
        self.handle = None
        await self.send(protocol.error(protocol.ERROR_TAKEN_OVER))
        await self.close(protocol.CLOSE_TAKEN_OVER)

    async def hub_ended(self, message):
        self.ended = True
        await self.send(json.dumps(message))
        await self.close(protocol.CLOSE_ENDED)

    async def hub_viewers(self, count):
        await self.send(protocol.message("viewers", count=count))

    # --- from the channel layer (helper B's X posting service) --------------------
    async def x_post_status(self, event):
        await self.send(
            protocol.message(
                "x_post",
                state=event.get("state"),
                post_url=event.get("post_url"),
                reason=event.get("reason"),
            )
        )


class WatchConsumer(MediaConsumer):
    """A viewer: init segment + latest GOP, then live pieces; anyone with the link."""

    # Media and control come from the hub, never from the channel layer.
    channel_layer_alias = "onair-media-no-layer"

    async def connect(self):
        self.subscriber = None
        self.admitted = None
        self.slug = self.scope["url_route"]["kwargs"]["slug"]
        broadcast = await load_broadcast(self.slug)
        if broadcast is None:
            return await self.refuse(protocol.ERROR_NOT_FOUND, protocol.CLOSE_NOT_FOUND)
        if broadcast.state == Broadcast.State.ENDED:
            await self.accept()
            await self.send(protocol.message("ended", reason=broadcast.end_reason))
            await self.close(protocol.CLOSE_ENDED)
            return
        self.hub = get_hub()
        # Behind a proxy, Daphne's --proxy-headers puts the client's address here.
        ip = client_address.from_scope(self.scope)
        subscriber_id = await self.hub.admit_viewer(ip)
        if subscriber_id is None:
            return await self.refuse(
                protocol.ERROR_TOO_MANY_SOCKETS, protocol.CLOSE_TOO_MANY_SOCKETS
            )
        self.admitted = (ip, subscriber_id)
        await self.accept()
        if broadcast.state == Broadcast.State.CREATED:
            state = protocol.STATE_CREATED
        elif await self.hub.publisher_present(self.slug):
            state = protocol.STATE_LIVE
        else:
            state = protocol.STATE_RECONNECTING
        await self.send(protocol.message("state", state=state))
        self.subscriber = await self.hub.add_viewer(
            self.slug, self, subscriber_id=subscriber_id, ip=ip
        )
        await self.send(protocol.message("viewers", count=await self.hub.viewer_count(self.slug)))

    async def receive(self, text_data=None, bytes_data=None):
        if self.subscriber is None or text_data is None or len(text_data) > 256:
            return
        try:
            message = json.loads(text_data)
            if message.get("type") == "ack":
                received = int(message.get("bytes"))
                if 0 <= received <= self.subscriber.sent:
                    self.subscriber.acked = received
        except (ValueError, TypeError, AttributeError):
            await self.send(protocol.error(protocol.ERROR_BAD_FRAME))

    async def disconnect(self, code):
        admitted, self.admitted = getattr(self, "admitted", None), None
        if self.subscriber is not None:
            subscriber, self.subscriber = self.subscriber, None
            await self.hub.remove_viewer(self.slug, subscriber)
        elif admitted is not None:
            await self.hub.release_viewer(*admitted)

    async def hub_ended(self):
        await self.close(protocol.CLOSE_ENDED)
