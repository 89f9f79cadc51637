"""Erasing what one person wrote in chat, for the deletion of their account.

A room's event log is numbered without gaps (clients resume by seq), so an erased
message's event stays in place with its text, name and author id blanked; a visible
message also gets a numbered delete event, so that open pages and every hub's memory
of the room drop it at once; a held one leaves the moderators' queue. Then the message
rows go. Each room is done in its own short transactions (its row is locked while
events are numbered), never one long transaction over every room.
"""

from django.db import transaction
from django.utils import timezone

from chat import hotpath, hub
from chat.models import ChatEvent, ChatMessage
from chat.protocol import EVENT_DELETE, dumps, encode_event, erased_message

# Messages erased per transaction: bounds how long a live room waits for its lock.
BATCH = 200


def erase_messages_of(*, author, keep_room_ids=()):
    """Erase every chat message `author` wrote, except in the rooms of `keep_room_ids`
    (a legal hold). Returns how many messages were erased."""
    keep = set(keep_room_ids)
    erased = 0
    while True:
        batch = list(
            ChatMessage.objects.filter(author=author)
            .exclude(room_id__in=keep)
            .order_by("room_id", "pk")
            .values_list("room_id", "pk")[:BATCH]
        )
        if not batch:
            return erased
        by_room = {}
        for room_id, pk in batch:
            by_room.setdefault(room_id, []).append(pk)
        for room_id, ids in by_room.items():
            erased += _erase_in_room(room_id=room_id, message_ids=ids)


@transaction.atomic
def _erase_in_room(*, room_id, message_ids):
    # The room first, as chat.services.post_message takes it: one lock order for both.
    hotpath.lock_room(room_id)
    messages = list(
        ChatMessage.objects.select_for_update()
        .filter(room_id=room_id, pk__in=message_ids)
        .values_list("pk", "seq", "status")
    )
    seqs = [seq for _, seq, _ in messages if seq is not None]
    events = list(
        ChatEvent.objects.select_for_update().filter(
            room_id=room_id, seq__in=seqs, kind=ChatEvent.Kind.MESSAGE
        )
    )
    for event in events:
        event.payload = erased_message(event.payload)
    ChatEvent.objects.bulk_update(events, ["payload"])
    now = timezone.now()
    for pk, seq, status in messages:
        if status == ChatMessage.Status.VISIBLE and seq is not None:
            _append_delete_event(room_id, pk, now)
        elif status == ChatMessage.Status.HELD:
            payload = {"type": "held_resolved", "id": pk}
            transaction.on_commit(lambda p=payload: hub.publish_to_moderators(room_id, p))
    ChatMessage.objects.filter(pk__in=[pk for pk, _, _ in messages]).delete()
    return len(messages)


def _append_delete_event(room_id, message_id, now):
    """The numbered delete event a moderator's deletion adds (chat.services), marked
    "erased": hubs then forget the author's name along with the text."""
    payload = {"type": EVENT_DELETE, "id": message_id, "erased": True}
    seq = hotpath.next_seq(room_id)
    hotpath.insert_event(
        room_id=room_id, seq=seq, kind=EVENT_DELETE, payload_json=dumps(payload), now=now
    )
    encoded = encode_event(seq, payload)
    transaction.on_commit(lambda: hub.publish_event(room_id, seq, encoded))
