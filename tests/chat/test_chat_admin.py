"""Chat in Django admin: the pages open, and acts taken there go through the same
services (numbered events, audit records) as in the chat."""

import pytest
from django.urls import reverse

from chat import selectors, services
from chat.models import ChatEvent, ChatMessage, ChatRoom, FilterWord, ModerationAction
from tests.chat.support import chatter, live_broadcast
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_every_chat_admin_page_opens(admin_client):
    broadcast = live_broadcast()
    services.post_message(broadcast=broadcast, user=broadcast.owner, text="hello")
    for model in (
        "chatmessage",
        "chatroom",
        "chatevent",
        "moderator",
        "chatban",
        "filterword",
        "moderationaction",
    ):
        response = admin_client.get(reverse(f"admin:chat_{model}_changelist"))
        assert response.status_code == 200, model


def test_admin_delete_action_is_a_recorded_numbered_deletion(admin_client):
    broadcast = live_broadcast()
    result = services.post_message(broadcast=broadcast, user=chatter(), text="spam spam")
    response = admin_client.post(
        reverse("admin:chat_chatmessage_changelist"),
        {"action": "delete_for_everyone", "_selected_action": [result.message.pk]},
    )
    assert response.status_code == 302
    assert ChatMessage.objects.get().status == "deleted"
    assert ChatEvent.objects.filter(kind="delete", payload__id=result.message.pk).exists()
    assert ModerationAction.objects.get(action="delete").actor.is_superuser


def test_admin_turning_chat_off_is_a_mode_event(admin_client):
    broadcast = live_broadcast()
    room = selectors.room_for(broadcast=broadcast)
    admin_client.post(
        reverse("admin:chat_chatroom_changelist"),
        {"action": "turn_chat_off", "_selected_action": [room.pk]},
    )
    assert ChatRoom.objects.get().chat_enabled is False
    assert ChatEvent.objects.get(kind="mode").payload["modes"]["chat_enabled"] is False


def test_staff_add_site_wide_filter_words_and_the_act_is_recorded(admin_client):
    response = admin_client.post(
        reverse("admin:chat_filterword_add"), {"phrase": "free crypto", "broadcaster": ""}
    )
    assert response.status_code == 302
    assert FilterWord.objects.get().broadcaster is None
    assert ModerationAction.objects.get().action == "add_filter"


def test_messages_cannot_be_edited_or_deleted_around_the_services(admin_client):
    broadcast = live_broadcast()
    result = services.post_message(broadcast=broadcast, user=chatter(), text="hello")
    change_url = reverse("admin:chat_chatmessage_change", args=[result.message.pk])
    page = admin_client.get(change_url).content.decode()
    for field in ("status", "held_reason", "post_to_x"):
        assert f'name="{field}"' not in page, field
    delete_url = reverse("admin:chat_chatmessage_delete", args=[result.message.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert ChatMessage.objects.get().status == "visible"


def test_bulk_deleting_filter_words_is_recorded_word_by_word(admin_client):
    words = [FilterWord.objects.create(phrase=p) for p in ("one", "two")]
    admin_client.post(
        reverse("admin:chat_filterword_changelist"),
        {"action": "delete_selected", "_selected_action": [w.pk for w in words], "post": "yes"},
    )
    assert not FilterWord.objects.exists()
    assert ModerationAction.objects.filter(action="remove_filter").count() == 2
