"""The few SQL statements behind every chat message, written out by hand.

Posting a message is the one write that happens a hundred times a second in a busy
room. Through the ORM it cost ~11 queries and 9-25 ms of Python on this 2-core machine
(mostly building SQL), which capped a room at a few dozen messages a second. These are
the same checks as plain parameterised statements (SQLite and PostgreSQL), all in one
place; everything rarer stays in the ORM (chat.services)."""

from datetime import UTC

from django.db import connection
from django.utils.dateparse import parse_datetime

from accounts.models import Block, User
from broadcast.models import Broadcast
from chat.models import ChatBan, ChatEvent, ChatMessage, ChatRoom, FilterWord, Moderator

ROOM = ChatRoom._meta.db_table
EVENT = ChatEvent._meta.db_table
MESSAGE = ChatMessage._meta.db_table
BAN = ChatBan._meta.db_table
MODERATOR = Moderator._meta.db_table
FILTER = FilterWord._meta.db_table
BLOCK = Block._meta.db_table
BROADCAST = Broadcast._meta.db_table
USER = User._meta.db_table


def _db_time(value):
    return connection.ops.adapt_datetimefield_value(value)


def _py_time(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _one(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _all(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def lock_room(room_id):
    """The room's modes and its broadcast's state, locked until commit (SQLite's
    IMMEDIATE transaction already holds the write lock)."""
    lock = "" if connection.vendor == "sqlite" else " FOR UPDATE OF r"
    row = _one(
        f"SELECT r.chat_enabled, r.slow_mode_seconds, r.established_only, "  # noqa: S608
        f"r.established_x_days, r.established_account_minutes, b.state "
        f"FROM {ROOM} r JOIN {BROADCAST} b ON b.id = r.broadcast_id "
        f"WHERE r.broadcast_id = %s{lock}",
        [room_id],
    )
    if row is None:
        return None
    keys = (
        "chat_enabled",
        "slow_mode_seconds",
        "established_only",
        "established_x_days",
        "established_account_minutes",
        "state",
    )
    room = dict(zip(keys, row, strict=True))
    room["chat_enabled"] = bool(room["chat_enabled"])
    room["established_only"] = bool(room["established_only"])
    return room


def restriction(*, user_id, broadcaster_id, now):
    """None, ("inactive", None) (the account was banned or deleted since the socket
    opened: a socket holds the user as it was then), ("blocked", None) (the broadcaster
    blocked the user: accounts.blocks), ("ban", None) or ("timeout", until) for the
    longest timeout. One round trip: each lookup on its own index."""
    # The ban branch comes first: PostgreSQL types a UNION's columns pair by pair from
    # the left, and two leading bare NULLs would make the second column text.
    rows = _all(
        f"SELECT 'ban', expires_at FROM {BAN} WHERE broadcaster_id = %s "  # noqa: S608
        "AND user_id = %s AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > %s) "
        f"UNION ALL SELECT 'inactive', NULL FROM {USER} WHERE id = %s AND is_active = %s "
        f"UNION ALL SELECT 'block', NULL FROM {BLOCK} WHERE blocker_id = %s AND blocked_id = %s",
        [broadcaster_id, user_id, _db_time(now), user_id, False, broadcaster_id, user_id],
    )
    if not rows:
        return None
    if any(kind == "inactive" for kind, _ in rows):
        return ("inactive", None)
    if any(kind == "block" for kind, _ in rows):
        return ("blocked", None)
    if any(expires is None for _, expires in rows):
        return ("ban", None)
    return ("timeout", max(_py_time(expires) for _, expires in rows))


def is_appointed(*, broadcaster_id, user_id):
    return (
        _one(
            f"SELECT 1 FROM {MODERATOR} WHERE broadcaster_id = %s AND user_id = %s",  # noqa: S608
            [broadcaster_id, user_id],
        )
        is not None
    )


def recent_message_times(*, user_id, since, limit):
    """When this user's latest messages (any room, held ones too) were sent, newest first."""
    rows = _all(
        f"SELECT created_at FROM {MESSAGE} WHERE author_id = %s AND created_at > %s "  # noqa: S608
        "ORDER BY created_at DESC LIMIT %s",
        [user_id, _db_time(since), limit],
    )
    return [_py_time(created) for (created,) in rows]


def last_message_time(*, room_id, user_id):
    row = _one(
        f"SELECT created_at FROM {MESSAGE} WHERE room_id = %s AND author_id = %s "  # noqa: S608
        "ORDER BY created_at DESC LIMIT 1",
        [room_id, user_id],
    )
    return _py_time(row[0]) if row else None


def last_x_echo_time(*, user_id, since):
    row = _one(
        f"SELECT created_at FROM {MESSAGE} WHERE author_id = %s AND post_to_x = %s "  # noqa: S608
        "AND created_at > %s ORDER BY created_at DESC LIMIT 1",
        [user_id, True, _db_time(since)],
    )
    return _py_time(row[0]) if row else None


def filter_phrases(*, broadcaster_id):
    rows = _all(
        f"SELECT phrase FROM {FILTER} WHERE broadcaster_id = %s OR broadcaster_id IS NULL",  # noqa: S608
        [broadcaster_id],
    )
    return [phrase.casefold() for (phrase,) in rows]


def next_seq(room_id):
    """Bump the room's counter and return the new value. UPDATE ... RETURNING holds the
    row lock until commit, so the next writer (any process) gets seq + 1 only once
    this one is visible: no gaps, no duplicates."""
    return _one(
        f"UPDATE {ROOM} SET last_seq = last_seq + 1 WHERE broadcast_id = %s "  # noqa: S608
        "RETURNING last_seq",
        [room_id],
    )[0]


def insert_message(*, room_id, author_id, text, status, held_reason, post_to_x, seq, now):
    return _one(
        f"INSERT INTO {MESSAGE} (room_id, author_id, text, status, held_reason, "  # noqa: S608
        "post_to_x, seq, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        [room_id, author_id, text, status, held_reason, post_to_x, seq, _db_time(now)],
    )[0]


def insert_event(*, room_id, seq, kind, payload_json, now):
    value = "%s" if connection.vendor == "sqlite" else "CAST(%s AS jsonb)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EVENT} (room_id, seq, kind, payload, created_at) "  # noqa: S608
            f"VALUES (%s, %s, %s, {value}, %s)",
            [room_id, seq, kind, payload_json, _db_time(now)],
        )
