"""The chat socket, a thin adapter: authenticate in connect (anyone may read), validate
each frame (chat.protocol), call a service (chat.services), send the result. Fan-out goes
through chat.hub, not through this consumer's handlers."""

import contextlib
import json
import logging
import time
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header

from accounts.blocks import blocked_ids
from chat import protocol as p
from chat import selectors, services
from chat.hub import Client, get_hub
from chat.ingest import get_ingest
from chat.protocol import ChatRefused
from onair.fastsend import DaphneProbe

logger = logging.getLogger(__name__)

# Any frame, per socket: a guard against floods, well above what a person sends.
FRAMES_PER_SECOND = 20
FRAME_BURST = 40
# A sync can make the server read up to the whole stored history: it costs more.
FRAME_COSTS = {"sync": 10}
MODERATOR_ROLES = ("broadcaster", "moderator")


class ChatConsumer(AsyncWebsocketConsumer):
    # Not on the Channels layer: chat events reach sockets through chat.hub.
    channel_layer_alias = "chat-uses-the-hub"

    async def dispatch(self, message):
        # Channels awaits aclose_old_connections() before every handler; our database
        # work runs in database_sync_to_async, which cleans connections up itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- connection ---
    async def connect(self):
        self.client = None
        self.user = self.scope.get("user")
        slug = self.scope["url_route"]["kwargs"]["slug"]
        context = await database_sync_to_async(self._load)(slug)
        if context is None:
            await self.close(code=4404)
            return
        self.broadcast, self.room_id, self.role, modes, filters, blocked = context
        self.language = self._language()
        await self.accept()
        self.tokens, self.tokens_at = float(FRAME_BURST), time.monotonic()
        moderator = self.role in MODERATOR_ROLES
        self.client = Client(
            send=self.send,
            user_id=self.user.pk if self.role != "anonymous" else None,
            moderator=moderator,
            probe=DaphneProbe.for_send(self.base_send),
        )
        self.client.on_notice = self._on_notice
        hello = {
            "type": "hello",
            "room": self.broadcast.slug,
            "role": self.role,
            "user_id": self.client.user_id,
            "modes": modes,
            # The broadcast ended: the room takes no more messages (why; else null).
            "closed": (
                (self.broadcast.end_reason or "ended") if self.broadcast.state == "ended" else None
            ),
        }
        if filters is not None:
            hello["filters"] = filters
        if blocked is not None:
            # Whom this viewer blocked: the page hides their messages, so the hub keeps
            # sending everyone the same frame.
            hello["blocked"] = blocked
        await self.send_json(hello)
        self.hub = get_hub()
        try:
            await self.hub.join(self.room_id, self.client)
        except Exception:
            # The room could not be opened (database or Redis down): say so and close,
            # the page's reconnect tries again.
            logger.exception("chat room %s could not be opened", self.room_id)
            self.client = None
            with translation.override(self.language):
                await self.send_json(p.error_frame("server_error"))
            await self.close(code=1011)
            return
        await self.hub.catch_up(self.room_id, self.client, self._after_seq_from_query())
        if moderator:
            with contextlib.suppress(ChatRefused):  # demoted in the meantime
                await self._send_held_list()

    def _load(self, slug):
        from broadcast.models import Broadcast

        broadcast = Broadcast.objects.select_related("owner").filter(slug=slug).first()
        if broadcast is None:
            return None
        room = selectors.room_for(broadcast=broadcast)
        role = selectors.role_of(user=self.user, broadcast=broadcast)
        filters = (
            selectors.broadcaster_filter_words(broadcaster_id=broadcast.owner_id)
            if role == "broadcaster"
            else None
        )
        blocked = blocked_ids(user=self.user) if role != "anonymous" else None
        return broadcast, room.pk, role, room.modes(), filters, blocked

    def _language(self):
        """The page's language for error sentences: the language cookie, else the
        browser's preference, else the default."""
        from django.conf import settings

        supported = {code for code, _ in settings.LANGUAGES}
        cookie = self.scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
        if cookie in supported:
            return cookie
        headers = dict(self.scope.get("headers", []))
        accept = headers.get(b"accept-language", b"").decode("latin-1")
        for code, _ in parse_accept_lang_header(accept):
            if code.split("-")[0] in supported:
                return code.split("-")[0]
        return settings.LANGUAGE_CODE

    def _after_seq_from_query(self):
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        value = (query.get("after_seq") or [""])[0]
        return int(value) if value.isdigit() and len(value) < 18 else None

    async def disconnect(self, code):
        if self.client is not None:
            await self.hub.leave(self.room_id, self.client)

    def _on_notice(self, text):
        notice = json.loads(text)
        if notice.get("type") == "role":
            self.role = notice["role"]
            self.client.moderator = self.role == "moderator"
            if self.role == "anonymous":
                # Banned site-wide: this socket's user was signed out everywhere, so it
                # reads on as anonymous and can no longer write.
                self.user = AnonymousUser()
                self.client.user_id = None

    # --- frames ---
    async def receive(self, text_data=None, bytes_data=None):
        ref = None
        try:
            # Every frame pays before it is looked at: malformed, oversized and unknown
            # frames cost as much as good ones. (Parsing, bounded by the size limit, only
            # finds the ref to answer with.)
            try:
                self._spend_token()
            except ChatRefused:
                with contextlib.suppress(ChatRefused):
                    ref = p.parse_frame(text_data, bytes_data).ref
                raise
            frame = p.parse_frame(text_data, bytes_data)
            ref = frame.ref
            extra = FRAME_COSTS.get(frame.type, 1) - 1
            if extra:
                self._spend_token(extra)
            await getattr(self, f"on_{frame.type}")(frame)
        except ChatRefused as refusal:
            with translation.override(self.language):
                await self.send_json(refusal.as_frame(ref=ref))
        except Exception:
            logger.exception("chat frame failed")
            with translation.override(self.language):
                await self.send_json(p.error_frame("server_error", ref=ref))

    def _spend_token(self, cost=1):
        now = time.monotonic()
        self.tokens = min(FRAME_BURST, self.tokens + (now - self.tokens_at) * FRAMES_PER_SECOND)
        self.tokens_at = now
        if self.tokens < cost:
            raise ChatRefused("rate_limited", retry_after=(cost - self.tokens) / FRAMES_PER_SECOND)
        self.tokens -= cost

    async def send_json(self, content):
        await self.send(text_data=p.dumps(content))

    async def ok(self, frame, **extra):
        await self.send_json({"type": "ok", "ref": frame.ref, "for": frame.type, **extra})

    async def on_ping(self, frame):
        await self.send_json({"type": "pong", "ref": frame.ref})

    async def on_sync(self, frame):
        after = p.int_field(frame.data, "after_seq", minimum=0, required=False)
        await self.hub.catch_up(self.room_id, self.client, after)

    async def on_send(self, frame):
        text = frame.data.get("text")
        post_to_x = frame.data.get("post_to_x", False) is True
        result = await get_ingest().post(
            broadcast=self.broadcast, user=self.user, text=text, post_to_x=post_to_x
        )
        await self.send_json(
            {
                "type": "ack",
                "ref": frame.ref,
                "id": result.message.pk,
                "seq": result.seq,
                "held": result.held,
                "x_post": result.x_post,
            }
        )
        if result.x_post == "rate_limited":
            await self.send_json(
                p.error_frame(
                    "x_post_rate_limited", retry_after=result.x_retry_after, ref=frame.ref
                )
            )
        elif result.x_post == "unavailable":
            await self.send_json(p.error_frame("x_post_unavailable", ref=frame.ref))

    # --- moderation (services check who may) ---
    async def on_delete(self, frame):
        message_id = p.int_field(frame.data, "id", minimum=1)
        await database_sync_to_async(services.delete_message)(message_id=message_id, by=self.user)
        await self.ok(frame)

    async def on_approve(self, frame):
        message_id = p.int_field(frame.data, "id", minimum=1)
        await database_sync_to_async(services.approve_message)(message_id=message_id, by=self.user)
        await self.ok(frame)

    async def on_reject(self, frame):
        message_id = p.int_field(frame.data, "id", minimum=1)
        await database_sync_to_async(services.reject_message)(message_id=message_id, by=self.user)
        await self.ok(frame)

    async def on_timeout(self, frame):
        seconds = p.int_field(
            frame.data, "seconds", minimum=p.TIMEOUT_MIN_SECONDS, maximum=p.TIMEOUT_MAX_SECONDS
        )
        await self._restrict(frame, services.timeout_user, seconds=seconds)

    async def on_ban(self, frame):
        await self._restrict(frame, services.ban_user)

    async def on_unban(self, frame):
        await self._restrict(frame, services.lift_restrictions, reason=None)

    async def _restrict(self, frame, service, reason="", **extra):
        target_id = p.int_field(frame.data, "user_id", minimum=1)
        if reason is not None:
            extra["reason"] = str(frame.data.get("reason") or "")[:200]

        def act():
            self._require_moderator_now()  # before any lookup: no user enumeration
            target = _user_by(pk=target_id)
            service(broadcast=self.broadcast, target=target, by=self.user, **extra)

        await database_sync_to_async(act)()
        await self.ok(frame)

    async def on_set_mode(self, frame):
        data = frame.data
        modes = {
            "chat_enabled": p.bool_field(data, "chat_enabled"),
            "established_only": p.bool_field(data, "established_only"),
            "slow_mode_seconds": p.int_field(data, "slow_mode_seconds", required=False),
            "established_x_days": p.int_field(data, "established_x_days", required=False),
            "established_account_minutes": p.int_field(
                data, "established_account_minutes", required=False
            ),
        }
        if not self.user.is_authenticated:
            raise ChatRefused("forbidden")
        await database_sync_to_async(services.set_chat_modes)(
            broadcast=self.broadcast, by=self.user, **modes
        )
        await self.ok(frame)

    async def on_held_list(self, frame):
        await self._send_held_list(ref=frame.ref)

    def _require_moderator_now(self):
        """Read from the database each time: a moderator removed a minute ago is not
        one any more, whatever this socket was told at connect."""
        if not self.user.is_authenticated:
            raise ChatRefused("forbidden")
        role = selectors.role_of(user=self.user, broadcast=self.broadcast)
        if role not in MODERATOR_ROLES:
            raise ChatRefused("forbidden")

    async def _send_held_list(self, ref=None):
        def load():
            self._require_moderator_now()
            return [
                selectors.held_payload(m) for m in selectors.held_messages(room_id=self.room_id)
            ]

        messages = await database_sync_to_async(load)()
        await self.send_json({"type": "held_list", "ref": ref, "messages": messages})

    async def on_add_moderator(self, frame):
        await self._moderators(frame, services.add_moderator)

    async def on_remove_moderator(self, frame):
        await self._moderators(frame, services.remove_moderator)

    async def _moderators(self, frame, service):
        handle = p.str_field(frame.data, "handle", max_length=32).lstrip("@")

        def act():
            self._require_moderator_now()  # before any lookup: no user enumeration
            service(broadcast=self.broadcast, user=_user_by(handle__iexact=handle), by=self.user)

        await database_sync_to_async(act)()
        await self.ok(frame)

    async def on_add_filter(self, frame):
        await self._filters(frame, services.add_filter_word)

    async def on_remove_filter(self, frame):
        await self._filters(frame, services.remove_filter_word)

    async def _filters(self, frame, service):
        phrase = p.str_field(frame.data, "phrase", max_length=100)

        def act():
            if not self.user.is_authenticated:
                raise ChatRefused("forbidden")
            service(phrase=phrase, by=self.user, broadcast=self.broadcast)
            return selectors.broadcaster_filter_words(broadcaster_id=self.broadcast.owner_id)

        phrases = await database_sync_to_async(act)()
        await self.ok(frame, phrases=phrases)


def _user_by(**lookup):
    from accounts.models import User

    user = User.objects.filter(**lookup).first()
    if user is None:
        raise ChatRefused("not_found")
    return user
