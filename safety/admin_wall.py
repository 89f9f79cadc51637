"""Reads for the live wall: every live broadcast with what staff need to judge it at a
glance, the most pressing first."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from broadcast.models import Broadcast
from broadcast.selectors import viewer_count
from chat.models import ChatMessage
from safety.models import Reason
from safety.report_queries import ReportSummary, open_report_summary

CHAT_RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class WallRow:
    broadcast: Broadcast
    live_for: timedelta
    viewers: int | None  # None: the count is unavailable right now
    chat_per_minute: int
    reports: ReportSummary | None

    @property
    def urgent(self):
        return bool(self.reports and self.reports.urgent)

    @property
    def worst_reason(self):
        return self.reports.reason if self.reports else ""

    @property
    def worst_reason_label(self):
        return Reason(self.worst_reason).label if self.reports else ""

    @property
    def priority(self):
        # Reported before unreported, then the reports' own order; the newest live last
        # among equals, so that a long-running unreported live does not jump around.
        started = self.broadcast.started_at or self.broadcast.created_at
        if self.reports is None:
            return (True, (), started)
        return (False, self.reports.priority, started)


def _chat_rates(broadcast_ids, since):
    # A room's primary key is its broadcast's.
    rows = (
        # Every status, named, so the (room, status, created_at) index bounds the time.
        ChatMessage.objects.filter(
            room_id__in=broadcast_ids,
            status__in=ChatMessage.Status.values,
            created_at__gte=since,
        )
        .order_by()
        .values("room_id")
        .annotate(n=Count("id"))
    )
    return {row["room_id"]: row["n"] for row in rows}


def live_wall(now=None):
    """Every live broadcast as a WallRow, urgent and reported first."""
    now = now or timezone.now()
    broadcasts = list(Broadcast.objects.filter(state=Broadcast.State.LIVE).select_related("owner"))
    ids = [broadcast.pk for broadcast in broadcasts]
    summaries = open_report_summary(ids)
    rates = _chat_rates(ids, now - CHAT_RATE_WINDOW)
    rows = [
        WallRow(
            broadcast=broadcast,
            live_for=max(now - (broadcast.started_at or now), timedelta(0)),
            viewers=viewer_count(broadcast.slug),
            chat_per_minute=rates.get(broadcast.pk, 0),
            reports=summaries.get(broadcast.pk),
        )
        for broadcast in broadcasts
    ]
    return sorted(rows, key=lambda row: row.priority)
