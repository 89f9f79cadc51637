"""Taking a broadcast down: it ends as "removed" for its viewers, publisher and chat in
every web process, its X post is deleted, its owner is told, the act is audit-logged,
and the owner is not restricted unless staff ask for it."""

import asyncio
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from broadcast import posting
from broadcast.models import Broadcast, XPost
from chat.models import ChatEvent
from safety.models import AuditEntry, Notice, Reason, Restriction
from safety.takedown import take_down
from tests.chat.support import ChatSocket, chatter
from tests.chat.support import session_cookie as chat_cookie
from tests.conftest import DaphneServer
from tests.factories import BroadcastFactory, UserFactory
from tests.media.conftest import adult
from tests.media.sockets import connect, next_json, publish_path, recorded_chunks

pytestmark = pytest.mark.django_db(transaction=True)

FAKE_CAMERA = Path(__file__).parent.parent / "media" / "fixtures" / "fake-camera-250ms.webm"


def staff_member(**fields):
    return UserFactory(is_staff=True, **fields)


def live(**fields):
    fields.setdefault("owner", adult())
    return BroadcastFactory(live=True, **fields)


def test_take_down_ends_the_broadcast_as_removed_and_records_everything():
    moderator = staff_member(username="mod-ann", handle="mod_ann")
    broadcast = live(title="Something bad", owner=adult(username="bad", handle="bad_actor"))
    post = posting.request_go_live_post(broadcast=broadcast)

    done = take_down(
        broadcast=broadcast, by=moderator, rule=Reason.CRIME, reason="Violence on camera."
    )

    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.ENDED
    assert broadcast.end_reason == "removed"
    assert broadcast.ended_at is not None
    # The owner is told which rule, and may appeal.
    notice = done.notice
    assert (notice.user, notice.action, notice.rule) == (
        broadcast.owner,
        Notice.Action.TAKEDOWN,
        Reason.CRIME,
    )
    assert notice.broadcast == broadcast and notice.issued_by == moderator
    assert notice.explanation == "Violence on camera."
    # The chat is closed for everyone: a numbered event every client gets.
    closed = ChatEvent.objects.get(room_id=broadcast.pk, kind="closed")
    assert closed.payload == {"type": "closed", "reason": "removed"}
    # The X post is on its way out.
    post.refresh_from_db()
    assert post.deletion_state == XPost.DeletionState.REQUESTED
    # The act, with the broadcast as it was.
    entry = AuditEntry.objects.get(action="takedown")
    assert entry.actor == moderator and entry.actor_label == "@mod_ann"
    assert (entry.target_kind, entry.target_id) == ("broadcast", str(broadcast.pk))
    assert entry.reason == "Violence on camera."
    snapshot = entry.target_snapshot
    assert snapshot["slug"] == broadcast.slug and snapshot["title"] == "Something bad"
    assert snapshot["owner_id"] == broadcast.owner_id
    assert snapshot["owner_handle"] == "bad_actor"
    assert snapshot["started_at"] == broadcast.started_at.isoformat()
    assert snapshot["viewers"] == 0
    assert entry.details["rule"] == "crime"
    assert entry.details["x_posts_deleting"] == [post.pk]
    # A takedown alone does not restrict.
    assert done.restriction is None
    assert not Restriction.objects.exists()


def test_takedown_deletes_the_owners_posts_about_it_not_the_viewers_echoes():
    broadcast = live()
    viewer = chatter()

    def echo(user, key):
        return posting.request_post(
            user=user, purpose="chat_echo", source_key=key, text=key, broadcast=broadcast
        )

    go_live_post = posting.request_go_live_post(broadcast=broadcast)
    owners_echo, viewers_echo = echo(broadcast.owner, "owner-echo"), echo(viewer, "viewer-echo")

    take_down(broadcast=broadcast, by=staff_member(), rule=Reason.SPAM)

    for post in (go_live_post, owners_echo, viewers_echo):
        post.refresh_from_db()
    assert go_live_post.deletion_state == XPost.DeletionState.REQUESTED
    assert owners_echo.deletion_state == XPost.DeletionState.REQUESTED
    assert viewers_echo.deletion_state == XPost.DeletionState.NONE


def test_taking_down_twice_changes_nothing_more():
    moderator = staff_member()
    broadcast = live()
    take_down(broadcast=broadcast, by=moderator, rule=Reason.SPAM)

    again = take_down(broadcast=broadcast, by=staff_member(), rule=Reason.CRIME)

    assert again.already_removed
    assert Notice.objects.count() == 1
    assert AuditEntry.objects.filter(action="takedown").count() == 1
    assert ChatEvent.objects.filter(room_id=broadcast.pk, kind="closed").count() == 1


def test_a_broadcast_its_owner_already_ended_is_still_removed():
    broadcast = live()
    Broadcast.objects.filter(pk=broadcast.pk).update(state="ended", end_reason="owner")

    take_down(broadcast=broadcast, by=staff_member(), rule=Reason.HARASSMENT)

    broadcast.refresh_from_db()
    assert broadcast.end_reason == "removed"
    assert Notice.objects.filter(action=Notice.Action.TAKEDOWN, rule="harassment").exists()


def test_a_takedown_must_name_a_known_rule():
    broadcast = live()

    with pytest.raises(ValidationError):
        take_down(broadcast=broadcast, by=staff_member(), rule="made_up")

    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.LIVE
    assert not AuditEntry.objects.filter(action="takedown").exists()


def test_watch_page_of_a_removed_broadcast_says_it_was_removed(client):
    broadcast = live()
    take_down(broadcast=broadcast, by=staff_member(), rule=Reason.SEXUAL)

    page = client.get(f"/b/{broadcast.slug}/")

    html = page.content.decode()
    assert 'data-state="ended"' in html and 'data-end-reason="removed"' in html
    assert "This broadcast was removed for breaking the rules." in html


def test_staff_can_still_end_broadcasts_from_the_admin(client):
    admin = staff_member(is_superuser=True)
    broadcast = live()
    client.force_login(admin)

    response = client.post(
        "/admin/broadcast/broadcast/",
        {"action": "end_now", "_selected_action": [broadcast.pk]},
        follow=True,
    )

    assert response.status_code == 200
    broadcast.refresh_from_db()
    assert (broadcast.state, broadcast.end_reason) == ("ended", "admin")


def test_take_down_can_also_restrict_the_owner():
    moderator = staff_member()
    broadcast = live()

    done = take_down(broadcast=broadcast, by=moderator, rule=Reason.CHILD_SAFETY, restrict_days=30)

    restriction = done.restriction
    assert restriction.user == broadcast.owner and restriction.rule == "child_safety"
    assert 29 <= (restriction.until - restriction.created_at).days <= 30
    assert AuditEntry.objects.get(action="takedown").details["restriction_id"] == restriction.pk
    broadcast.refresh_from_db()
    assert broadcast.end_reason == "removed"  # not "restricted": the takedown came first


# --- every web process, over real sockets ---------------------------------------------


@pytest.fixture
def web_servers(live_server_process, tmp_path):
    """Two web processes sharing broadcasts and chat through Redis, as in production;
    without Redis (embedded mode, one web process) both entries are the same server."""
    if not settings.REDIS_URL:
        yield [live_server_process, live_server_process]
        return
    second = DaphneServer(tmp_path, name="web-takedown")
    yield [live_server_process, second]
    second.stop()


def take_down_in_a_thread(broadcast_pk, moderator_pk):
    try:
        take_down(
            broadcast=Broadcast.objects.get(pk=broadcast_pk),
            by=UserFactory._meta.model.objects.get(pk=moderator_pk),
            rule=Reason.CRIME,
        )
    finally:
        connection.close()


def test_viewers_publisher_and_chat_in_every_process_see_the_removal(web_servers, client):
    one, two = web_servers
    owner = adult(username="td-owner", handle="td_owner")
    broadcast = live(owner=owner)
    slug = broadcast.slug
    owner_cookie = chat_cookie(owner)
    chunks = recorded_chunks(FAKE_CAMERA.read_bytes())
    moderator = staff_member(username="td-mod")

    async def scenario():
        async with connect(one, publish_path(slug), owner_cookie) as publisher:
            await next_json(publisher, kind="ready")
            for chunk in chunks[:4]:
                await publisher.send(chunk)
            async with (
                connect(one, f"/ws/b/{slug}/watch/") as viewer_one,
                connect(two, f"/ws/b/{slug}/watch/") as viewer_two,
            ):
                await next_json(viewer_one, kind="state")
                await next_json(viewer_two, kind="state")
                chats = [
                    await ChatSocket.open(one, slug, chat_cookie(chatter())),
                    await ChatSocket.open(two, slug),
                ]

                await asyncio.to_thread(take_down_in_a_thread, broadcast.pk, moderator.pk)

                ended = [
                    await next_json(viewer, kind="ended", timeout=15)
                    for viewer in (viewer_one, viewer_two)
                ]
                publisher_ended = await next_json(publisher, kind="ended", timeout=15)
                for chat in chats:
                    await chat.wait(
                        lambda s: any(
                            e.get("type") == "closed"
                            for f in s.frames
                            if f["type"] == "events"
                            for e in f["events"]
                        ),
                        timeout=15,
                        what="the chat to close",
                    )
                refused_message = await chats[0].request("send", text="still here?")
                for chat in chats:
                    await chat.ws.close()
            async with asyncio.timeout(15):
                await publisher.wait_closed()
        # The publisher cannot come back, and says why.
        async with connect(one, publish_path(slug), owner_cookie) as again:
            refusal = await next_json(again, kind="error")
            async with asyncio.timeout(15):
                await again.wait_closed()
            refused_close = again.close_code
        # Late viewers and chatters learn it at once.
        async with connect(two, f"/ws/b/{slug}/watch/") as late:
            late_ended = await next_json(late, kind="ended")
        late_chat = await ChatSocket.open(two, slug)
        hello = next(f for f in late_chat.frames if f["type"] == "hello")
        await late_chat.ws.close()
        return ended, publisher_ended, refused_message, refusal, refused_close, late_ended, hello

    ended, publisher_ended, refused_message, refusal, refused_close, late_ended, hello = (
        asyncio.run(scenario())
    )
    assert [message["reason"] for message in ended] == ["removed", "removed"]
    assert publisher_ended == {"type": "ended", "reason": "removed"}
    assert refused_message["code"] == "chat_closed"
    assert refusal == {"type": "error", "code": "not_live", "reason": "removed"}
    assert refused_close == 4403
    assert late_ended == {"type": "ended", "reason": "removed"}
    assert hello["closed"] == "removed"


def test_a_restriction_asked_with_a_second_takedown_is_still_made_once():
    broadcast = live()
    take_down(broadcast=broadcast, by=staff_member(), rule=Reason.CRIME)

    again = take_down(broadcast=broadcast, by=staff_member(), rule=Reason.CRIME, restrict_days=30)
    third = take_down(broadcast=broadcast, by=staff_member(), rule=Reason.CRIME, restrict_days=30)

    assert again.already_removed and again.restriction is not None
    assert third.restriction == again.restriction
    assert Restriction.objects.filter(user=broadcast.owner).count() == 1
