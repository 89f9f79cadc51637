"""What a broadcaster reads when their broadcast ends: how long it ran, its largest
audience, how many chat messages it had. Only its owner is shown this (the views check):
the audience of an unlisted broadcast is nobody else's business."""

from urllib.parse import quote, urlencode

from django.utils import timezone

from broadcast.models import Broadcast
from chat.models import ChatMessage

# X's documented web intent for composing a post (docs.x.com, "Web intent").
X_SHARE_INTENT = "https://x.com/intent/tweet"


def chat_message_count(broadcast):
    """Messages the room saw: those that got an event number, deleted since or not.
    Held messages never approved, and rejected ones, were never shown."""
    return ChatMessage.objects.filter(room_id=broadcast.pk, seq__isnull=False).count()


def duration_seconds(broadcast):
    """From going live to its end (or to now while live); 0 if it never started."""
    if broadcast.started_at is None:
        return 0
    until = broadcast.ended_at or (
        timezone.now() if broadcast.state == Broadcast.State.LIVE else broadcast.started_at
    )
    return max(0, int((until - broadcast.started_at).total_seconds()))


def broadcast_summary(broadcast):
    return {
        "duration_s": duration_seconds(broadcast),
        "peak_viewers": broadcast.peak_viewers,
        "chat_messages": chat_message_count(broadcast),
    }


def share_intent_url(*, title, watch_url):
    """X's compose page with the title and the watch link filled in: the broadcaster can
    post the link by hand when OnAir could not post it for them."""
    query = urlencode({"text": title, "url": watch_url}, quote_via=quote)
    return f"{X_SHARE_INTENT}?{query}"
