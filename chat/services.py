"""Chat writes: every rule about who may say what lives here, shared by the socket
consumer, the admin and the safety code. Each service stores first, then (after commit)
hands the encoded event to the hub for fan-out."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from accounts.selectors import can_chat
from chat import hotpath, hub, selectors
from chat.models import (
    ChatBan,
    ChatEvent,
    ChatMessage,
    ChatRoom,
    FilterWord,
    ModerationAction,
    Moderator,
)
from chat.protocol import (
    ERRORS,
    EVENT_CLOSED,
    EVENT_DELETE,
    EVENT_MODE,
    MAX_TEXT,
    SLOW_MODE_MAX,
    SLOW_MODE_MIN,
    TIMEOUT_MAX_SECONDS,
    TIMEOUT_MIN_SECONDS,
    ChatRefused,
    blanked_message,
    clean_message_text,
    dumps,
    encode_event,
)
from safety import audit

logger = logging.getLogger(__name__)

RATE_LIMIT_COUNT = getattr(settings, "CHAT_RATE_LIMIT_COUNT", 20)
RATE_LIMIT_WINDOW = getattr(settings, "CHAT_RATE_LIMIT_WINDOW", 30)
# Three refusals for speed within this window earn an automatic timeout.
VIOLATIONS_BEFORE_TIMEOUT = 3
VIOLATION_WINDOW = 120
AUTO_TIMEOUT_SECONDS = 300
X_ECHO_INTERVAL = 60


@dataclass
class PostResult:
    message: ChatMessage
    seq: int | None
    held: bool
    x_post: str | None  # None, "requested", "rate_limited", "unavailable"
    x_retry_after: float | None = None


# --- helpers --------------------------------------------------------------------------
def _can_chat(user):
    """Signed in and allowed to chat (13+ confirmed) per the accounts rules."""
    if not user or not user.is_authenticated:
        return False
    return bool(can_chat(user))


def _is_established(user, room, now):
    """X account older than N days and OnAir account older than N minutes. Unknown X
    account age counts as not established."""
    x_created = user.x_created_at
    if x_created is None or now - x_created < timedelta(days=room["established_x_days"]):
        return False
    return now - user.date_joined >= timedelta(minutes=room["established_account_minutes"])


def _append_event(room_id, kind, payload):
    """Number and store one room event inside the caller's transaction; it reaches the
    hub after commit. (The numbering rule is in hotpath.next_seq.)"""
    seq = hotpath.next_seq(room_id)
    _store_event(room_id, seq, payload, timezone.now())
    return seq


def _store_event(room_id, seq, payload, now):
    encoded = encode_event(seq, payload)
    hotpath.insert_event(
        room_id=room_id, seq=seq, kind=payload["type"], payload_json=dumps(payload), now=now
    )
    transaction.on_commit(lambda: hub.publish_event(room_id, seq, encoded))


def _record(*, actor, broadcast, action, target_user=None, message=None, **details):
    actor = actor if actor and actor.is_authenticated else None
    entry = ModerationAction.objects.create(
        actor=actor,
        broadcaster_id=broadcast.owner_id if broadcast else None,
        broadcast=broadcast,
        action=action,
        target_user=target_user,
        message=message,
        details=details,
    )
    # The site-wide audit log holds the chat's acts too, in the same transaction.
    kind = "message" if message else "user" if target_user else "broadcast" if broadcast else ""
    target = message or target_user or broadcast
    details = dict(details)  # the row above keeps its own copy, reason included
    audit.record(
        actor=actor,
        action=f"chat_{action}",
        target_kind=kind,
        target_id=target.pk if target else "",
        snapshot={
            "broadcast": broadcast.slug if broadcast else None,
            "broadcaster_id": broadcast.owner_id if broadcast else None,
            "user_id": target_user.pk if target_user else None,
            "handle": target_user.handle if target_user else None,
        },
        reason=str(details.pop("reason", "")),
        moderation_action_id=entry.pk,
        **details,
    )
    return entry


def _require_moderator(user, broadcast):
    if not selectors.is_moderator(user=user, broadcaster_id=broadcast.owner_id):
        raise ChatRefused("forbidden")


def _require_broadcaster(user, broadcast):
    if (
        not user
        or not user.is_authenticated
        or not (user.pk == broadcast.owner_id or user.is_staff)
    ):
        raise ChatRefused("forbidden")


def _seconds_until(moment, now):
    return max((moment - now).total_seconds(), 0.1)


def _record_speed_violation(*, user, broadcast, now):
    """Count a too-fast refusal; the third within the window times the user out."""
    key = f"chat:violations:{user.pk}"
    cache.add(key, 0, VIOLATION_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, VIOLATION_WINDOW)
        count = 1
    if count < VIOLATIONS_BEFORE_TIMEOUT:
        return None
    cache.delete(key)
    try:
        timeout_user(
            broadcast=broadcast,
            target=user,
            seconds=AUTO_TIMEOUT_SECONDS,
            by=None,
            reason="automatic: repeated rate limit",
        )
    except ChatRefused:  # moderators are not timed out in their own chat
        return None
    return AUTO_TIMEOUT_SECONDS


# --- messages -------------------------------------------------------------------------
def post_message(*, broadcast, user, text, post_to_x=False):
    """Store a message and publish it, or hold it for review, or refuse with a reason.
    Stored before anyone is told: the ack and the fan-out both follow the commit.
    Runs on every message, so its queries are the hand-written ones in chat.hotpath."""
    if not user or not user.is_authenticated:
        raise ChatRefused("sign_in_required")
    if not _can_chat(user):
        raise ChatRefused("not_allowed")
    text = clean_message_text(text)
    now = timezone.now()
    owner_id = broadcast.owner_id
    is_owner = user.pk == owner_id
    # For the owner only "inactive" can match: nobody blocks, bans or times out themself.
    restricted = hotpath.restriction(user_id=user.pk, broadcaster_id=owner_id, now=now)
    if restricted is not None:
        kind, until = restricted
        if kind == "inactive":
            raise ChatRefused("not_allowed")
        if kind == "blocked":
            raise ChatRefused("blocked")
        if kind == "ban":
            raise ChatRefused("banned")
        raise ChatRefused("timed_out", retry_after=_seconds_until(until, now))
    privileged = (
        is_owner or user.is_staff or hotpath.is_appointed(broadcaster_id=owner_id, user_id=user.pk)
    )
    x_post, x_retry = None, None
    if post_to_x:
        since = now - timedelta(seconds=X_ECHO_INTERVAL)
        last_echo = hotpath.last_x_echo_time(user_id=user.pk, since=since)
        if last_echo is not None:
            x_post = "rate_limited"
            x_retry = _seconds_until(last_echo + timedelta(seconds=X_ECHO_INTERVAL), now)
            post_to_x = False

    refusal = None
    with transaction.atomic():
        # Lock the room first: messages of one room are then checked and stored one at
        # a time, so two sockets of one user can't both slip under a limit.
        room = hotpath.lock_room(broadcast.pk)
        if room is None:
            selectors.room_for(broadcast=broadcast)
            room = hotpath.lock_room(broadcast.pk)
        if room["state"] == "ended":
            raise ChatRefused("chat_closed")
        if not privileged:
            if not room["chat_enabled"]:
                raise ChatRefused("chat_off")
            if room["established_only"] and not _is_established(user, room, now):
                raise ChatRefused("not_established")
        if not is_owner:
            refusal = _speed_refusal(
                user=user, room=room, room_id=broadcast.pk, privileged=privileged, now=now
            )
        if refusal is None:
            held_by = _matching_filter(text, owner_id)
            seq = None if held_by else hotpath.next_seq(broadcast.pk)
            message = ChatMessage(
                room_id=broadcast.pk,
                author=user,
                text=text,
                created_at=now,
                post_to_x=post_to_x,
                seq=seq,
                status=ChatMessage.Status.HELD if held_by else ChatMessage.Status.VISIBLE,
                held_reason=f"matched filter: {held_by}" if held_by else "",
            )
            message.pk = hotpath.insert_message(
                room_id=broadcast.pk,
                author_id=user.pk,
                text=text,
                status=message.status,
                held_reason=message.held_reason,
                post_to_x=post_to_x,
                seq=seq,
                now=now,
            )
            if held_by:
                payload = selectors.held_payload(message)
                transaction.on_commit(
                    lambda: hub.publish_to_moderators(
                        broadcast.pk, {"type": "held", "message": payload}
                    )
                )
            else:
                _store_event(
                    broadcast.pk, seq, selectors.message_payload(message, author=user), now
                )
    if refusal is not None:
        if refusal.code != "rate_limited":
            raise refusal
        # Outside the transaction: an automatic timeout is its own recorded act.
        timed_out_for = _record_speed_violation(user=user, broadcast=broadcast, now=now)
        if timed_out_for:
            raise ChatRefused("timed_out", retry_after=timed_out_for)
        raise refusal
    if post_to_x and seq is not None:
        x_post = _request_x_echo(message=message, broadcast=broadcast)
    return PostResult(
        message=message, seq=seq, held=seq is None, x_post=x_post, x_retry_after=x_retry
    )


def _speed_refusal(*, user, room, room_id, privileged, now):
    """The rate limit (every room, per user), then slow mode (this room)."""
    recent = hotpath.recent_message_times(
        user_id=user.pk, since=now - timedelta(seconds=RATE_LIMIT_WINDOW), limit=RATE_LIMIT_COUNT
    )
    if len(recent) >= RATE_LIMIT_COUNT:
        retry = _seconds_until(recent[-1] + timedelta(seconds=RATE_LIMIT_WINDOW), now)
        return ChatRefused("rate_limited", retry_after=retry)
    slow = room["slow_mode_seconds"]
    if privileged or not slow:
        return None
    last = hotpath.last_message_time(room_id=room_id, user_id=user.pk)
    if last and now - last < timedelta(seconds=slow):
        return ChatRefused(
            "slow_mode", retry_after=_seconds_until(last + timedelta(seconds=slow), now)
        )
    return None


def _matching_filter(text, broadcaster_id):
    folded = text.casefold()
    for phrase in hotpath.filter_phrases(broadcaster_id=broadcaster_id):
        if phrase and phrase in folded:
            return phrase
    return None


def _publish_message(message, author):
    seq = _append_event(
        message.room_id, "message", selectors.message_payload(message, author=author)
    )
    message.seq = seq
    ChatMessage.objects.filter(pk=message.pk).update(seq=seq)
    return seq


def _request_x_echo(*, message, broadcast):
    """Ask the X posting job to post this message with the watch link (after commit)."""
    try:
        from broadcast.posting import chat_echo_text, request_post
    except ImportError:
        return "unavailable"
    link = f"{settings.PUBLIC_URL}{broadcast.get_absolute_url()}"
    try:
        request_post(
            user=message.author,
            purpose="chat_echo",
            source_key=str(message.pk),
            text=chat_echo_text(message_text=message.text, link=link),
            broadcast=broadcast,
        )
    except Exception:
        logger.exception("chat echo to X could not be requested for message %s", message.pk)
        return "unavailable"
    return "requested"


def _message_for_moderation(*, message_id, by):
    message = (
        ChatMessage.objects.select_related("room__broadcast", "author")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise ChatRefused("not_found")
    _require_moderator(by, message.room.broadcast)
    return message


def delete_message(*, message_id, by):
    """Remove a message for everyone: a numbered delete event every client applies."""
    with transaction.atomic():
        message = _message_for_moderation(message_id=message_id, by=by)
        message = ChatMessage.objects.select_for_update().get(pk=message.pk)
        broadcast = ChatRoom.objects.get(pk=message.room_id).broadcast
        if message.status == ChatMessage.Status.DELETED:
            raise ChatRefused("not_found")
        was_visible = message.status == ChatMessage.Status.VISIBLE
        message.status = ChatMessage.Status.DELETED
        message.deleted_at = timezone.now()
        message.deleted_by = by if by and by.is_authenticated else None
        message.save(update_fields=["status", "deleted_at", "deleted_by"])
        if message.seq is not None:
            # The text must not stay readable through a sync from an older seq.
            _blank_stored_message(message)
        if was_visible:
            _append_event(message.room_id, EVENT_DELETE, {"type": EVENT_DELETE, "id": message.pk})
        _record(
            actor=by,
            broadcast=broadcast,
            action=ModerationAction.Action.DELETE,
            target_user=message.author,
            message=message,
            text=message.text,
        )
    return message


def _blank_stored_message(message):
    for event in ChatEvent.objects.select_for_update().filter(
        room_id=message.room_id, seq=message.seq, kind="message"
    ):
        event.payload = blanked_message(event.payload)
        event.save(update_fields=["payload"])


def approve_message(*, message_id, by):
    """A held message becomes visible to everyone, numbered at approval time."""
    with transaction.atomic():
        message = _message_for_moderation(message_id=message_id, by=by)
        message = (
            ChatMessage.objects.select_for_update().select_related("author").get(pk=message.pk)
        )
        if message.status != ChatMessage.Status.HELD:
            raise ChatRefused("not_found")
        broadcast = ChatRoom.objects.get(pk=message.room_id).broadcast
        message.status = ChatMessage.Status.VISIBLE
        message.save(update_fields=["status"])
        seq = _publish_message(message, message.author)
        _record(
            actor=by,
            broadcast=broadcast,
            action=ModerationAction.Action.APPROVE,
            target_user=message.author,
            message=message,
            reason=message.held_reason,
        )
        room_id = message.room_id
        transaction.on_commit(
            lambda: hub.publish_to_moderators(room_id, {"type": "held_resolved", "id": message.pk})
        )
    if message.post_to_x:
        _request_x_echo(message=message, broadcast=broadcast)
    return seq


def reject_message(*, message_id, by):
    with transaction.atomic():
        message = _message_for_moderation(message_id=message_id, by=by)
        message = ChatMessage.objects.select_for_update().get(pk=message.pk)
        if message.status != ChatMessage.Status.HELD:
            raise ChatRefused("not_found")
        broadcast = ChatRoom.objects.get(pk=message.room_id).broadcast
        message.status = ChatMessage.Status.REJECTED
        message.save(update_fields=["status"])
        _record(
            actor=by,
            broadcast=broadcast,
            action=ModerationAction.Action.REJECT,
            target_user=message.author,
            message=message,
            reason=message.held_reason,
            text=message.text,
        )
        room_id = message.room_id
        transaction.on_commit(
            lambda: hub.publish_to_moderators(room_id, {"type": "held_resolved", "id": message.pk})
        )
    return message


# --- restrictions ---------------------------------------------------------------------
def _restrict(*, broadcast, target, by, seconds, reason, action):
    if by is not None:
        _require_moderator(by, broadcast)
    if target.pk == broadcast.owner_id or selectors.is_moderator(
        user=target, broadcaster_id=broadcast.owner_id
    ):
        # The broadcaster and their moderators can't be restricted in their own chat
        # (staff moderate everywhere); remove the moderator first.
        raise ChatRefused("forbidden")
    now = timezone.now()
    expires_at = now + timedelta(seconds=seconds) if seconds else None
    with transaction.atomic():
        ban = ChatBan.objects.create(
            broadcaster_id=broadcast.owner_id,
            user=target,
            expires_at=expires_at,
            reason=reason[:200],
            created_by=by,
        )
        _record(
            actor=by,
            broadcast=broadcast,
            action=action,
            target_user=target,
            seconds=seconds,
            reason=reason[:200],
        )
        room = selectors.room_for(broadcast=broadcast)
        code = "timed_out" if seconds else "banned"
        notice = {"type": "notice", "code": code, "message": str(ERRORS[code])}
        if seconds:
            notice["retry_after"] = seconds
        transaction.on_commit(lambda: hub.publish_to_user(room.pk, target.pk, notice))
    return ban


def timeout_user(*, broadcast, target, seconds, by, reason=""):
    """Keep a user out of the broadcaster's chats for 1 minute to 24 hours."""
    if not TIMEOUT_MIN_SECONDS <= seconds <= TIMEOUT_MAX_SECONDS:
        raise ChatRefused("invalid", detail="seconds")
    return _restrict(
        broadcast=broadcast,
        target=target,
        by=by,
        seconds=seconds,
        reason=reason,
        action=ModerationAction.Action.TIMEOUT,
    )


def ban_user(*, broadcast, target, by, reason=""):
    """Ban a user from all of this broadcaster's chats until lifted."""
    return _restrict(
        broadcast=broadcast,
        target=target,
        by=by,
        seconds=None,
        reason=reason,
        action=ModerationAction.Action.BAN,
    )


def lift_restrictions(*, broadcast, target, by):
    _require_moderator(by, broadcast)
    with transaction.atomic():
        lifted = ChatBan.objects.filter(
            broadcaster_id=broadcast.owner_id, user=target, lifted_at=None
        ).update(lifted_at=timezone.now())
        _record(
            actor=by, broadcast=broadcast, action=ModerationAction.Action.UNBAN, target_user=target
        )
    return lifted


# --- modes ----------------------------------------------------------------------------
def set_chat_modes(
    *,
    broadcast,
    by,
    chat_enabled=None,
    slow_mode_seconds=None,
    established_only=None,
    established_x_days=None,
    established_account_minutes=None,
):
    """Change modes live; every client gets a numbered mode event. by=None: the system
    (e.g. a takedown turning the chat off)."""
    if by is not None:
        _require_moderator(by, broadcast)
    if slow_mode_seconds and not SLOW_MODE_MIN <= slow_mode_seconds <= SLOW_MODE_MAX:
        raise ChatRefused("invalid", detail="slow_mode_seconds")
    if established_x_days is not None and not 0 <= established_x_days <= 3650:
        raise ChatRefused("invalid", detail="established_x_days")
    if established_account_minutes is not None and not 0 <= established_account_minutes <= 525600:
        raise ChatRefused("invalid", detail="established_account_minutes")
    changes = {
        name: value
        for name, value in {
            "chat_enabled": chat_enabled,
            "slow_mode_seconds": slow_mode_seconds,
            "established_only": established_only,
            "established_x_days": established_x_days,
            "established_account_minutes": established_account_minutes,
        }.items()
        if value is not None
    }
    if not changes:
        return selectors.room_for(broadcast=broadcast)
    with transaction.atomic():
        room = ChatRoom.objects.select_for_update().get(
            pk=selectors.room_for(broadcast=broadcast).pk
        )
        for name, value in changes.items():
            setattr(room, name, value)
        room.save(update_fields=list(changes) or None)
        _append_event(room.pk, EVENT_MODE, {"type": EVENT_MODE, "modes": room.modes()})
        _record(actor=by, broadcast=broadcast, action=ModerationAction.Action.MODE, **changes)
    return room


def close_room(*, broadcast, reason):
    """Close a broadcast's chat for everyone now: a numbered `closed` event reaches every
    connected client in every process (and any that resumes), which disables its input.
    Messages are refused from the broadcast's end on (`chat_closed`); this makes it
    visible at once. Idempotent: returns False when the room was already closed."""
    with transaction.atomic():
        room = ChatRoom.objects.select_for_update().get(
            pk=selectors.room_for(broadcast=broadcast).pk
        )
        if ChatEvent.objects.filter(room=room, kind=EVENT_CLOSED).exists():
            return False
        _append_event(room.pk, EVENT_CLOSED, {"type": EVENT_CLOSED, "reason": reason})
    return True


# --- moderators and filters -----------------------------------------------------------
def add_moderator(*, broadcast, user, by):
    _require_broadcaster(by, broadcast)
    if user.pk == broadcast.owner_id:
        raise ChatRefused("invalid")
    with transaction.atomic():
        _, created = Moderator.objects.get_or_create(broadcaster_id=broadcast.owner_id, user=user)
        if created:
            _record(
                actor=by,
                broadcast=broadcast,
                action=ModerationAction.Action.ADD_MODERATOR,
                target_user=user,
            )
            room = selectors.room_for(broadcast=broadcast)
            transaction.on_commit(
                lambda: hub.publish_to_user(room.pk, user.pk, {"type": "role", "role": "moderator"})
            )
    return created


def remove_moderator(*, broadcast, user, by):
    _require_broadcaster(by, broadcast)
    with transaction.atomic():
        removed, _ = Moderator.objects.filter(broadcaster_id=broadcast.owner_id, user=user).delete()
        if removed:
            _record(
                actor=by,
                broadcast=broadcast,
                action=ModerationAction.Action.REMOVE_MODERATOR,
                target_user=user,
            )
            room = selectors.room_for(broadcast=broadcast)
            transaction.on_commit(
                lambda: hub.publish_to_user(room.pk, user.pk, {"type": "role", "role": "viewer"})
            )
    return bool(removed)


def _clean_phrase(phrase):
    phrase = " ".join(str(phrase).split()).casefold()
    if not phrase or len(phrase) > 100:
        raise ChatRefused("invalid", detail="phrase")
    return phrase


def add_filter_word(*, phrase, by, broadcast=None):
    """A broadcaster's word (broadcast given) or a site-wide one (staff, no broadcast)."""
    phrase = _clean_phrase(phrase)
    if broadcast is None:
        if not by or not by.is_staff:
            raise ChatRefused("forbidden")
        owner_id = None
    else:
        _require_broadcaster(by, broadcast)
        owner_id = broadcast.owner_id
    with transaction.atomic():
        word, created = FilterWord.objects.get_or_create(
            broadcaster_id=owner_id, phrase=phrase, defaults={"created_by": by}
        )
        if created:
            _record(
                actor=by,
                broadcast=broadcast,
                action=ModerationAction.Action.ADD_FILTER,
                phrase=phrase,
            )
    return word


def remove_filter_word(*, phrase, by, broadcast=None):
    phrase = _clean_phrase(phrase)
    if broadcast is None:
        if not by or not by.is_staff:
            raise ChatRefused("forbidden")
        owner_id = None
    else:
        _require_broadcaster(by, broadcast)
        owner_id = broadcast.owner_id
    with transaction.atomic():
        removed, _ = FilterWord.objects.filter(broadcaster_id=owner_id, phrase=phrase).delete()
        if removed:
            _record(
                actor=by,
                broadcast=broadcast,
                action=ModerationAction.Action.REMOVE_FILTER,
                phrase=phrase,
            )
    return bool(removed)


def record_filter_change(*, word, by, added):
    """For the admin, which edits FilterWord rows directly: keep the audit trail."""
    ModerationAction.objects.create(
        actor=by,
        broadcaster_id=word.broadcaster_id,
        action=ModerationAction.Action.ADD_FILTER
        if added
        else ModerationAction.Action.REMOVE_FILTER,
        details={"phrase": word.phrase},
    )


__all__ = [
    "MAX_TEXT",
    "ChatRefused",
    "PostResult",
    "add_filter_word",
    "add_moderator",
    "approve_message",
    "ban_user",
    "close_room",
    "delete_message",
    "lift_restrictions",
    "post_message",
    "reject_message",
    "remove_filter_word",
    "remove_moderator",
    "set_chat_modes",
    "timeout_user",
]
