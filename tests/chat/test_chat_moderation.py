"""Moderation and chat modes over real sockets: each act works live, is refused to
people who may not do it, tells the user why and for how long, and is recorded."""

import asyncio
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chat import services
from chat.models import ChatBan, ChatMessage, ModerationAction
from tests.chat.support import ChatSocket, chatter, live_broadcast, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


def actions(kind):
    return list(ModerationAction.objects.filter(action=kind))


def test_moderator_deletes_a_message_and_it_disappears_for_everyone(chat_servers):
    broadcast = live_broadcast()
    moderator, viewer = chatter(handle="mod_one"), chatter()
    first, second = chat_servers

    async def scenario():
        owner = await ChatSocket.open(first, broadcast.slug, session_cookie(broadcast.owner))
        appointed = await owner.request("add_moderator", handle="@MOD_one")
        mod = await ChatSocket.open(second, broadcast.slug, session_cookie(moderator))
        user = await ChatSocket.open(first, broadcast.slug, session_cookie(viewer))
        ack = await user.say("something rude")
        await mod.wait(lambda s: ack["id"] in s.messages, what="mod sees it")
        not_yours = await user.request("delete", id=ack["id"])
        done = await mod.request("delete", id=ack["id"])
        await user.wait(lambda s: ack["id"] not in s.messages, what="gone for the author")
        await owner.wait(lambda s: ack["id"] not in s.messages, what="gone for the owner")
        again = await mod.request("delete", id=ack["id"])
        for sock in (owner, mod, user):
            await sock.close()
        return appointed, mod, not_yours, done, again

    appointed, mod, not_yours, done, again = asyncio.run(scenario())
    assert appointed["type"] == "ok"
    assert mod.role == "moderator"
    assert not_yours["code"] == "forbidden"
    assert done["type"] == "ok"
    assert again["code"] == "not_found"
    (record,) = actions("delete")
    assert record.actor == moderator and record.target_user == viewer
    assert record.details["text"] == "something rude"
    assert ChatMessage.objects.get().status == "deleted"
    assert actions("add_moderator")[0].actor == broadcast.owner


def test_timed_out_user_is_told_why_and_for_how_long(chat_servers):
    broadcast = live_broadcast()
    viewer = chatter()

    async def scenario():
        owner = await ChatSocket.open(
            chat_servers[0], broadcast.slug, session_cookie(broadcast.owner)
        )
        user = await ChatSocket.open(chat_servers[1], broadcast.slug, session_cookie(viewer))
        too_short = await owner.request("timeout", user_id=viewer.pk, seconds=30)
        too_long = await owner.request("timeout", user_id=viewer.pk, seconds=25 * 3600)
        done = await owner.request("timeout", user_id=viewer.pk, seconds=120, reason="calm down")
        await user.wait(lambda s: s.of_type("notice"), what="timeout notice")
        refused = await user.say("but why")
        lifted = await owner.request("unban", user_id=viewer.pk)
        allowed = await user.say("thanks")
        for sock in (owner, user):
            await sock.close()
        return too_short, too_long, done, user.of_type("notice")[0], refused, lifted, allowed

    too_short, too_long, done, notice, refused, lifted, allowed = asyncio.run(scenario())
    assert too_short["code"] == too_long["code"] == "invalid"
    assert done["type"] == "ok"
    assert notice["code"] == "timed_out" and notice["retry_after"] == 120
    assert refused["code"] == "timed_out" and 100 < refused["retry_after"] <= 120
    assert lifted["type"] == "ok" and allowed["type"] == "ack"
    timeout = actions("timeout")[0]
    assert timeout.details == {"seconds": 120, "reason": "calm down"}
    assert actions("unban")[0].target_user == viewer


def test_banned_user_reads_but_cannot_write_in_any_of_the_broadcasters_chats(chat_servers):
    broadcast = live_broadcast()
    other_show = live_broadcast(owner=broadcast.owner)
    someone_else = live_broadcast()
    viewer = chatter()
    services.ban_user(broadcast=broadcast, target=viewer, by=broadcast.owner, reason="spam")
    cookie = session_cookie(viewer)

    async def scenario():
        banned = await ChatSocket.open(chat_servers[0], broadcast.slug, cookie)
        owner = await ChatSocket.open(
            chat_servers[1], broadcast.slug, session_cookie(broadcast.owner)
        )
        here = await banned.say("let me back")
        await owner.say("you can still read this")
        await banned.wait(lambda s: "you can still read this" in s.texts(), what="banned reads")
        other = await ChatSocket.open(chat_servers[1], other_show.slug, cookie)
        there = await other.say("and here?")
        elsewhere = await ChatSocket.open(chat_servers[0], someone_else.slug, cookie)
        free = await elsewhere.say("elsewhere I can talk")
        for sock in (banned, owner, other, elsewhere):
            await sock.close()
        return here, there, free

    here, there, free = asyncio.run(scenario())
    assert here["code"] == there["code"] == "banned"
    assert "retry_after" not in here
    assert free["type"] == "ack"
    assert ChatBan.objects.get().reason == "spam"
    assert actions("ban")[0].target_user == viewer


def test_the_broadcaster_and_moderators_cannot_be_restricted_in_their_own_chat(chat_servers):
    broadcast = live_broadcast()
    moderator = chatter()
    services.add_moderator(broadcast=broadcast, user=moderator, by=broadcast.owner)

    async def scenario():
        mod = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(moderator))
        refused = await mod.request("ban", user_id=broadcast.owner.pk)
        await mod.close()
        return refused

    assert asyncio.run(scenario())["code"] == "forbidden"


def test_slow_mode_spaces_out_messages_and_everyone_sees_the_mode_change(chat_servers):
    broadcast = live_broadcast()
    viewer = chatter()

    async def scenario():
        owner = await ChatSocket.open(
            chat_servers[0], broadcast.slug, session_cookie(broadcast.owner)
        )
        user = await ChatSocket.open(chat_servers[1], broadcast.slug, session_cookie(viewer))
        out_of_range = await owner.request("set_mode", slow_mode_seconds=2)
        viewer_tries = await user.request("set_mode", slow_mode_seconds=0)
        await owner.request("set_mode", slow_mode_seconds=10)
        await user.wait(lambda s: s.modes["slow_mode_seconds"] == 10, what="mode event")
        first = await user.say("one")
        second = await user.say("two")
        owner_twice = [await owner.say("a"), await owner.say("b")]
        for sock in (owner, user):
            await sock.close()
        return out_of_range, viewer_tries, first, second, owner_twice

    out_of_range, viewer_tries, first, second, owner_twice = asyncio.run(scenario())
    assert out_of_range["code"] == "invalid"
    assert viewer_tries["code"] == "forbidden"
    assert first["type"] == "ack"
    assert second["code"] == "slow_mode" and 0 < second["retry_after"] <= 10
    assert [f["type"] for f in owner_twice] == ["ack", "ack"]
    assert actions("mode")[0].details == {"slow_mode_seconds": 10}


def test_chat_off_silences_viewers_but_not_the_broadcaster(chat_servers):
    broadcast = live_broadcast()
    viewer = chatter()

    async def scenario():
        owner = await ChatSocket.open(
            chat_servers[0], broadcast.slug, session_cookie(broadcast.owner)
        )
        user = await ChatSocket.open(chat_servers[1], broadcast.slug, session_cookie(viewer))
        await owner.request("set_mode", chat_enabled=False)
        await user.wait(lambda s: s.modes["chat_enabled"] is False, what="chat off")
        refused = await user.say("hello?")
        owner_says = await owner.say("back soon")
        await owner.request("set_mode", chat_enabled=True)
        await user.wait(lambda s: s.modes["chat_enabled"] is True, what="chat on")
        allowed = await user.say("yay")
        for sock in (owner, user):
            await sock.close()
        return refused, owner_says, allowed

    refused, owner_says, allowed = asyncio.run(scenario())
    assert refused["code"] == "chat_off"
    assert owner_says["type"] == allowed["type"] == "ack"


def test_established_only_mode_refuses_new_accounts(chat_servers):
    broadcast = live_broadcast()
    long_ago = timezone.now() - timedelta(days=400)
    newcomer = chatter(x_created_at=long_ago)  # old X account, brand-new OnAir account
    unknown_x_age = chatter(date_joined=long_ago)
    old_timer = chatter(date_joined=long_ago, x_created_at=long_ago)
    services.set_chat_modes(broadcast=broadcast, by=broadcast.owner, established_only=True)

    async def scenario():
        sockets = [
            await ChatSocket.open(chat_servers[i % 2], broadcast.slug, session_cookie(user))
            for i, user in enumerate((newcomer, unknown_x_age, old_timer, broadcast.owner))
        ]
        replies = [await sock.say("hi") for sock in sockets]
        for sock in sockets:
            await sock.close()
        return sockets[0], replies

    new, (new_reply, unknown_reply, old_reply, owner_reply) = asyncio.run(scenario())
    assert new.modes["established_only"] is True
    assert new_reply["code"] == "not_established"
    # The X account's age is not known for this user: not established either.
    assert unknown_reply["code"] == "not_established"
    assert old_reply["type"] == "ack"
    assert owner_reply["type"] == "ack"


def test_rate_limit_then_automatic_timeout_on_repeated_violation(chat_servers):
    broadcast = live_broadcast()
    viewer = chatter()

    async def scenario():
        user = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(viewer))
        replies = [await user.say(f"message {n}") for n in range(23)]
        await user.close()
        return replies

    replies = asyncio.run(scenario())
    assert [r["type"] for r in replies[:20]] == ["ack"] * 20
    assert replies[20]["code"] == replies[21]["code"] == "rate_limited"
    assert 0 < replies[20]["retry_after"] <= 30
    assert replies[22]["code"] == "timed_out" and replies[22]["retry_after"] == 300
    (automatic,) = actions("timeout")
    assert automatic.actor is None and automatic.target_user == viewer
    assert ChatBan.objects.get().expires_at is not None


def test_filtered_message_is_held_for_a_moderator_who_sees_why(chat_servers):
    broadcast = live_broadcast()
    viewer, bystander = chatter(), chatter()

    async def scenario():
        owner = await ChatSocket.open(
            chat_servers[0], broadcast.slug, session_cookie(broadcast.owner)
        )
        added = await owner.request("add_filter", phrase="Cheap  Pills")
        viewer_adds = None
        user = await ChatSocket.open(chat_servers[1], broadcast.slug, session_cookie(viewer))
        other = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(bystander))
        viewer_adds = await user.request("add_filter", phrase="anything")
        held = await user.say("buy CHEAP pills now")
        await owner.wait(lambda s: s.of_type("held"), what="held notice")
        shown = await user.say("an ordinary message")
        await other.wait(lambda s: "an ordinary message" in s.texts(), what="ordinary one")
        assert "buy CHEAP pills now" not in other.texts()
        approved = await owner.request("approve", id=held["id"])
        await other.wait(lambda s: "buy CHEAP pills now" in s.texts(), what="approved one")
        second = await user.say("cheap pills again")
        rejected = await owner.request("reject", id=second["id"])
        await owner.request("held_list")
        await owner.say("done")
        await other.wait(lambda s: "done" in s.texts(), what="last message")
        for sock in (owner, user, other):
            await sock.close()
        return owner, other, added, viewer_adds, held, shown, approved, rejected

    owner, other, added, viewer_adds, held, shown, approved, rejected = asyncio.run(scenario())
    assert added["phrases"] == ["cheap pills"]
    assert viewer_adds["code"] == "forbidden"
    assert held["type"] == "ack" and held["held"] is True and held["seq"] is None
    assert shown["held"] is False
    notice = owner.of_type("held")[0]["message"]
    assert notice["reason"] == "matched filter: cheap pills"
    assert notice["text"] == "buy CHEAP pills now"
    assert approved["type"] == rejected["type"] == "ok"
    assert "cheap pills again" not in other.texts()
    assert owner.of_type("held_list")[-1]["messages"] == []
    assert {a.action for a in ModerationAction.objects.all()} >= {"add_filter", "approve", "reject"}


def test_also_post_to_x_requests_a_post_at_most_once_a_minute(chat_servers):
    posting = pytest.importorskip("broadcast.posting")
    broadcast = live_broadcast()
    viewer = chatter()

    async def scenario():
        user = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(viewer))
        first = await user.say("watching this!", post_to_x=True)
        second = await user.say("and again", post_to_x=True)
        await user.wait(lambda s: s.errors("x_post_rate_limited"), what="x refusal")
        errors = user.errors("x_post_rate_limited")
        await user.close()
        return first, second, errors

    first, second, errors = asyncio.run(scenario())
    assert first["x_post"] == "requested"
    assert second["type"] == "ack" and second["x_post"] == "rate_limited"
    assert 50 < errors[0]["retry_after"] <= 60
    (post,) = posting.XPost.objects.filter(purpose="chat_echo")
    assert post.source_key == str(first["id"])
    assert post.text.startswith("watching this! ") and broadcast.slug in post.text
    # The chat message itself went out; only the X copy was refused.
    assert ChatMessage.objects.filter(text="and again", post_to_x=False).exists()


def test_chat_of_an_ended_broadcast_is_read_only(chat_servers):
    broadcast = live_broadcast()
    viewer = chatter()

    async def scenario():
        user = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(viewer))
        before = await user.say("great show")
        await asyncio.to_thread(end_broadcast, broadcast.pk)
        after = await user.say("bye!")
        await user.close()
        return before, after

    before, after = asyncio.run(scenario())
    assert before["type"] == "ack"
    assert after["code"] == "chat_closed"


def end_broadcast(pk):
    from django.db import connection

    from broadcast.models import Broadcast

    try:
        Broadcast.objects.filter(pk=pk).update(state="ended", ended_at=timezone.now())
    finally:
        connection.close()


def test_moderation_frames_reveal_nothing_about_users_to_those_who_may_not_moderate(
    chat_servers,
):
    broadcast = live_broadcast()
    someone, viewer = chatter(handle="someone_real"), chatter()

    async def scenario():
        anonymous = await ChatSocket.open(chat_servers[0], broadcast.slug)
        signed_in = await ChatSocket.open(chat_servers[1], broadcast.slug, session_cookie(viewer))
        replies = []
        for sock in (anonymous, signed_in):
            for user_id in (someone.pk, 10**9):
                replies.append(await sock.request("timeout", user_id=user_id, seconds=60))
            for handle in ("someone_real", "nobody_at_all"):
                replies.append(await sock.request("add_moderator", handle=handle))
        for sock in (anonymous, signed_in):
            await sock.close()
        return replies

    replies = asyncio.run(scenario())
    assert [r.get("code") for r in replies] == ["forbidden"] * len(replies)


def test_a_demoted_moderator_no_longer_gets_the_held_list(chat_servers):
    broadcast = live_broadcast()
    moderator = chatter()
    services.add_moderator(broadcast=broadcast, user=moderator, by=broadcast.owner)

    def demote():
        services.remove_moderator(broadcast=broadcast, user=moderator, by=broadcast.owner)
        connection.close()  # this worker thread's own connection

    async def scenario():
        sock = await ChatSocket.open(chat_servers[0], broadcast.slug, session_cookie(moderator))
        while_moderator = await sock.request("held_list")
        await asyncio.to_thread(demote)
        after_removal = await sock.request("held_list")
        await sock.close()
        return while_moderator, after_removal

    while_moderator, after_removal = asyncio.run(scenario())
    assert while_moderator["type"] == "held_list"
    assert after_removal["type"] == "error" and after_removal["code"] == "forbidden"
