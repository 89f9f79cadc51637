"""The table for the WebSockets: who may connect to each, and who may send each chat
frame. An outcome is what the socket says: its greeting ("ready", "state", or the role a
chat's "hello" gives) or, refused, its error code and close code; for a chat frame, the
reply's type or the error's stable code (chat/protocol.py)."""

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from chat import services as chat
from tests.factories import BroadcastFactory
from tests.media.sockets import connect, next_json, publish_path
from tests.permissions.outcomes import each
from tests.permissions.world import (
    CHAT_MODERATORS,
    SIGNED_OUT,
    STAFF,
    bystander,
    fresh_message,
)

FORBIDDEN = "forbidden"
NOT_SIGNED_IN = "not_signed_in 4401"
NOT_OWNER = "not_owner 4403"


def moderators_only(outcome):
    """The broadcast's chat moderators: appointed, its owner, and staff."""
    return each(FORBIDDEN, **dict.fromkeys(CHAT_MODERATORS, outcome))


def owner_and_staff(outcome):
    """Whom a chat has as moderators and what it filters: its owner's call (and staff's),
    not an appointed moderator's."""
    return each(FORBIDDEN, broadcaster=outcome, mod_staff=outcome, superuser=outcome)


@dataclass(frozen=True)
class Socket:
    label: str
    route: str  # the WebSocket route (onair/routing.py) the row covers
    expect: dict  # principal -> outcome
    sends: str | None = None  # the chat frame's type, once joined
    fields: Callable | None = None  # (world, principal) -> the frame's fields
    slug: Callable | None = None  # (world, principal) -> the broadcast's slug

    def prepare(self, world, principal):
        """What the row needs in the database, made before the socket opens: the slug,
        and the frame to send."""
        slug = self.slug(world, principal) if self.slug else world.broadcast.slug
        if self.sends is None:
            return slug, None
        return slug, {"type": self.sends, **(self.fields(world, principal) if self.fields else {})}

    async def run(self, server, world, principal, slug, frame, chats):
        """What the socket says to the principal. A chat frame goes over the principal's
        chat socket (`chats`, open for the module); the rest open a socket of their own."""
        if frame is not None:
            return await _answer(chats[principal], frame)
        cookie = world.cookie(principal)
        if self.route == "ws/ping/":
            return await _ping(server, cookie, world.user(principal))
        path = "/" + self.route.replace("<str:slug>", slug)
        if path.endswith("/publish/"):
            path = publish_path(slug, session=f"matrix-{secrets.token_hex(3)}")
        async with connect(server, path, cookie) as ws:
            first = await _greeting(ws)
            if first["type"] == "error":
                await ws.wait_closed()
                return f"{first['code']} {ws.close_code}"
            return first.get("role", first["type"])


async def _greeting(ws):
    """The socket's first word on connecting, or its refusal: a publisher's viewer count
    may come before its "ready"."""
    while True:
        frame = await next_json(ws)
        if frame["type"] in ("error", "ready", "state", "hello"):
            return frame


async def _answer(chat_socket, frame):
    """The chat's answer to `frame`: its type, or the error's code. A sync has no answer
    of its own: a ping after it, answered in turn, says it was taken."""
    kind, fields = frame["type"], {k: v for k, v in frame.items() if k != "type"}
    if kind != "sync":
        reply = await chat_socket.request(kind, **fields)
        return reply["code"] if reply["type"] == "error" else reply["type"]
    ref = f"sync-{secrets.token_hex(3)}"
    await chat_socket.ws.send(json.dumps({**frame, "ref": ref}))
    await chat_socket.request("ping")
    refused = [error["code"] for error in chat_socket.errors() if error.get("ref") == ref]
    return refused[0] if refused else "synced"


async def _ping(server, cookie, user):
    async with connect(server, "/ws/ping/", cookie) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        pong = await next_json(ws, kind="pong")
    if pong["user"] is None:
        return "nobody"
    return "self" if user is not None and pong["user"] == user.get_username() else pong["user"]


# --- what each row needs: a fresh target, so that no row depends on another ----------
def _own_broadcast(world, principal):
    """A broadcast of the principal's own, not started (the broadcast under test for
    someone signed out, who has none)."""
    user = world.user(principal)
    if principal in SIGNED_OUT:
        return world.broadcast.slug
    return BroadcastFactory(owner=user, tell_followers=False).slug


def _message(where, *, held=False):
    return lambda world, principal: {"id": fresh_message(getattr(world, where), held=held).pk}


def _chat_banned_by_owner(world, principal):
    user = bystander()
    chat.ban_user(broadcast=world.broadcast, target=user, by=world.broadcast.owner)
    return {"user_id": user.pk}


def _handle(appointed):
    def frame(world, principal):
        user = bystander()
        if appointed:
            chat.add_moderator(broadcast=world.broadcast, user=user, by=world.broadcast.owner)
        return {"handle": user.handle}

    return frame


def _phrase(existing):
    def frame(world, principal):
        phrase = f"matrix {secrets.token_hex(4)}"
        if existing:
            chat.add_filter_word(phrase=phrase, by=world.broadcast.owner, broadcast=world.broadcast)
        return {"phrase": phrase}

    return frame


def _victim(world, principal):
    return {"user_id": bystander().pk}


def _chat(kind, expect, fields=None, label=None):
    return Socket(label or f"chat {kind}", "ws/b/<str:slug>/chat/", expect, kind, fields)


SOCKETS = [
    Socket("ping socket", "ws/ping/", each("self", **dict.fromkeys(SIGNED_OUT, "nobody"))),
    Socket(
        "publish the broadcast",
        "ws/b/<str:slug>/publish/",
        each(NOT_OWNER, **dict.fromkeys(SIGNED_OUT, NOT_SIGNED_IN), broadcaster="ready"),
    ),
    Socket(
        "publish one's own broadcast",
        "ws/b/<str:slug>/publish/",
        each(
            "ready",
            **dict.fromkeys(SIGNED_OUT, NOT_SIGNED_IN),
            teen="not_allowed 4403",
            restricted="restricted 4403",
        ),
        slug=_own_broadcast,
    ),
    Socket("watch", "ws/b/<str:slug>/watch/", each("state")),
    Socket(
        "join the chat",
        "ws/b/<str:slug>/chat/",
        each(
            "viewer",
            **dict.fromkeys(SIGNED_OUT, "anonymous"),
            moderator="moderator",
            broadcaster="broadcaster",
            **dict.fromkeys(STAFF, "moderator"),
        ),
    ),
    _chat(
        "send",
        each(
            "ack",
            **dict.fromkeys(SIGNED_OUT, "sign_in_required"),
            chat_banned="banned",
            timed_out="timed_out",
        ),
        lambda world, principal: {"text": f"hello from {principal}"},
    ),
    _chat("sync", each("synced"), lambda world, principal: {"after_seq": 0}),
    _chat("ping", each("pong")),
    _chat("delete", moderators_only("ok"), _message("broadcast")),
    # A moderator of this chat is none in another broadcaster's; staff are everywhere.
    _chat(
        "delete",
        each(FORBIDDEN, mod_staff="ok", superuser="ok"),
        _message("elsewhere"),
        label="chat delete in another broadcaster's chat",
    ),
    _chat("approve", moderators_only("ok"), _message("broadcast", held=True)),
    _chat("reject", moderators_only("ok"), _message("broadcast", held=True)),
    _chat("held_list", moderators_only("held_list")),
    _chat("timeout", moderators_only("ok"), lambda world, p: {**_victim(world, p), "seconds": 600}),
    _chat("ban", moderators_only("ok"), _victim),
    _chat("unban", moderators_only("ok"), _chat_banned_by_owner),
    _chat("set_mode", moderators_only("ok"), lambda world, principal: {"chat_enabled": True}),
    _chat("add_moderator", owner_and_staff("ok"), _handle(appointed=False)),
    _chat("remove_moderator", owner_and_staff("ok"), _handle(appointed=True)),
    _chat("add_filter", owner_and_staff("ok"), _phrase(existing=False)),
    _chat("remove_filter", owner_and_staff("ok"), _phrase(existing=True)),
]
