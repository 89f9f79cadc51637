"""Legal hold: what an open or recently closed report points at (the broadcast and all
its messages) is kept; the answers are subqueries, so a hold scales with the reports."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadcast.models import Broadcast
from chat.models import ChatMessage
from safety.holds import held_broadcast_ids, held_message_ids, user_has_held_items
from safety.models import Reason, Report
from tests.factories import (
    BroadcastFactory,
    ChatMessageFactory,
    ReportFactory,
    UserFactory,
    chat_room_of,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def broadcast_with_messages(count=3, owner=None):
    broadcast = BroadcastFactory(
        owner=owner or UserFactory(),
        state=Broadcast.State.ENDED,
        started_at=NOW - timedelta(days=30, hours=1),
        ended_at=NOW - timedelta(days=30),
    )
    room = chat_room_of(broadcast)
    return broadcast, [ChatMessageFactory(room=room) for _ in range(count)]


def report_message(message, **fields):
    return ReportFactory(
        broadcast=None,
        target_kind=Report.Target.MESSAGE,
        target_key=f"m:{message.pk}",
        message=message,
        **fields,
    )


def test_held_ids_are_subqueries_answered_in_one_query():
    broadcast, _ = broadcast_with_messages()
    ReportFactory(broadcast=broadcast)
    free, _ = broadcast_with_messages()

    held = held_broadcast_ids(NOW)
    assert isinstance(held, QuerySet)
    with CaptureQueriesContext(connection) as queries:
        remaining = list(Broadcast.objects.exclude(pk__in=held).values_list("pk", flat=True))
    assert len(queries) == 1
    assert free.pk in remaining and broadcast.pk not in remaining


def test_a_report_of_one_message_holds_the_whole_broadcast_and_all_its_messages():
    broadcast, messages = broadcast_with_messages(count=3)
    _, other_messages = broadcast_with_messages(count=2)
    report_message(messages[1])

    held = set(
        Broadcast.objects.filter(pk__in=held_broadcast_ids(NOW)).values_list("pk", flat=True)
    )
    held_messages = set(
        ChatMessage.objects.filter(pk__in=held_message_ids(NOW)).values_list("pk", flat=True)
    )

    assert held == {broadcast.pk}
    assert held_messages == {m.pk for m in messages}
    assert not held_messages & {m.pk for m in other_messages}


def test_a_report_whose_target_is_gone_holds_nothing_and_blocks_nothing():
    """Its evidence is in its snapshot. A NULL in the held ids would make every
    `exclude(pk__in=...)` return nothing: there must be none."""
    ReportFactory(broadcast=None, message=None, target_key="b:999999")
    free, _ = broadcast_with_messages()

    assert Broadcast.objects.exclude(pk__in=held_broadcast_ids(NOW)).filter(pk=free.pk).exists()
    assert ChatMessage.objects.exclude(pk__in=held_message_ids(NOW)).exists()


def test_a_closed_report_holds_until_hold_until_and_no_longer():
    broadcast, _ = broadcast_with_messages()
    ReportFactory(
        broadcast=broadcast,
        state=Report.State.DISMISSED,
        closed_at=NOW - timedelta(days=1),
        hold_until=NOW + timedelta(days=5),
    )

    assert Broadcast.objects.filter(pk__in=held_broadcast_ids(NOW)).exists()
    later = NOW + timedelta(days=5, seconds=1)
    assert not Broadcast.objects.filter(pk__in=held_broadcast_ids(later)).exists()


def test_a_closed_report_without_hold_until_holds_for_its_reasons_period_from_closing():
    child, _ = broadcast_with_messages()
    spam, _ = broadcast_with_messages()
    closed_at = NOW - timedelta(days=settings.LEGAL_HOLD_DAYS + 1)
    for broadcast, reason in ((child, Reason.CHILD_SAFETY), (spam, Reason.SPAM)):
        ReportFactory(
            broadcast=broadcast,
            reason=reason,
            state=Report.State.ACTIONED,
            closed_at=closed_at,
            hold_until=None,
        )

    held = set(
        Broadcast.objects.filter(pk__in=held_broadcast_ids(NOW)).values_list("pk", flat=True)
    )
    assert held == {child.pk}


def test_user_has_held_items_for_the_broadcaster_and_every_author_in_a_held_broadcast():
    owner, author, stranger = UserFactory(), UserFactory(), UserFactory()
    broadcast, _ = broadcast_with_messages(count=1, owner=owner)
    ChatMessageFactory(room=chat_room_of(broadcast), author=author)
    report = ReportFactory(broadcast=broadcast)
    broadcast_with_messages(owner=stranger)

    assert user_has_held_items(owner, NOW)
    assert user_has_held_items(author, NOW)
    assert not user_has_held_items(stranger, NOW)

    Report.objects.filter(pk=report.pk).update(
        state=Report.State.DISMISSED, closed_at=NOW, hold_until=NOW + timedelta(days=1)
    )
    assert user_has_held_items(owner, NOW + timedelta(hours=23))
    assert not user_has_held_items(owner, NOW + timedelta(days=2))
    assert not user_has_held_items(author, NOW + timedelta(days=2))
