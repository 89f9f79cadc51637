"""Reporting: anyone reports a broadcast or a chat message; one open report per reporter
and target; anonymous limits; evidence that outlives what it shows; staff alerts for
urgent reasons and much-reported broadcasts, emailed by a real Celery worker."""

import json
import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from chat import services as chat
from safety import report_queries
from safety.alerts import alert_email
from safety.models import AuditEntry, Reason, Report
from safety.report_limits import forget_alert_window
from safety.reports import DETAILS_MAX, ReportRefused, append_details, file_report, settle_reports
from tests.chat.support import chatter, live_broadcast
from tests.conftest import CeleryWorker
from tests.support import wait_for

pytestmark = pytest.mark.django_db

RLO = "\u202e"


@pytest.fixture(autouse=True)
def _fresh_alert_window():
    """The hourly cap on alert emails is site-wide: each test starts a fresh hour."""
    forget_alert_window()


def fresh_address():
    """An address no earlier test (or earlier run, in Redis mode) has counted."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def report(target, *, by=None, address=None, reason=Reason.SPAM, details=""):
    kind = "message" if hasattr(target, "room_id") else "broadcast"
    target_id = str(target.pk) if kind == "message" else target.slug
    return file_report(
        reporter=by,
        address=address or fresh_address(),
        target_kind=kind,
        target_id=target_id,
        reason=reason,
        details=details,
    )


def refusal(target, **kwargs):
    with pytest.raises(ReportRefused) as caught:
        report(target, **kwargs)
    return caught.value


def alerts():
    return list(AuditEntry.objects.filter(action="report_alert").order_by("pk"))


def message_in(broadcast, text="Buy followers at spam.example"):
    return chat.post_message(broadcast=broadcast, user=chatter(), text=text).message


def api_client():
    """An anonymous browser: CSRF enforced, its token from the watch page's cookie."""
    return Client(enforce_csrf_checks=True)


def post_report(client, broadcast, address=None, **body):
    client.get(broadcast.get_absolute_url())
    return client.post(
        "/api/reports",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
        REMOTE_ADDR=address or fresh_address(),
    )


# --- filing ---------------------------------------------------------------------------
def test_anonymous_viewer_can_report_a_broadcast_over_http():
    broadcast = live_broadcast(title="Night walk")
    response = post_report(
        api_client(), broadcast, target="broadcast", id=broadcast.slug, reason="violence"
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_reason"

    response = post_report(
        api_client(), broadcast, target="broadcast", id=broadcast.slug, reason="crime"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["type"] == "report" and "team" in body["message"] and "help" not in body
    # No id: it would tell a repeat reporter that someone on their network reported it.
    assert "id" not in body
    filed = Report.objects.get()
    assert filed.reporter is None and filed.reporter_key.startswith("a:")
    assert filed.target_kind == "broadcast" and filed.target_key == f"b:{broadcast.pk}"
    assert filed.broadcast == broadcast and filed.target_user == broadcast.owner
    assert filed.urgent and filed.state == Report.State.OPEN
    assert filed.snapshot["broadcast"]["title"] == "Night walk"
    assert filed.snapshot["broadcast"]["owner_handle"] == broadcast.owner.handle
    assert filed.snapshot["broadcast"]["owner_x_id"] == broadcast.owner.x_id


def test_report_api_refuses_a_post_without_the_csrf_token():
    broadcast = live_broadcast()
    response = api_client().post(
        "/api/reports",
        data=json.dumps({"target": "broadcast", "id": broadcast.slug, "reason": "spam"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert not Report.objects.exists()


def test_self_harm_report_answers_with_where_to_find_help(settings):
    settings.SELF_HARM_HELP_TEXT = "Call 3114, or visit https://help.example.org."
    broadcast = live_broadcast()
    response = post_report(
        api_client(), broadcast, target="broadcast", id=broadcast.slug, reason="self_harm"
    )
    assert response.status_code == 201
    assert response.json()["help"] == "Call 3114, or visit https://help.example.org."


def test_signed_in_viewer_can_report_a_chat_message_as_a_form_post():
    broadcast = live_broadcast()
    message = message_in(broadcast, "You are all idiots")
    viewer = chatter()
    client = Client()
    client.force_login(viewer)
    response = client.post(
        "/api/reports",
        {"target": "message", "id": str(message.pk), "reason": "harassment", "details": "Rude"},
    )
    assert response.status_code == 201, response.content
    filed = Report.objects.get()
    assert filed.reporter == viewer and filed.reporter_key == f"u:{viewer.pk}"
    assert filed.message == message and filed.broadcast == broadcast
    assert filed.target_user == message.author and filed.details == "Rude"
    assert not filed.urgent
    assert filed.snapshot["message"] == {
        "id": message.pk,
        "text": "You are all idiots",
        "author_id": message.author_id,
        "author_x_id": message.author.x_id,
        "author_handle": message.author.handle,
        "created_at": message.created_at.isoformat(),
    }
    assert filed.snapshot["broadcast"]["slug"] == broadcast.slug
    assert filed.snapshot["broadcast"]["started_at"] == broadcast.started_at.isoformat()


def test_a_repeat_report_updates_the_open_report_instead_of_adding_one():
    broadcast = live_broadcast()
    viewer = chatter()
    first = report(broadcast, by=viewer, reason=Reason.SPAM)
    again = report(broadcast, by=viewer, reason=Reason.SEXUAL, details="Now it is worse")
    assert again.pk == first.pk and Report.objects.count() == 1
    again.refresh_from_db()
    assert again.reason == Reason.SEXUAL
    assert again.details.startswith("[") and again.details.endswith(" UTC] Now it is worse")
    assert again.snapshot["reported_at"] == first.snapshot["reported_at"]
    # Once settled, the same viewer may report it again: a new report.
    settle_reports(reports=[again], by=None, decision="dismissed")
    assert report(broadcast, by=viewer).pk != first.pk


def test_anonymous_reports_from_one_address_share_one_open_report():
    broadcast = live_broadcast()
    address = fresh_address()
    for reason in (Reason.SPAM, Reason.COPYRIGHT, Reason.IMPERSONATION):
        report(broadcast, address=address, reason=reason)
    assert Report.objects.get().reason == Reason.IMPERSONATION
    report(broadcast, address=fresh_address())
    assert Report.objects.count() == 2


def test_a_repeat_never_weakens_a_report_and_keeps_every_word(committed):
    broadcast = live_broadcast()
    address = fresh_address()
    child = committed(broadcast, address=address, reason=Reason.CHILD_SAFETY, details="Age 10")
    # Someone else on the same network: the same anonymous reporter, the same report.
    later = committed(broadcast, address=address, reason=Reason.SPAM, details="Just spam")
    assert later.pk == child.pk
    later.refresh_from_db()
    assert (later.reason, later.urgent) == (Reason.CHILD_SAFETY, True)
    first, second = later.details.split("\n")
    assert first == "Age 10" and second.endswith(" UTC] Just spam")
    moment = later.updated_at.strftime("%Y-%m-%d %H:%M")
    assert second == f"[{moment} UTC] Just spam"
    # A more serious reason is taken, and alerts; a lesser urgent one neither.
    crime = live_broadcast()
    committed(crime, address=address, reason=Reason.SELF_HARM)
    committed(crime, address=address, reason=Reason.CRIME)
    committed(crime, address=address, reason=Reason.SELF_HARM)
    assert Report.objects.get(broadcast=crime).reason == Reason.CRIME
    assert [a.details["why"] for a in alerts()] == ["urgent"] * 3


def test_repeat_details_keep_the_newest_text_within_the_cap():
    now = timezone.now()
    stamp = f"[{now:%Y-%m-%d %H:%M} UTC] "
    assert append_details("old", "", now=now) == "old"
    assert append_details("", "new", now=now) == stamp + "new"
    full = "\n".join(["a" * 400, "b" * 400, "c" * 190])
    kept = append_details(full, "newest", now=now)
    assert len(kept) <= DETAILS_MAX
    assert kept == f"…\n{'b' * 400}\n{'c' * 190}\n{stamp}newest"
    # An entry that fills the field alone keeps its start.
    long = append_details("old", "d" * DETAILS_MAX, now=now)
    assert len(long) == DETAILS_MAX and long.startswith(stamp + "ddd") and long.endswith("…")
    # Through the service, the stored details never pass the cap.
    broadcast = live_broadcast()
    viewer = chatter()
    for letter in "xyz":
        filed = report(broadcast, by=viewer, reason=Reason.OTHER, details=letter * 900)
    filed.refresh_from_db()
    assert len(filed.details) <= DETAILS_MAX and filed.details.endswith("z" * 900)


def test_refusals_have_stable_codes():
    broadcast = live_broadcast()
    message = message_in(broadcast)
    assert refusal(broadcast, reason="nonsense").code == "invalid_reason"
    assert refusal(broadcast, reason=Reason.OTHER).code == "details_required"
    assert refusal(broadcast, reason=Reason.OTHER, details=" \n ").code == "details_required"
    assert refusal(broadcast, details="x" * 1001).code == "details_too_long"
    assert report(broadcast, reason=Reason.OTHER, details="x" * 1000).details == "x" * 1000
    assert refusal(broadcast, by=broadcast.owner).code == "self_report"
    assert refusal(message, by=message.author).code == "self_report"
    with pytest.raises(ReportRefused) as caught:
        file_report(
            reporter=None,
            address=fresh_address(),
            target_kind="user",
            target_id="1",
            reason=Reason.SPAM,
        )
    assert caught.value.code == "invalid_target"
    for kind, target_id in (("broadcast", "nope"), ("message", "999999"), ("message", "x")):
        with pytest.raises(ReportRefused) as caught:
            file_report(
                reporter=None,
                address=fresh_address(),
                target_kind=kind,
                target_id=target_id,
                reason=Reason.SPAM,
            )
        assert caught.value.code == "not_found"
    # A message already deleted is gone for viewers: nothing left to report.
    chat.delete_message(message_id=message.pk, by=broadcast.owner)
    assert refusal(message).code == "not_found"


def test_report_api_answers_bad_requests_with_stable_codes():
    broadcast = live_broadcast()
    client = api_client()
    client.get(broadcast.get_absolute_url())
    token = client.cookies["csrftoken"].value

    def post(data, content_type="application/json"):
        return client.post(
            "/api/reports", data=data, content_type=content_type, HTTP_X_CSRFTOKEN=token
        )

    cases = [
        (post("{not json"), 400, "invalid_request"),
        (post("[1, 2]"), 400, "invalid_request"),
        (post(json.dumps({"target": "broadcast", "id": 5, "reason": 3})), 400, "invalid_request"),
        (post(json.dumps({"target": "broadcast", "id": "x" * 9000})), 413, "too_large"),
        (
            post(json.dumps({"target": "broadcast", "id": "nope", "reason": "spam"})),
            404,
            "not_found",
        ),
        (post(json.dumps({"target": "x", "id": "1", "reason": "spam"})), 400, "invalid_target"),
    ]
    for response, status, code in cases:
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert response.json()["type"] == "error" and response.json()["message"]


# --- anonymous limits -----------------------------------------------------------------
def test_anonymous_reports_are_limited_per_address(settings):
    settings.REPORT_ANON_PER_ADDRESS_PER_HOUR = 3
    address = fresh_address()
    broadcasts = [live_broadcast() for _ in range(4)]
    for broadcast in broadcasts[:3]:
        report(broadcast, address=address)
    refused = refusal(broadcasts[3], address=address)
    assert refused.code == "rate_limited" and 3000 < refused.retry_after <= 3600
    # Another address, and any signed-in viewer, may still report.
    report(broadcasts[3], address=fresh_address())
    report(broadcasts[3], by=chatter(), address=address)

    response = post_report(
        api_client(),
        broadcasts[0],
        address,
        target="broadcast",
        id=broadcasts[0].slug,
        reason="spam",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and response.json()["retry_after"] > 3000
    assert 3000 < int(response["Retry-After"]) <= 3600


def test_anonymous_reports_are_limited_per_broadcast(settings):
    settings.REPORT_ANON_PER_BROADCAST_PER_HOUR = 3
    broadcast = live_broadcast()
    message = message_in(broadcast)
    report(broadcast)
    report(message)
    report(broadcast)
    assert refusal(message).code == "rate_limited"
    assert refusal(broadcast).code == "rate_limited"
    report(live_broadcast())  # another broadcast is not affected
    report(broadcast, by=chatter())
    # Urgent reasons pass the broadcast's limit (nobody can use it up in advance)...
    for reason in (Reason.CHILD_SAFETY, Reason.CRIME, Reason.SELF_HARM):
        assert report(broadcast, reason=reason).urgent
    assert refusal(broadcast).code == "rate_limited"


def test_urgent_anonymous_reports_still_count_toward_the_address_limit(settings):
    settings.REPORT_ANON_PER_ADDRESS_PER_HOUR = 2
    address = fresh_address()
    report(live_broadcast(), address=address, reason=Reason.CHILD_SAFETY)
    report(live_broadcast(), address=address, reason=Reason.SELF_HARM)
    refused = refusal(live_broadcast(), address=address, reason=Reason.CRIME)
    assert refused.code == "rate_limited"


def test_signed_in_reporters_are_limited_per_user(settings):
    settings.REPORT_PER_USER_PER_HOUR = 3
    viewer = chatter()
    for _ in range(3):
        report(live_broadcast(), by=viewer, reason=Reason.CRIME)
    refused = refusal(live_broadcast(), by=viewer)
    assert refused.code == "rate_limited" and 3000 < refused.retry_after <= 3600
    assert "too many reports" in refused.message
    report(live_broadcast(), by=chatter())  # another user is not affected

    client = Client()
    client.force_login(viewer)
    broadcast = live_broadcast()
    response = client.post(
        "/api/reports", {"target": "broadcast", "id": broadcast.slug, "reason": "spam"}
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and response.json()["retry_after"] > 3000


# --- alerts ---------------------------------------------------------------------------
@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """File a report and run what its commit sets off (the alert), as in production."""

    def file(*args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return report(*args, **kwargs)

    return file


def test_more_than_three_distinct_reporters_alert_once(committed):
    broadcast = live_broadcast()
    for _ in range(3):
        committed(broadcast, by=chatter())
    committed(message_in(broadcast), by=chatter())  # a message's report is not the broadcast's
    assert alerts() == []
    fourth = committed(broadcast, by=chatter())
    assert [(a.target_id, a.details) for a in alerts()] == [(str(fourth.pk), {"why": "threshold"})]
    committed(broadcast, by=chatter())
    committed(broadcast, by=chatter())
    assert len(alerts()) == 1


def test_anonymous_reports_from_one_address_count_as_one_reporter(committed):
    broadcast = live_broadcast()
    address = fresh_address()
    committed(broadcast, by=chatter())
    committed(broadcast, by=chatter())
    for _ in range(5):
        committed(broadcast, address=address)
    assert alerts() == []
    assert report_queries.open_report_summary()[broadcast.pk].reporters == 3
    committed(broadcast, address=fresh_address())
    assert len(alerts()) == 1


def test_a_settled_broadcast_alerts_again_when_reported_anew(
    committed, django_capture_on_commit_callbacks
):
    broadcast = live_broadcast()
    first = [committed(broadcast, by=chatter()) for _ in range(4)]
    assert len(alerts()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        settle_reports(reports=first, by=None, decision="dismissed")
    for _ in range(4):
        committed(broadcast, by=chatter())
    assert len(alerts()) == 2


def test_urgent_reasons_are_marked_and_alert_at_once(committed):
    broadcast = live_broadcast()
    message = message_in(broadcast)
    viewer = chatter()
    spam = committed(broadcast, by=viewer, reason=Reason.SPAM)
    assert not spam.urgent and alerts() == []
    urgent = committed(broadcast, by=viewer, reason=Reason.CHILD_SAFETY)
    assert urgent.pk == spam.pk and urgent.urgent
    assert [a.details for a in alerts()] == [{"why": "urgent"}]
    # The same target and reason from others within the hour: no second email.
    committed(broadcast, by=chatter(), reason=Reason.CHILD_SAFETY)
    assert len(alerts()) == 1
    committed(message, reason=Reason.SELF_HARM)
    committed(broadcast, reason=Reason.CRIME)
    assert [a.details["why"] for a in alerts()] == ["urgent"] * 3
    assert report_queries.urgent_open_count() == 4
    assert report_queries.open_count() == 4


def test_alert_emails_past_the_hourly_cap_give_way_to_one_notice(settings, committed):
    settings.REPORT_ALERTS_PER_HOUR = 2
    urgent = [committed(live_broadcast(), reason=Reason.CRIME) for _ in range(5)]
    assert [a.target_id for a in alerts()] == [str(r.pk) for r in urgent[:2]]
    suppressed = AuditEntry.objects.filter(action="report_alert_suppressed")
    assert [(e.target_id, e.details["limit"]) for e in suppressed] == [(str(urgent[2].pk), 2)]
    # The desk still counts every report.
    assert report_queries.urgent_open_count() == 5
    forget_alert_window()
    committed(live_broadcast(), reason=Reason.CRIME)
    assert len(alerts()) == 3 and suppressed.count() == 1


def test_the_notice_that_alerts_are_suppressed_names_no_report():
    from safety.alerts import suppressed_email

    subject, body = suppressed_email()
    assert "\n" not in subject and "not emailed" in subject
    assert "/admin/safety/report/" in body


@pytest.mark.django_db(transaction=True)
def test_urgent_report_is_emailed_to_admins_by_a_real_worker(tmp_path):
    from onair.celery import app

    with app.connection_for_write() as connection:
        app.control.purge(connection=connection)
    mail_dir = tmp_path / "mail"
    worker = CeleryWorker(
        tmp_path,
        name="alerts",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        ADMINS="Safety desk <desk@example.org>",
    )
    try:
        broadcast = live_broadcast(title="Bridge at night")
        filed = report(
            broadcast, reason=Reason.SELF_HARM, details=f"<script>alert(1)</script> {RLO}olleh"
        )

        def sent():
            return [p.read_text() for p in mail_dir.glob("*.log")] if mail_dir.exists() else []

        wait_for(sent, timeout=60, what="the alert email")
        # Stop the worker only once the task has finished (the file is complete).
        wait_for(
            lambda: "succeeded" in Path(worker.process.log_path).read_text(),
            timeout=60,
            what="the alert task to finish",
        )
        mails = sent()
    finally:
        worker.stop()
    assert len(mails) == 1
    mail = mails[0]
    assert "To: desk@example.org" in mail
    assert "Subject: [OnAir] Urgent report: Self-harm or suicide" in mail
    assert 'Content-Type: text/plain; charset="utf-8"' in mail
    assert "Bridge at night" in mail and f"/b/{broadcast.slug}/" in mail
    assert "<script>alert(1)</script> olleh" in mail
    assert f"/admin/safety/report/{filed.pk}/change/" in mail
    log = Path(worker.process.log_path).read_text()
    assert "safety.send_report_alert" in log and "succeeded" in log


# --- evidence ---------------------------------------------------------------------------
def test_snapshot_survives_the_message_being_deleted_and_purged():
    broadcast = live_broadcast()
    message = message_in(broadcast, "Meet me at 12 Rue de la Paix")
    filed = report(message, by=chatter(), reason=Reason.PRIVACY)
    message_id = message.pk
    chat.delete_message(message_id=message.pk, by=broadcast.owner)
    message.delete()
    broadcast.delete()
    filed.refresh_from_db()
    assert filed.message is None and filed.broadcast is None
    assert filed.snapshot["message"]["text"] == "Meet me at 12 Rue de la Paix"
    assert filed.snapshot["message"]["author_handle"] == message.author.handle
    assert filed.snapshot["broadcast"]["title"] == broadcast.title
    assert filed.target_key == f"m:{message_id}"


def test_report_of_a_live_broadcast_keeps_a_copy_of_the_live_picture():
    from broadcast.thumbnails import Thumbnail, get_store

    broadcast = live_broadcast()
    taken_at = timezone.now() - timedelta(seconds=2)
    picture = b"\xff\xd8\xff\xe0 a small jpeg"
    get_store().put(broadcast.slug, Thumbnail(picture, "image/jpeg", taken_at, 320, 180))
    filed = report(broadcast, reason=Reason.SEXUAL)
    filed.refresh_from_db()
    assert bytes(filed.thumbnail) == picture and filed.thumbnail_type == "image/jpeg"
    assert filed.snapshot["thumbnail_taken_at"] == taken_at.isoformat()
    # A later picture never replaces the first evidence.
    get_store().put(broadcast.slug, Thumbnail(b"later", "image/jpeg", timezone.now(), 320, 180))
    report(broadcast, address=None, reason=Reason.SEXUAL)  # another reporter: its own copy
    assert bytes(Report.objects.get(pk=filed.pk).thumbnail) == picture


def test_report_of_a_broadcast_without_a_picture_has_no_thumbnail():
    ended = live_broadcast(state="ended")
    filed = report(ended)
    assert filed.thumbnail is None and "thumbnail_taken_at" not in filed.snapshot
    assert filed.snapshot["broadcast"]["state"] == "ended"


def test_hostile_report_text_is_stored_and_mailed_as_text():
    broadcast = live_broadcast(title="<img src=x onerror=alert(1)>")
    details = f"<script>window.__pwned=1</script>\n{RLO}gpj.exe\x00 and\tmore"
    filed = report(broadcast, reason=Reason.OTHER, details=details)
    # Kept as typed, less what only hides or reorders text (controls, bidi overrides).
    assert filed.details == "<script>window.__pwned=1</script>\ngpj.exe and more"
    subject, body = alert_email(filed, "urgent")
    assert "<" not in subject and "\n" not in subject
    assert "<script>window.__pwned=1</script>" in body
    assert "<img src=x onerror=alert(1)>" in body


# --- the desk's reads and settling -----------------------------------------------------
def test_open_report_summary_counts_a_broadcast_with_its_messages():
    broadcast = live_broadcast()
    quiet = live_broadcast()
    message = message_in(broadcast)
    viewer = chatter()
    report(broadcast, by=viewer, reason=Reason.SPAM)
    report(message, by=viewer, reason=Reason.HARASSMENT)
    report(message, reason=Reason.SELF_HARM)
    report(quiet, reason=Reason.COPYRIGHT)
    summary = report_queries.open_report_summary()
    loud = summary[broadcast.pk]
    assert (loud.count, loud.reporters, loud.reason, loud.urgent) == (3, 2, "self_harm", True)
    calm = summary[quiet.pk]
    assert (calm.count, calm.reporters, calm.reason, calm.urgent) == (1, 1, "copyright", False)
    assert sorted(summary.values(), key=lambda s: s.priority)[0] == loud
    assert set(report_queries.open_report_summary([quiet.pk])) == {quiet.pk}


def test_settling_closes_reports_with_a_legal_hold_and_an_audit_entry(settings):
    settings.LEGAL_HOLD_DAYS = 90
    settings.LEGAL_HOLD_CHILD_SAFETY_DAYS = 365
    staff = chatter(is_staff=True)
    broadcast = live_broadcast()
    child = report(broadcast, reason=Reason.CHILD_SAFETY)
    spam = report(broadcast, reason=Reason.SPAM)
    other = report(live_broadcast(), reason=Reason.SPAM)
    before = timezone.now()
    settled = settle_reports(
        reports=Report.objects.filter(broadcast=broadcast),
        by=staff,
        decision="taken_down",
        note="Clear breach",
    )
    assert {r.pk for r in settled} == {child.pk, spam.pk}
    child.refresh_from_db()
    spam.refresh_from_db()
    for closed in (child, spam):
        assert closed.state == Report.State.ACTIONED and closed.closed_by == staff
        assert closed.decision == "taken_down" and closed.decision_note == "Clear breach"
        assert before <= closed.closed_at <= timezone.now()
    assert child.hold_until == child.closed_at + timedelta(days=365)
    assert spam.hold_until == spam.closed_at + timedelta(days=90)
    entries = AuditEntry.objects.filter(action="report_taken_down").order_by("target_id")
    assert [(e.actor, e.target_kind, e.reason) for e in entries] == [
        (staff, "report", "Clear breach")
    ] * 2
    assert {e.target_id for e in entries} == {str(child.pk), str(spam.pk)}
    # Settling again changes nothing; a dismissal dismisses.
    assert settle_reports(reports=[child], by=staff, decision="dismissed") == []
    settle_reports(reports=[other], by=staff, decision="dismissed")
    other.refresh_from_db()
    assert other.state == Report.State.DISMISSED
    assert AuditEntry.objects.filter(action="report_dismissed").count() == 1
    assert report_queries.open_count() == 0
    with pytest.raises(ValueError):
        settle_reports(reports=[other], by=staff, decision="shrugged")
