"""Staff alerts for reports: urgent, or a broadcast many people reported. Each is an
audit entry and an email to ADMINS, sent by the Celery task safety.send_report_alert
(safety/tasks.py), at most REPORT_ALERTS_PER_HOUR an hour: past it, one email says that
further alerts are not emailed until the hour is over, and the admin's counters of open
and urgent reports still show every report."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from safety.audit import record
from safety.models import Report
from safety.report_limits import alert_email_wait, first_suppression

log = logging.getLogger(__name__)

SUPPRESSED = "suppressed"
WHY = ("urgent", "threshold", SUPPRESSED)


def raise_alert(*, report_id, why, gate, ttl):
    """After commit: alert once per gate (an atomic add in the shared cache, held `ttl`
    seconds), record it, and hand the email to Celery, within the hourly cap."""
    if not cache.add(gate, report_id, ttl):
        return
    wait = alert_email_wait()
    if wait is None:
        record(
            actor=None, action="report_alert", target_kind="report", target_id=report_id, why=why
        )
        _enqueue(report_id, why)
    elif first_suppression(wait):
        until = timezone.now() + timedelta(seconds=wait)
        record(
            actor=None,
            action="report_alert_suppressed",
            target_kind="report",
            target_id=report_id,
            why=why,
            limit=settings.REPORT_ALERTS_PER_HOUR,
            until=until.isoformat(),
        )
        _enqueue(report_id, SUPPRESSED)


def _enqueue(report_id, why):
    from safety.tasks import send_report_alert

    try:
        send_report_alert.apply_async(args=[report_id, why])
    except Exception:
        # The report stands and the admin's counter shows it; only the email is lost.
        log.exception("could not enqueue the alert for report %s", report_id)


def send_report_alert(*, report_id, why):
    """Email ADMINS about report `report_id` (`why`: "urgent", "threshold", or
    "suppressed" for the one notice that the hourly cap was reached)."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None or why not in WHY:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = suppressed_email() if why == SUPPRESSED else alert_email(report, why)
    mail_admins(subject, body, fail_silently=False)


def suppressed_email():
    """(subject, plain-text body) of the notice that alerts are no longer emailed."""
    subject = _("Too many report alerts: the next ones are not emailed")
    lines = [
        _(
            "More than %(limit)s report alerts were raised within an hour. Until the hour "
            "is over, further alerts are not emailed one by one: the reports queue shows "
            "them all, urgent ones first."
        )
        % {"limit": settings.REPORT_ALERTS_PER_HOUR},
        "",
        _("Open the reports queue: %(url)s")
        % {"url": f"{settings.PUBLIC_URL}{reverse('admin:safety_report_changelist')}"},
    ]
    return subject, "\n".join(lines) + "\n"


def alert_email(report, why):
    """(subject, plain-text body). Nothing a user typed goes into the subject (a header);
    the body is plain text, so reported text stays text in any mail reader."""
    reason = report.get_reason_display()
    if why == "urgent":
        subject = _("Urgent report: %(reason)s") % {"reason": reason}
    else:
        subject = _("A broadcast was reported by many people: %(reason)s") % {"reason": reason}
    broadcast = report.snapshot.get("broadcast", {})
    message = report.snapshot.get("message")
    base = settings.PUBLIC_URL
    lines = [
        subject,
        "",
        _("Broadcast: %(title)s") % {"title": broadcast.get("title", "")},
        _("Broadcaster: @%(handle)s") % {"handle": broadcast.get("owner_handle", "")},
        _("Watch page: %(url)s") % {"url": f"{base}/b/{broadcast.get('slug', '')}/"},
    ]
    if message:
        lines += [
            _("Reported chat message by @%(handle)s:") % {"handle": message.get("author_handle")},
            message.get("text", ""),
        ]
    lines.append(_("Reported at: %(time)s") % {"time": report.snapshot.get("reported_at", "")})
    if report.broadcast_id is not None:
        count = Report.objects.filter(
            broadcast_id=report.broadcast_id, state=Report.State.OPEN
        ).count()
        lines.append(_("Open reports of this broadcast: %(count)s") % {"count": count})
    if report.details:
        lines += ["", _("What the reporter said:"), report.details]
    admin_path = reverse("admin:safety_report_change", args=[report.pk])
    lines += ["", _("Open the report: %(url)s") % {"url": f"{base}{admin_path}"}]
    return subject, "\n".join(lines) + "\n"
