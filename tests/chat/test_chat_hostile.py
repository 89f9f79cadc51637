"""Hostile input through the socket: every bad frame gets a clear error, the socket and
the room keep working, and what is stored is plain, normalised text."""

import asyncio
import json

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.models import ChatMessage
from chat.protocol import ERRORS, normalise_text
from tests.chat.support import ChatSocket, chatter, live_broadcast, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

# (what the user sends, what is stored) — markup stays literal text; the page renders
# it with textContent (see test_chat_browser.py).
STORED_AS = [
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ('<img src=x onerror="alert(1)">', '<img src=x onerror="alert(1)">'),
    ("javascript:alert(1)", "javascript:alert(1)"),
    ("abc\u202edcba\u202c done", "abcdcba done"),  # RTL override removed
    ("\u2066isolated\u2069 \u200fmark", "isolated mark"),
    ("zero\u200bwidth\ufeff joiners kept: 👩\u200d💻", "zerowidth joiners kept: 👩\u200d💻"),
    ("line\nbreaks\r\nand\ttabs\x00\x07", "line breaks and tabs"),
    ("e\u0301 composed", "é composed"),
    ("z" + "\u0336" * 40, "z" + "\u0336" * 4),  # zalgo trimmed
]

REFUSED = [
    ("\u200b\u200b\u202e", "empty"),
    ("   ", "empty"),
    ("x" * 501, "too_long"),
    ("y" * 10_000, "too_long"),
    ("😀" * 501, "too_long"),
]


def test_normalisation_rules():
    for raw, stored in STORED_AS:
        assert normalise_text(raw) == stored


def test_hostile_texts_are_stored_as_plain_normalised_text_or_refused(chat_servers):
    broadcast = live_broadcast()
    user = chatter()

    async def scenario():
        sock = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(user))
        accepted = [await sock.say(raw) for raw, _ in STORED_AS]
        refused = [await sock.say(raw) for raw, _ in REFUSED]
        await sock.close()
        return accepted, refused

    accepted, refused = asyncio.run(scenario())
    assert [r["type"] for r in accepted] == ["ack"] * len(STORED_AS)
    assert [r.get("code") for r in refused] == [code for _, code in REFUSED]
    stored = list(ChatMessage.objects.order_by("pk").values_list("text", flat=True))
    assert stored == [text for _, text in STORED_AS]


BAD_FRAMES = [
    ("not json at all", "bad_json"),
    ('{"type": "send", "text": "unterminated', "bad_json"),
    ("[1, 2, 3]", "unknown_type"),
    ('"just a string"', "unknown_type"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": "__init__"}', "unknown_type"),
    ('{"no_type": 1}', "unknown_type"),
    ('{"type": "send", "text": 123}', "invalid"),
    ('{"type": "send", "text": null}', "invalid"),
    ('{"type": "send", "text": "\\ud800 lone surrogate"}', None),  # stored without it
    ('{"type": "delete", "id": "1 OR 1=1"}', "invalid"),
    ('{"type": "timeout", "user_id": true, "seconds": 60}', "invalid"),
    ('{"type": "sync", "after_seq": -5}', "invalid"),
    ('{"type": "set_mode", "chat_enabled": "yes"}', "invalid"),
    ('{"type": "send", "text": "' + "a" * 20_000 + '"}', "too_large"),
]


def test_malformed_frames_get_a_clear_error_and_the_socket_and_room_survive(chat_servers):
    broadcast = live_broadcast()
    attacker, friend = chatter(), chatter()

    async def scenario():
        bad = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(attacker))
        good = await ChatSocket.open(chat_servers[1], broadcast.slug, session_cookie(friend))
        replies = []
        for frame, _ in BAD_FRAMES:
            before = len(bad.frames)
            await bad.send_raw(frame)
            replies.append(await bad.wait_reply(before, what=frame[:30]))
        before = len(bad.frames)
        await bad.send_raw(b"\x00\x01binary\xff")
        binary_reply = await bad.wait_reply(before, what="binary")
        pong = await bad.request("ping")
        await good.say("the room still works")
        await bad.wait(lambda s: "the room still works" in s.texts(), what="room alive")
        for sock in (bad, good):
            await sock.close()
        return replies, binary_reply, pong

    replies, binary_reply, pong = asyncio.run(scenario())
    for (frame, code), reply in zip(BAD_FRAMES, replies, strict=True):
        if code is None:
            assert reply["type"] == "ack", frame
        else:
            assert reply["type"] == "error" and reply["code"] == code, frame
            assert reply["message"] == str(ERRORS[code])
    assert binary_reply["code"] == "bad_frame"
    assert pong["type"] == "pong"
    assert ChatMessage.objects.filter(text="lone surrogate").exists()


def test_invalid_utf8_closes_only_that_socket_and_it_can_reconnect(chat_servers):
    """RFC 6455 requires the server to fail a connection that sends invalid UTF-8 in a
    text frame: Daphne (autobahn) drops it (1006) rather than answer, before any of our
    code runs. The room and a reconnect are unaffected."""
    broadcast = live_broadcast()
    user, friend = chatter(), chatter()

    async def scenario():
        sock = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(user))
        other = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(friend))
        await sock.ws.send(b'{"type": "send", "text": "\xff\xfe"}', text=True)
        await asyncio.wait_for(sock.reader, 10)
        code = sock.ws.close_code
        again = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(user))
        ack = await again.say("back")
        await other.wait(lambda s: "back" in s.texts(), what="room alive")
        for s in (again, other):
            await s.close()
        return code, ack

    code, ack = asyncio.run(scenario())
    assert code in (1006, 1007)
    assert ack["type"] == "ack"


frame_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
frame_types = st.sampled_from(
    [
        "send",
        "sync",
        "ping",
        "delete",
        "timeout",
        "ban",
        "unban",
        "approve",
        "reject",
        "set_mode",
        "held_list",
        "add_moderator",
        "remove_moderator",
        "add_filter",
        "remove_filter",
        "",
        "SEND",
        "événement",
    ]
)
frames = st.one_of(
    st.builds(
        lambda t, fields: json.dumps({**fields, "type": t}),
        frame_types,
        st.dictionaries(
            st.sampled_from(
                [
                    "text",
                    "id",
                    "user_id",
                    "seconds",
                    "after_seq",
                    "handle",
                    "phrase",
                    "slow_mode_seconds",
                    "chat_enabled",
                    "ref",
                ]
            ),
            frame_values,
            max_size=4,
        ),
    ),
    frame_values.map(json.dumps),
    st.text(max_size=200),
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(frames, min_size=1, max_size=20))
def test_random_frames_never_break_the_socket(chat_servers, batch):
    broadcast = live_broadcast()
    user = chatter()
    cookie = session_cookie(user)

    async def scenario():
        sock = await ChatSocket.open(chat_servers[0], broadcast.slug, cookie)
        for frame in batch:
            await sock.send_raw(frame)
        pong = await sock.request("ping", timeout=20)
        while pong.get("code") == "rate_limited":  # the batch spent the frame budget
            await asyncio.sleep(pong["retry_after"])  # as the protocol asks
            pong = await sock.request("ping", timeout=20)
        await sock.close()
        return sock, pong

    try:
        sock, pong = asyncio.run(scenario())
    except websockets.ConnectionClosed as closed:  # pragma: no cover - a failure
        raise AssertionError(f"socket closed: {closed}") from None
    assert pong["type"] == "pong"
    for frame in sock.frames:
        if frame["type"] == "error":
            assert frame["code"] in ERRORS, frame


def test_bad_frames_spend_the_frame_budget_and_sync_costs_more(chat_servers):
    broadcast = live_broadcast()

    async def scenario():
        flooder = await ChatSocket.open(chat_servers[0], broadcast.slug)
        for _ in range(200):  # far more than the burst (40) plus what refills meanwhile
            await flooder.send_raw("not json at all")
        after_flood = await flooder.request("ping", timeout=20)
        # A sync answers with events, not a reply; only a refusal carries its ref.
        syncer = await ChatSocket.open(chat_servers[0], broadcast.slug)
        for n in range(8):
            await syncer.send_raw(json.dumps({"type": "sync", "after_seq": 0, "ref": f"s{n}"}))
        await syncer.request("ping", timeout=20)
        for sock in (flooder, syncer):
            await sock.close()
        return after_flood, syncer.errors("rate_limited")

    after_flood, refused_syncs = asyncio.run(scenario())
    assert after_flood["code"] == "rate_limited" and after_flood["retry_after"] > 0
    # 8 syncs as plain frames would cost 8 of the 40; at 10 each the budget runs out.
    assert any(f["ref"].startswith("s") for f in refused_syncs), refused_syncs
