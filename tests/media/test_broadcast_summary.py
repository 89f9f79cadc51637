"""The end of a broadcast as its owner reads it (duration, peak viewers, chat messages),
and only its owner; the go-live page's share intent for posting the link by hand."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from broadcast.models import Broadcast
from broadcast.summary import share_intent_url
from chat.models import ChatMessage
from tests.factories import BroadcastFactory, ChatMessageFactory, chat_room_of
from tests.media.conftest import adult

pytestmark = pytest.mark.django_db


def live_for(seconds, *, owner, peak=0):
    return BroadcastFactory(
        owner=owner,
        live=True,
        started_at=timezone.now() - timedelta(seconds=seconds),
        peak_viewers=peak,
    )


def test_ending_answers_with_the_summary(client):
    owner = adult(username="summed")
    broadcast = live_for(125, owner=owner, peak=7)
    room = chat_room_of(broadcast)
    ChatMessageFactory.create_batch(3, room=room)
    deleted = ChatMessageFactory(room=room)
    ChatMessage.objects.filter(pk=deleted.pk).update(status=ChatMessage.Status.DELETED)
    # Held for review and never approved: nobody saw it, it does not count.
    ChatMessage.objects.create(room=room, author=owner, text="held", status="held")

    client.force_login(owner)
    body = client.post(reverse("broadcast:end", args=[broadcast.slug])).json()

    assert body["state"] == "ended"
    summary = body["summary"]
    assert 125 <= summary["duration_s"] <= 185
    assert summary["peak_viewers"] == 7
    assert summary["chat_messages"] == 4


def test_only_the_owner_reads_the_summary_from_the_state_api(client):
    owner = adult(username="apisum")
    broadcast = live_for(30, owner=owner, peak=3)
    Broadcast.objects.filter(pk=broadcast.pk).update(
        state=Broadcast.State.ENDED, ended_at=broadcast.started_at + timedelta(seconds=42)
    )
    url = reverse("broadcast:api", args=[broadcast.slug])

    assert "summary" not in client.get(url).json()
    client.force_login(adult(username="someoneelse"))
    assert "summary" not in client.get(url).json()
    client.force_login(owner)
    assert client.get(url).json()["summary"] == {
        "duration_s": 42,
        "peak_viewers": 3,
        "chat_messages": 0,
    }


def test_someone_else_cannot_end_it_nor_read_its_summary_that_way(client):
    broadcast = live_for(10, owner=adult(username="mine"))
    client.force_login(adult(username="notmine"))
    response = client.post(reverse("broadcast:end", args=[broadcast.slug]))
    assert response.status_code == 403
    assert b"peak_viewers" not in response.content
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.LIVE


def test_the_share_intent_is_xs_documented_compose_link():
    url = share_intent_url(title="Rain & sun, live", watch_url="https://onair.example/b/abc/")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "x.com", "/intent/tweet")
    assert parse_qs(parts.query) == {
        "text": ["Rain & sun, live"],
        "url": ["https://onair.example/b/abc/"],
    }
    assert "+" not in parts.query  # spaces as %20, as X's documentation writes them


def test_the_live_page_carries_the_share_intent_and_the_title(client):
    owner = adult(username="sharer")
    broadcast = live_for(5, owner=owner)
    broadcast.title = "Night <market>"
    broadcast.save()
    client.force_login(owner)
    html = client.get(reverse("broadcast:go_live")).content.decode()
    assert 'data-share-url="https://x.com/intent/tweet?text=Night%20%3Cmarket%3E&amp;url=' in html
    assert "Night &lt;market&gt;</h1>" in html
    assert "<market>" not in html  # escaped everywhere, the page's JSON included
