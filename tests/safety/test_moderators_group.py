"""The "Moderators" staff group (data migration safety 0002): everything the moderation
desk needs in the admin, and nothing else: no tokens, no site settings, no groups, no
editing users or posts to X."""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import Client
from django.urls import reverse

from tests.safety.desk_support import MIGRATION, chatter, live_broadcast, moderator

pytestmark = pytest.mark.django_db

EXPECTED = {
    "safety.view_report",
    "safety.act_on_report",
    "safety.view_auditentry",
    "safety.view_restriction",
    "safety.add_restriction",
    "safety.change_restriction",
    "safety.view_appeal",
    "safety.change_appeal",
    "safety.view_notice",
    "broadcast.view_broadcast",
    "broadcast.view_xpost",
    "accounts.view_user",
    "chat.view_chatmessage",
    "chat.change_chatmessage",
    "chat.view_chatroom",
    "chat.change_chatroom",
    "chat.view_chatevent",
    "chat.view_moderationaction",
    "chat.view_chatban",
    "chat.view_moderator",
    "chat.view_filterword",
    "chat.add_filterword",
    "chat.change_filterword",
    "chat.delete_filterword",
}

ALLOWED = [
    "admin:safety_live",
    "admin:safety_report_changelist",
    "admin:safety_auditentry_changelist",
    "admin:safety_restriction_changelist",
    "admin:safety_restriction_add",
    "admin:safety_appeal_changelist",
    "admin:safety_notice_changelist",
    "admin:broadcast_broadcast_changelist",
    "admin:broadcast_xpost_changelist",
    "admin:accounts_user_changelist",
    "admin:chat_chatmessage_changelist",
    "admin:chat_chatroom_changelist",
    "admin:chat_chatevent_changelist",
    "admin:chat_moderationaction_changelist",
    "admin:chat_chatban_changelist",
    "admin:chat_moderator_changelist",
    "admin:chat_filterword_changelist",
    "admin:chat_filterword_add",
]

DENIED = [
    "admin:socialaccount_socialtoken_changelist",
    "admin:socialaccount_socialapp_changelist",
    "admin:socialaccount_socialaccount_changelist",
    "admin:account_emailaddress_changelist",
    "admin:sites_site_changelist",
    "admin:auth_group_changelist",
    "admin:auth_group_add",
    "admin:chat_chatban_add",
    "admin:chat_moderator_add",
    "admin:accounts_user_add",
    "admin:accounts_refusedxaccount_changelist",
    "admin:xemulator_xuser_changelist",
]


def granted(group):
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_migrating_made_the_group():
    assert granted(Group.objects.get(name="Moderators")) == EXPECTED


def test_the_migration_grants_exactly_the_desk_permissions_and_runs_twice_safely():
    Group.objects.filter(name="Moderators").delete()
    state = MigrationLoader(connection).project_state(("safety", "0002_moderators_group"))
    editor = SimpleNamespace(connection=connection)

    MIGRATION.create_moderators_group(state.apps, editor)
    MIGRATION.create_moderators_group(state.apps, editor)

    assert granted(Group.objects.get(name="Moderators")) == EXPECTED
    MIGRATION.remove_moderators_group(state.apps, editor)
    assert not Group.objects.filter(name="Moderators").exists()


@pytest.fixture
def desk():
    client = Client()
    client.force_login(moderator())
    return client


def test_a_moderator_opens_every_desk_page(desk):
    for name in ALLOWED:
        assert desk.get(reverse(name)).status_code == 200, name


def test_a_moderator_gets_nothing_else_in_the_admin(desk):
    for name in DENIED:
        assert desk.get(reverse(name)).status_code == 403, name
    apps = {app["app_label"] for app in desk.get(reverse("admin:index")).context["app_list"]}
    assert apps == {"accounts", "broadcast", "chat", "safety"}


def test_a_moderator_cannot_edit_users_broadcasts_or_posts():
    user = chatter(username="target", handle="target")
    broadcast = live_broadcast(title="Untouched")
    client = Client()
    client.force_login(moderator())

    change_user = reverse("admin:accounts_user_change", args=[user.pk])
    assert client.get(change_user).status_code == 200  # to read, from the live wall
    assert client.post(change_user, {"username": "renamed", "is_staff": "on"}).status_code == 403
    change_broadcast = reverse("admin:broadcast_broadcast_change", args=[broadcast.pk])
    assert client.post(change_broadcast, {"title": "Edited"}).status_code == 403
    user.refresh_from_db()
    broadcast.refresh_from_db()
    assert (user.username, user.is_staff, broadcast.title) == ("target", False, "Untouched")
    # Takedowns go through the desk (with a rule and a notice), not the bare "end" action.
    listing = client.get(reverse("admin:broadcast_broadcast_changelist")).content.decode()
    assert 'value="end_now"' not in listing
