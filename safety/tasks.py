"""Celery tasks of the safety app: staff alerts for reports, and the daily purge."""

from smtplib import SMTPException

from celery import shared_task

from safety import alerts, retention


@shared_task(
    name="safety.send_report_alert",
    ignore_result=True,
    autoretry_for=(OSError, SMTPException),
    retry_backoff=5,
    max_retries=6,
)
def send_report_alert(report_id, why):
    """Email ADMINS about an urgent report, or a broadcast many people reported."""
    alerts.send_report_alert(report_id=report_id, why=why)


@shared_task(name="safety.purge_expired", ignore_result=True)
def purge_expired():
    """Daily (beat): delete what is past its retention period, except what a legal
    hold keeps. Returns the counts recorded in the audit log."""
    return retention.purge_expired().details["counts"]
