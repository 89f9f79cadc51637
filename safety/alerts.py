"""The staff alert email for a report: urgent, or a broadcast many people reported. Sent
by the Celery task safety.send_report_alert (safety/tasks.py)."""

from django.conf import settings
from django.core.mail import mail_admins
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from safety.models import Report

WHY = ("urgent", "threshold")


def send_report_alert(*, report_id, why):
    """Email ADMINS about report `report_id` (`why`: "urgent" or "threshold")."""
    report = Report.objects.filter(pk=report_id).first()
    if report is None or why not in WHY:
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = alert_email(report, why)
    mail_admins(subject, body, fail_silently=False)


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
