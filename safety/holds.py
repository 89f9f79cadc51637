"""Legal hold: what a report points at (and the audit rows about it) is kept while the
report is open and until its hold_until after it closes (LEGAL_HOLD_DAYS, or
LEGAL_HOLD_CHILD_SAFETY_DAYS for a child at risk), out of the retention purge and out
of self-service deletion.

A report on a chat message holds the message's whole broadcast with all its messages:
investigators need the conversation around a message, not the message alone.

Every function returns a query (a subquery in the caller's query), never a Python set,
so that a hold costs the same however many rows it keeps.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone

from broadcast.models import Broadcast
from chat.models import ChatMessage
from safety.models import Reason, Report


def holding_reports(now=None):
    """Reports that hold their target at `now`: open ones, and closed ones whose hold has
    not run out. A closed report without hold_until (closed by hand in the database)
    holds for the longest period its reason allows, counted from closed_at."""
    now = now or timezone.now()
    child_safety_since = now - timedelta(days=settings.LEGAL_HOLD_CHILD_SAFETY_DAYS)
    since = now - timedelta(days=settings.LEGAL_HOLD_DAYS)
    unset = Q(hold_until__isnull=True) & ~Q(state=Report.State.OPEN)
    return Report.objects.filter(
        Q(state=Report.State.OPEN)
        | Q(hold_until__gt=now)
        | (unset & Q(closed_at__isnull=True))
        | (unset & Q(reason=Reason.CHILD_SAFETY, closed_at__gt=child_safety_since))
        | (unset & Q(closed_at__gt=since))
    )


def held_broadcast_ids(now=None):
    """Ids of the broadcasts a legal hold keeps: those reported, and those of every
    reported message, read from the few holding reports (never a scan of broadcasts).
    Use as `.exclude(pk__in=held_broadcast_ids(now))`; it has no NULL, which would turn
    a NOT IN into "nothing"."""
    holding = holding_reports(now).order_by()
    reported = holding.filter(broadcast__isnull=False).values("broadcast_id")
    # A message's room is its broadcast (ChatRoom's primary key is the broadcast's).
    via_message = holding.filter(message__isnull=False).values("message__room_id")
    return reported.union(via_message, all=True)


def held_message_ids(now=None):
    """Ids of the chat messages a legal hold keeps: every message of a held broadcast."""
    return ChatMessage.objects.filter(room_id__in=held_broadcast_ids(now)).order_by().values("pk")


def user_has_held_items(user, now=None):
    """Whether deleting this user's data would have to leave something behind: one of
    their broadcasts, or one of their messages, is under a legal hold."""
    held = held_broadcast_ids(now)
    return (
        Broadcast.objects.filter(owner=user, pk__in=held).exists()
        or ChatMessage.objects.filter(author=user, room_id__in=held).exists()
    )


def held_audit_entries(now=None):
    """Audit rows about something held (the broadcast, one of its messages, the report):
    the record of what was done stays as long as what it was done to. A condition for
    AuditEntry querysets; the audit log keeps target ids as text."""
    holding = holding_reports(now).order_by()
    broadcasts = (
        holding.filter(broadcast__isnull=False)
        .annotate(key=Cast("broadcast_id", CharField()))
        .values("key")
        .union(
            holding.filter(message__isnull=False)
            .annotate(key=Cast("message__room_id", CharField()))
            .values("key"),
            all=True,
        )
    )
    messages = held_message_ids(now).annotate(key=Cast("pk", CharField())).values("key")
    reports = holding.annotate(key=Cast("pk", CharField())).values("key")
    return (
        Q(target_kind="broadcast", target_id__in=broadcasts)
        | Q(target_kind="message", target_id__in=messages)
        | Q(target_kind="report", target_id__in=reports)
    )
