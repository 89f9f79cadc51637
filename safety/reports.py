"""Reporting: anyone, signed in or not, reports a broadcast or a chat message; staff
settle reports. A report keeps its own evidence (a snapshot taken when it is filed, and
the live picture of a broadcast) so that deleting or purging what it points at loses
nothing. Urgent reasons, and a broadcast reported by more than REPORT_ALERT_THRESHOLD
distinct reporters, alert staff by email (safety/alerts.py).

Reads for the moderation desk are in safety/report_queries.py."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from broadcast.models import Broadcast
from chat.models import ChatMessage
from chat.protocol import normalise_text
from onair.client_address import address_key
from safety.alerts import raise_alert
from safety.audit import record
from safety.models import SEVERITY, URGENT_REASONS, Reason, Report
from safety.report_limits import anonymous_report_wait, user_report_wait

DETAILS_MAX = 1000
# The same target reported urgently for the same reason alerts at most once this often.
URGENT_ALERT_EVERY_S = 3600
# A broadcast past the threshold alerts once; settling its reports re-arms it.
THRESHOLD_ALERT_TTL_S = 7 * 24 * 3600

# What settled a report (Report.decision); "dismissed" dismisses, the rest are actions.
DISMISSED = "dismissed"
DECISIONS = frozenset({DISMISSED, "message_removed", "taken_down", "restricted", "banned"})

MESSAGES = {
    "invalid_target": _("Only a broadcast or a chat message can be reported."),
    "invalid_reason": _("Choose a reason from the list."),
    "details_required": _("Say in a few words what is wrong when you choose Other."),
    "details_too_long": _("Keep the details to 1,000 characters or fewer."),
    "not_found": _("That broadcast or message no longer exists."),
    "rate_limited": _("Too many reports from your network. Please try again later."),
    "self_report": _("You cannot report your own broadcast or message."),
}
LIMITED = {
    "address": MESSAGES["rate_limited"],
    "broadcast": _(
        "This broadcast has had too many reports from people who are not signed in. "
        "Sign in with X to report it."
    ),
    "user": _("You have sent too many reports. Please try again later."),
}


class ReportRefused(Exception):
    """A report the rules refuse, with its stable code and the sentence a person reads."""

    def __init__(self, code, message=None, retry_after=None):
        super().__init__(code)
        self.code = code
        self.message = str(message or MESSAGES.get(code, code))
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Target:
    kind: str
    key: str  # Report.target_key: "b:<broadcast id>" or "m:<message id>"
    broadcast: Broadcast
    message: ChatMessage | None
    user_id: int | None  # whose conduct is reported

    @property
    def scope(self):
        """A cache key part that no other broadcast or message ever shares: slugs are
        random, whereas row ids start again in a fresh database."""
        slug = self.broadcast.slug
        return f"{slug}:m{self.message.pk}" if self.message else slug


def reporter_key(*, reporter, address):
    """One reporter toward thresholds: a signed-in user, or all anonymous reports from
    one address together (kept as a keyed hash, never the address)."""
    if reporter is not None:
        return f"u:{reporter.pk}"
    return f"a:{address_key(address)}"


def file_report(*, reporter, address, target_kind, target_id, reason, details=""):
    """File a report of a broadcast (by slug) or a chat message (by id) and return it. A
    repeat by the same reporter while their report is open adds to that report (see
    _merge). Raises ReportRefused. `reporter` is a User or None (anonymous)."""
    if reporter is not None and not reporter.is_authenticated:
        reporter = None
    reason, details = _clean(reason, details)
    target = _resolve(target_kind, target_id)
    if reporter is not None and reporter.pk == target.user_id:
        raise ReportRefused("self_report")
    if reporter is None:
        limited = anonymous_report_wait(
            address=address,
            broadcast_slug=target.broadcast.slug,
            urgent=reason in URGENT_REASONS,
        )
    else:
        wait = user_report_wait(user=reporter)
        limited = None if wait is None else ("user", wait)
    if limited is not None:
        which, wait = limited
        raise ReportRefused("rate_limited", LIMITED[which], retry_after=round(wait, 1))
    # Read outside the transaction: in Redis mode the picture lives in Redis.
    thumbnail = _thumbnail(target)
    return _save(
        reporter=reporter,
        key=reporter_key(reporter=reporter, address=address),
        target=target,
        reason=reason,
        details=details,
        thumbnail=thumbnail,
    )


# --- input --------------------------------------------------------------------------
def _clean(reason, details):
    if not isinstance(reason, str) or reason not in Reason.values:
        raise ReportRefused("invalid_reason")
    details = "" if details is None else str(details)
    # Cheap refusal before normalising something huge.
    if len(details) > DETAILS_MAX * 4:
        raise ReportRefused("details_too_long")
    # The chat's normalisation (no controls, no bidi overrides, no "zalgo") line by line,
    # so that the text reads the same wherever staff see it and keeps its line breaks.
    lines = (normalise_text(line) for line in details.splitlines())
    details = "\n".join(line for line in lines if line)
    if len(details) > DETAILS_MAX:
        raise ReportRefused("details_too_long")
    if reason == Reason.OTHER and not details:
        raise ReportRefused("details_required")
    return reason, details


def _resolve(kind, target_id):
    if kind == Report.Target.BROADCAST:
        broadcast = (
            Broadcast.objects.select_related("owner").filter(slug=str(target_id)[:16]).first()
            if isinstance(target_id, str) and target_id
            else None
        )
        if broadcast is None:
            raise ReportRefused("not_found")
        return _Target(kind, f"b:{broadcast.pk}", broadcast, None, broadcast.owner_id)
    if kind == Report.Target.MESSAGE:
        try:
            message_id = int(target_id)
        except (TypeError, ValueError):
            raise ReportRefused("not_found") from None
        # Only what viewers can see can be reported (a deleted message is already gone).
        message = (
            ChatMessage.objects.select_related("author", "room__broadcast__owner")
            .filter(pk=message_id, status=ChatMessage.Status.VISIBLE)
            .first()
        )
        if message is None:
            raise ReportRefused("not_found")
        broadcast = message.room.broadcast
        return _Target(kind, f"m:{message.pk}", broadcast, message, message.author_id)
    raise ReportRefused("invalid_target")


# --- evidence ---------------------------------------------------------------------------
def _thumbnail(target):
    if target.message is not None or target.broadcast.state != Broadcast.State.LIVE:
        return None
    from broadcast.thumbnails import latest_thumbnail

    return latest_thumbnail(target.broadcast.slug)


def _iso(moment):
    return moment.isoformat() if moment else None


def snapshot_of(target, *, now, thumbnail=None):
    """The evidence, as it was: kept in the report, so it outlives the message (whose
    stored text a deletion blanks) and the broadcast (which the purge removes)."""
    broadcast = target.broadcast
    owner = broadcast.owner
    snapshot = {
        "reported_at": _iso(now),
        "broadcast": {
            "id": broadcast.pk,
            "slug": broadcast.slug,
            "title": broadcast.title,
            "state": broadcast.state,
            "started_at": _iso(broadcast.started_at),
            "ended_at": _iso(broadcast.ended_at),
            "owner_id": owner.pk,
            "owner_x_id": owner.x_id,
            "owner_handle": owner.handle,
        },
    }
    if target.message is not None:
        message = target.message
        snapshot["message"] = {
            "id": message.pk,
            "text": message.text,
            "author_id": message.author_id,
            "author_x_id": message.author.x_id,
            "author_handle": message.author.handle,
            "created_at": _iso(message.created_at),
        }
    if thumbnail is not None:
        snapshot["thumbnail_taken_at"] = _iso(thumbnail.taken_at)
    return snapshot


# --- storing and alerting -------------------------------------------------------------
@transaction.atomic
def _save(*, reporter, key, target, reason, details, thumbnail):
    now = timezone.now()
    urgent = reason in URGENT_REASONS
    report = _open_report(key, target)
    created = None
    if report is None:
        created = _create(reporter, key, target, reason, details, urgent, thumbnail, now)
    if created is not None:
        report, became_urgent = created, urgent
    else:
        # An open report, or the one a concurrent first report by this reporter made.
        report = report or _open_report(key, target)
        became_urgent = _merge(report, reporter, reason, details, thumbnail, now)
    if became_urgent:
        gate = f"safety:alerted:urgent:{target.scope}:{reason}"
        _alert_on_commit(report.pk, "urgent", gate, URGENT_ALERT_EVERY_S)
    if target.kind == Report.Target.BROADCAST:
        reporters = Report.objects.filter(target_key=target.key, state=Report.State.OPEN).aggregate(
            n=Count("reporter_key", distinct=True)
        )["n"]
        if reporters > settings.REPORT_ALERT_THRESHOLD:
            gate = threshold_gate(target.broadcast.slug)
            _alert_on_commit(report.pk, "threshold", gate, THRESHOLD_ALERT_TTL_S)
    return report


def _open_report(key, target):
    return (
        Report.objects.select_for_update()
        .filter(reporter_key=key, target_key=target.key, state=Report.State.OPEN)
        .first()
    )


def _merge(report, reporter, reason, details, thumbnail, now):
    """A repeat adds to the open report and never weakens it: all anonymous reports from
    one address share it, so a later "spam" must not bury an earlier child at risk. The
    more serious reason stays, `urgent` stays once set, new details follow the old ones.
    True if the repeat made the report urgent for a new reason (which alerts)."""
    became_urgent = False
    if SEVERITY[reason] < SEVERITY[report.reason]:
        became_urgent = reason in URGENT_REASONS
        report.reason = reason
    report.urgent = report.urgent or reason in URGENT_REASONS
    report.details = append_details(report.details, details, now=now)
    report.updated_at = now
    if reporter is not None and report.reporter_id is None:
        report.reporter = reporter
    # Evidence is never overwritten: the first picture stays, a later one fills a gap.
    if thumbnail is not None and not report.thumbnail:
        report.thumbnail = thumbnail.data
        report.thumbnail_type = thumbnail.content_type
        report.snapshot = {**report.snapshot, "thumbnail_taken_at": _iso(thumbnail.taken_at)}
    report.save()
    return became_urgent


def append_details(old, new, *, now):
    """`old` then `new` on a line of its own, after its time (UTC), within DETAILS_MAX.
    Past it, the oldest lines give way (marked by "…"): the newest words are the ones a
    reporter has just chosen; a newest entry longer than the cap alone keeps its start."""
    if not new:
        return old
    entry = f"[{now:%Y-%m-%d %H:%M} UTC] {new}"
    if len(entry) > DETAILS_MAX:
        entry = entry[: DETAILS_MAX - 1] + "…"
    combined = f"{old}\n{entry}" if old else entry
    if len(combined) <= DETAILS_MAX:
        return combined
    if len(entry) > DETAILS_MAX - 3:
        return entry
    tail = combined[-(DETAILS_MAX - 2) :]
    return "…\n" + tail[tail.index("\n") + 1 :]


def _create(reporter, key, target, reason, details, urgent, thumbnail, now):
    """The reporter's first open report of the target, or None if a concurrent one won."""
    fields = {
        "target_kind": target.kind,
        "target_key": target.key,
        "broadcast": target.broadcast,
        "message": target.message,
        "target_user_id": target.user_id,
        "reporter": reporter,
        "reporter_key": key,
        "reason": reason,
        "details": details,
        "urgent": urgent,
        "snapshot": snapshot_of(target, now=now, thumbnail=thumbnail),
        "thumbnail": thumbnail.data if thumbnail is not None else None,
        "thumbnail_type": thumbnail.content_type if thumbnail is not None else "",
        "created_at": now,
        "updated_at": now,
    }
    try:
        # A savepoint: the same reporter's concurrent first report may win the
        # one-open-report constraint, and then this one adds to it instead.
        with transaction.atomic():
            return Report.objects.create(**fields)
    except IntegrityError:
        return None


def threshold_gate(slug):
    return f"safety:alerted:threshold:{slug}"


def _alert_on_commit(report_id, why, gate, ttl):
    transaction.on_commit(lambda: raise_alert(report_id=report_id, why=why, gate=gate, ttl=ttl))


# --- settling -------------------------------------------------------------------------
@transaction.atomic
def settle_reports(*, reports, by, decision, note=""):
    """Close the open ones among `reports` (a queryset or Report objects) with who, when
    and what, put what they point at on legal hold, and audit each. Returns those closed."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown decision {decision!r}")
    ids = [getattr(report, "pk", report) for report in reports]
    now = timezone.now()
    state = Report.State.DISMISSED if decision == DISMISSED else Report.State.ACTIONED
    settled = list(Report.objects.select_for_update().filter(pk__in=ids, state=Report.State.OPEN))
    for report in settled:
        days = (
            settings.LEGAL_HOLD_CHILD_SAFETY_DAYS
            if report.reason == Reason.CHILD_SAFETY
            else settings.LEGAL_HOLD_DAYS
        )
        report.state = state
        report.closed_at = now
        report.closed_by = by if getattr(by, "pk", None) else None
        report.decision = decision
        report.decision_note = note or ""
        report.hold_until = now + timedelta(days=days)
        report.save(
            update_fields=[
                "state",
                "closed_at",
                "closed_by",
                "decision",
                "decision_note",
                "hold_until",
            ]
        )
        record(
            actor=by,
            action=f"report_{decision}",
            target_kind="report",
            target_id=report.pk,
            snapshot={
                "reason": report.reason,
                "target_key": report.target_key,
                **report.snapshot,
            },
            reason=note,
            hold_until=report.hold_until.isoformat(),
        )
    slugs = {r.snapshot.get("broadcast", {}).get("slug") for r in settled} - {None}
    transaction.on_commit(lambda: _rearm_thresholds(slugs))
    return settled


def _rearm_thresholds(slugs):
    """A broadcast with no open report left may alert again if reported anew."""
    still_open = set(
        Report.objects.filter(
            state=Report.State.OPEN,
            target_kind=Report.Target.BROADCAST,
            broadcast__slug__in=slugs,
        ).values_list("broadcast__slug", flat=True)
    )
    cache.delete_many([threshold_gate(slug) for slug in slugs - still_open])
