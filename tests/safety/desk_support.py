"""Helpers of the moderation desk's tests: the Moderators group as the migration makes
it, staff with and without it, reports filed through the reporting service, a live
picture in the thumbnail store."""

import importlib
import secrets
from functools import cache
from pathlib import Path

from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from broadcast import thumbnails
from chat import services as chat
from safety.models import Reason
from safety.reports import file_report
from tests.chat.support import chatter, live_broadcast

MIGRATION = importlib.import_module("safety.migrations.0002_moderators_group")
FIXTURES = Path(__file__).resolve().parent.parent / "media" / "fixtures"

__all__ = ["chatter", "live_broadcast"]

WALL = reverse("admin:safety_live")
ALERTS = reverse("admin:safety_alerts")
QUEUE = reverse("admin:safety_report_changelist")
AUDIT = reverse("admin:safety_auditentry_changelist")
EXPORT = reverse("admin:safety_auditentry_export")


def moderators_group():
    """The group as the data migration makes it. A test that flushed the database (a
    browser test) removed it: making it again is what the migration does, idempotently."""
    MIGRATION.create_moderators_group(apps, None)
    return Group.objects.get(name=MIGRATION.GROUP)


def moderator(**fields):
    """A staff member in the Moderators group, and nothing more."""
    user = chatter(is_staff=True, **fields)
    user.groups.add(moderators_group())
    return user


def plain_staff(**fields):
    """Staff (may open the admin) without the group: the desk must refuse them."""
    return chatter(is_staff=True, **fields)


def signed_in(user, **kwargs):
    """A test client of its own, signed in as `user`."""
    client = Client(**kwargs)
    client.force_login(user)
    return client


def fresh_address():
    """An address no earlier test (or earlier run, in Redis mode) has counted."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def report(target, *, by=None, reason=Reason.SPAM, details=""):
    """File a report through the reporting service, as the watch page does."""
    is_message = hasattr(target, "room_id")
    return file_report(
        reporter=by,
        address=fresh_address(),
        target_kind="message" if is_message else "broadcast",
        target_id=str(target.pk) if is_message else target.slug,
        reason=reason,
        details=details,
    )


def message_in(broadcast, text="Buy followers at spam.example", author=None):
    return chat.post_message(broadcast=broadcast, user=author or chatter(), text=text).message


@cache
def camera_jpeg():
    """(data, width, height): a real keyframe of the fake camera as the server renders it."""
    from tests.media.test_thumbnails import keyframe_source

    init, keyframe = keyframe_source((FIXTURES / "fake-camera-100ms.webm").read_bytes())
    return thumbnails.render_thumbnail(init, keyframe)


def with_picture(broadcast):
    """Put a live picture of `broadcast` in this process's thumbnail store (Redis, in
    Redis mode, is every process's)."""
    data, width, height = camera_jpeg()
    thumbnails.get_store().put(
        broadcast.slug,
        thumbnails.Thumbnail(data, thumbnails.CONTENT_TYPE, timezone.now(), width, height),
    )
    return broadcast
