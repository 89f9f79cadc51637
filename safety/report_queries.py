"""Reads about open reports, for the moderation desk and the admin's live alert counter."""

from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Min, Q, Value, When

from safety.models import SEVERITY, Report

_BY_RANK = {rank: reason for reason, rank in SEVERITY.items()}


@dataclass(frozen=True)
class ReportSummary:
    """Open reports of one broadcast, counting its chat messages' reports too."""

    broadcast_id: int
    count: int
    reporters: int  # distinct reporters (all anonymous reports from one address are one)
    reason: str  # the most serious reason among them
    urgent: bool

    @property
    def severity(self):
        return SEVERITY[self.reason]

    @property
    def priority(self):
        """Sort key, most pressing first: urgent, then most serious, then most reporters."""
        return (not self.urgent, self.severity, -self.reporters, -self.count)


def open_reports():
    return Report.objects.filter(state=Report.State.OPEN)


def open_report_summary(broadcast_ids=None):
    """{broadcast id: ReportSummary} for every broadcast with an open report (or only
    those among `broadcast_ids`), in one query."""
    severity = Case(
        *(When(reason=reason, then=Value(rank)) for reason, rank in SEVERITY.items()),
        output_field=IntegerField(),
    )
    reports = open_reports().filter(broadcast_id__isnull=False)
    if broadcast_ids is not None:
        reports = reports.filter(broadcast_id__in=list(broadcast_ids))
    rows = (
        reports.order_by()
        .values("broadcast_id")
        .annotate(
            count=Count("id"),
            reporters=Count("reporter_key", distinct=True),
            urgent_count=Count("id", filter=Q(urgent=True)),
            rank=Min(severity),
        )
    )
    return {
        row["broadcast_id"]: ReportSummary(
            broadcast_id=row["broadcast_id"],
            count=row["count"],
            reporters=row["reporters"],
            reason=_BY_RANK[row["rank"]],
            urgent=row["urgent_count"] > 0,
        )
        for row in rows
    }


def open_count():
    return open_reports().count()


def urgent_open_count():
    return open_reports().filter(urgent=True).count()
