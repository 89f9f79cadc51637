"""Chat reads: rooms, roles, restrictions, history by seq, held messages."""

from chat.models import ChatEvent, ChatMessage, ChatRoom, FilterWord, Moderator
from chat.protocol import HISTORY_ON_JOIN, SYNC_PAGE, encode_event


def room_for(*, broadcast):
    room, _ = ChatRoom.objects.get_or_create(broadcast=broadcast)
    return room


def is_moderator(*, user, broadcaster_id):
    if not user or not user.is_authenticated:
        return False
    if user.pk == broadcaster_id or user.is_staff:
        return True
    return Moderator.objects.filter(broadcaster_id=broadcaster_id, user_id=user.pk).exists()


def role_of(*, user, broadcast):
    """'broadcaster', 'moderator' (appointed, or staff), 'viewer' or 'anonymous'."""
    if not user or not user.is_authenticated:
        return "anonymous"
    if user.pk == broadcast.owner_id:
        return "broadcaster"
    if is_moderator(user=user, broadcaster_id=broadcast.owner_id):
        return "moderator"
    return "viewer"


def message_payload(message, *, author=None):
    author = author or message.author
    user = {"id": author.pk, "handle": author.handle, "name": author.name_for_display}
    return {
        "type": "message",
        "id": message.pk,
        "user": user,
        "text": message.text,
        "ts": message.created_at.isoformat(),
    }


def join_history(*, room_id):
    """What a new joiner gets: the room's last seq and its last 50 visible messages as
    encoded events, oldest first. Later events reach the joiner live or by catch-up."""
    last_seq = ChatRoom.objects.filter(pk=room_id).values_list("last_seq", flat=True).first()
    if last_seq is None:
        return 0, []
    messages = list(
        ChatMessage.objects.filter(
            room_id=room_id, status=ChatMessage.Status.VISIBLE, seq__lte=last_seq
        )
        .select_related("author")
        .order_by("-seq")[:HISTORY_ON_JOIN]
    )
    messages.reverse()
    return last_seq, [encode_event(m.seq, message_payload(m)) for m in messages]


def events_after(*, room_id, after_seq, limit=SYNC_PAGE):
    """Every stored event after `after_seq`, in order: [(seq, encoded), ...]."""
    rows = (
        ChatEvent.objects.filter(room_id=room_id, seq__gt=after_seq)
        .order_by("seq")
        .values_list("seq", "payload")[:limit]
    )
    return [(seq, encode_event(seq, payload)) for seq, payload in rows]


def room_last_seq(*, room_id):
    return ChatRoom.objects.filter(pk=room_id).values_list("last_seq", flat=True).first() or 0


def held_messages(*, room_id):
    return (
        ChatMessage.objects.filter(room_id=room_id, status=ChatMessage.Status.HELD)
        .select_related("author")
        .order_by("created_at")
    )


def held_payload(message):
    return {**message_payload(message), "reason": message.held_reason}


def broadcaster_filter_words(*, broadcaster_id):
    return list(
        FilterWord.objects.filter(broadcaster_id=broadcaster_id)
        .order_by("phrase")
        .values_list("phrase", flat=True)
    )
