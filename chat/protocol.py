"""The chat socket's protocol (`/ws/b/<slug>/chat/`), shared by the consumer, the hub
and the tests. Documented in docs/protocol.md ("Chat")."""

import json
import re
import unicodedata
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

MAX_FRAME_CHARS = 16 * 1024  # 500 characters escaped as JSON fit easily
MAX_TEXT = 500
HISTORY_ON_JOIN = 50
SYNC_PAGE = 200

# Client -> server types.
SEND = "send"
SYNC = "sync"
PING = "ping"
DELETE = "delete"
TIMEOUT = "timeout"
BAN = "ban"
UNBAN = "unban"
APPROVE = "approve"
REJECT = "reject"
SET_MODE = "set_mode"
HELD_LIST = "held_list"
ADD_MODERATOR = "add_moderator"
REMOVE_MODERATOR = "remove_moderator"
ADD_FILTER = "add_filter"
REMOVE_FILTER = "remove_filter"
CLIENT_TYPES = {
    SEND,
    SYNC,
    PING,
    DELETE,
    TIMEOUT,
    BAN,
    UNBAN,
    APPROVE,
    REJECT,
    SET_MODE,
    HELD_LIST,
    ADD_MODERATOR,
    REMOVE_MODERATOR,
    ADD_FILTER,
    REMOVE_FILTER,
}

# Numbered room events (server -> client, inside "events"/"history" frames).
EVENT_MESSAGE = "message"
EVENT_DELETE = "delete"
EVENT_MODE = "mode"
# The room closed for good (a takedown): clients stop offering to write.
EVENT_CLOSED = "closed"

TIMEOUT_MIN_SECONDS = 60
TIMEOUT_MAX_SECONDS = 24 * 3600
SLOW_MODE_MIN = 3
SLOW_MODE_MAX = 120

# Stable error codes and the sentence a person reads.
ERRORS = {
    "bad_frame": _("Only text frames are accepted."),
    "too_large": _("That frame is too large."),
    "bad_json": _("That was not valid JSON."),
    "unknown_type": _("Unknown message type."),
    "invalid": _("That request is not valid."),
    "empty": _("Your message is empty."),
    "too_long": _("Messages are limited to 500 characters."),
    "sign_in_required": _("Sign in with X to chat."),
    "not_allowed": _("You can't chat on OnAir."),
    "chat_off": _("The chat is off."),
    "chat_closed": _("This chat is closed."),
    "not_established": _("This chat is limited to established accounts."),
    "slow_mode": _("Slow mode is on: wait a little before your next message."),
    "rate_limited": _("You are sending messages too fast."),
    "timed_out": _("You are timed out of this chat."),
    "banned": _("You are banned from this broadcaster's chats."),
    "account_banned": _("Your account was banned from OnAir: you can no longer chat."),
    "blocked": _("This broadcaster has blocked you: you can't chat in their broadcasts."),
    "forbidden": _("Only the broadcaster and moderators can do that."),
    "not_found": _("That no longer exists."),
    "x_post_rate_limited": _("You can post a chat message to X once a minute."),
    "x_post_unavailable": _("Posting to X is not available right now."),
    "server_error": _("Something went wrong on our side. Please try again."),
}


class ChatRefused(Exception):
    """A request the rules refuse: carries the stable code and, when waiting helps, how
    many seconds to wait."""

    def __init__(self, code, retry_after=None, detail=None):
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after
        self.detail = detail

    def as_frame(self, ref=None):
        return error_frame(self.code, retry_after=self.retry_after, ref=ref)


def error_frame(code, *, retry_after=None, ref=None):
    frame = {"type": "error", "code": code, "message": str(ERRORS.get(code, code))}
    if retry_after is not None:
        frame["retry_after"] = round(max(float(retry_after), 0.1), 1)
    if ref is not None:
        frame["ref"] = ref
    return frame


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def encode_event(seq, payload):
    """One numbered event, encoded once and shared by every viewer's frame."""
    return dumps({"seq": seq, **payload})


def blanked_message(payload):
    """A deleted message's stored event: same id and seq, no text left to read."""
    return {**payload, "text": "", "deleted": True}


def erased_message(payload):
    """The stored event of a message whose author deleted their account: no text, and
    no name or id left to say who wrote it."""
    return {**blanked_message(payload), "user": {"id": None, "handle": "", "name": ""}}


def events_frame(encoded_events, *, kind="events", **extra):
    """Join already-encoded events into one frame without decoding them again."""
    head = dumps({"type": kind, **extra})[:-1]
    return f'{head},"events":[{",".join(encoded_events)}]}}'


# --- Text normalisation ---------------------------------------------------------------
# Kept format characters: joiners that emoji and Persian/Indic scripts need, and the tag
# characters of subdivision flags. Everything else of category Cf (bidi overrides and
# isolates, zero-width spaces, BOM, invisible operators) is dropped, as are controls.
_KEEP_FORMAT = {"\u200c", "\u200d"}
_MAX_COMBINING_RUN = 4
_SPACES = re.compile(r"\s+")


def normalise_text(text):
    """NFC, no control or invisible formatting characters, at most a few combining marks
    in a row (no "zalgo"), whitespace collapsed to single spaces, trimmed."""
    text = unicodedata.normalize("NFC", text)
    out = []
    combining = 0
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
            combining = 0
            continue
        if category == "Cs":
            continue
        if category == "Cf" and ch not in _KEEP_FORMAT and not ("\U000e0020" <= ch <= "\U000e007f"):
            continue
        if category.startswith("M"):
            combining += 1
            if combining > _MAX_COMBINING_RUN:
                continue
        else:
            combining = 0
        out.append(ch)
    return _SPACES.sub(" ", "".join(out)).strip()


def clean_message_text(text):
    if not isinstance(text, str):
        raise ChatRefused("invalid")
    # Cheap early refusal before normalising something huge.
    if len(text) > MAX_TEXT * 8:
        raise ChatRefused("too_long")
    text = normalise_text(text)
    if not text:
        raise ChatRefused("empty")
    if len(text) > MAX_TEXT:
        raise ChatRefused("too_long")
    return text


# --- Frame parsing --------------------------------------------------------------------
@dataclass
class Frame:
    type: str
    data: dict
    ref: object = None


def parse_frame(text_data, bytes_data=None):
    """Turn one WebSocket frame into a Frame or raise ChatRefused with the reason."""
    if text_data is None:
        raise ChatRefused("bad_frame")
    if len(text_data) > MAX_FRAME_CHARS:
        raise ChatRefused("too_large")
    try:
        data = json.loads(text_data)
    except ValueError as exc:
        raise ChatRefused("bad_json") from exc
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ChatRefused("unknown_type")
    if data["type"] not in CLIENT_TYPES:
        raise ChatRefused("unknown_type")
    ref = data.get("ref")
    if ref is not None and not (isinstance(ref, str | int) and len(str(ref)) <= 64):
        ref = None
    return Frame(type=data["type"], data=data, ref=ref)


def int_field(data, name, *, minimum=None, maximum=None, required=True, default=None):
    value = data.get(name, default)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ChatRefused("invalid", detail=name)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ChatRefused("invalid", detail=name)
    return value


def bool_field(data, name):
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ChatRefused("invalid", detail=name)
    return value


def str_field(data, name, *, max_length=100):
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise ChatRefused("invalid", detail=name)
    return value.strip()
