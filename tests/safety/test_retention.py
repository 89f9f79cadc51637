"""The retention purge, with a frozen clock (`now` passed in): what goes, what stays, in
bounded batches, recorded in the audit log, and run daily by a real worker."""

import re
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from broadcast import services as broadcast_services
from broadcast.models import Broadcast, XPost
from chat import services as chat_services
from chat.models import ChatEvent, ChatMessage, ChatRoom, ModerationAction
from safety import audit
from safety.models import AuditEntry, Reason, Report
from safety.reports import settle_reports
from safety.retention import purge_expired
from tests.conftest import CeleryWorker
from tests.factories import (
    BroadcastFactory,
    ChatMessageFactory,
    ReportFactory,
    UserFactory,
    chat_room_of,
)
from tests.support import wait_for, years_ago

pytestmark = pytest.mark.django_db

NOW = timezone.now()
DAYS = settings.RETENTION_DAYS


def ended_broadcast(*, days_ago, owner=None, messages=2, now=NOW):
    """A broadcast that ended `days_ago` days before `now`, with chat messages."""
    broadcast = BroadcastFactory(
        owner=owner or UserFactory(),
        state=Broadcast.State.ENDED,
        started_at=now - timedelta(days=days_ago, hours=1),
        ended_at=now - timedelta(days=days_ago),
    )
    room = chat_room_of(broadcast)
    for _ in range(messages):
        ChatMessageFactory(room=room)
    return broadcast


def exists(broadcast):
    return Broadcast.objects.filter(pk=broadcast.pk).exists()


def chat_rows(broadcast):
    return (
        ChatRoom.objects.filter(pk=broadcast.pk).count()
        + ChatEvent.objects.filter(room_id=broadcast.pk).count()
        + ChatMessage.objects.filter(room_id=broadcast.pk).count()
    )


def test_nothing_younger_than_the_retention_period_goes():
    young = ended_broadcast(days_ago=DAYS - 1)
    old = ended_broadcast(days_ago=DAYS + 1)

    purge_expired(now=NOW)

    assert exists(young)
    assert chat_rows(young) == 1 + 2 + 2
    assert not exists(old)
    assert chat_rows(old) == 0


def test_live_and_created_broadcasts_never_go():
    long_ago = NOW - timedelta(days=10 * DAYS)
    live = BroadcastFactory(state=Broadcast.State.LIVE, started_at=long_ago)
    ChatMessageFactory(room=chat_room_of(live))
    created = BroadcastFactory(state=Broadcast.State.CREATED)
    Broadcast.objects.filter(pk=created.pk).update(created_at=long_ago)

    purge_expired(now=NOW)

    assert exists(live) and chat_rows(live) == 3
    assert exists(created)


def test_chat_events_messages_moderation_and_x_post_records_go_with_their_broadcast():
    owner = UserFactory(birth_date=years_ago(30))
    viewer = UserFactory(birth_date=years_ago(25))
    broadcast = broadcast_services.start_broadcast(
        owner=owner, title="Old show", visibility="public", tell_followers=False
    )
    chat_services.post_message(broadcast=broadcast, user=owner, text="welcome everyone")
    removed = chat_services.post_message(broadcast=broadcast, user=viewer, text="rude words")
    chat_services.delete_message(message_id=removed.message.pk, by=owner)
    XPost.objects.create(
        purpose=XPost.Purpose.GO_LIVE,
        source_key=f"go_live:{broadcast.pk}",
        idempotency_key=f"test-{broadcast.pk}",
        user=owner,
        broadcast=broadcast,
        text="I am live",
        state=XPost.State.POSTED,
        post_id="1234",
    )
    broadcast_services.end_broadcast(broadcast=broadcast, reason="owner")
    assert ChatEvent.objects.filter(room_id=broadcast.pk).count() == 3  # 2 messages, 1 deletion
    assert ModerationAction.objects.filter(broadcast=broadcast).exists()

    entry = purge_expired(now=timezone.now() + timedelta(days=DAYS + 1))

    assert not exists(broadcast)
    assert chat_rows(broadcast) == 0
    assert not ModerationAction.objects.filter(details__text="rude words").exists()
    assert not XPost.objects.filter(post_id="1234").exists()
    for text in ("welcome everyone", "rude words"):
        assert not ChatMessage.objects.filter(text=text).exists()
        assert not any(text in str(p) for p in ChatEvent.objects.values_list("payload", flat=True))
    counts = entry.details["counts"]
    assert counts["broadcast.Broadcast"] == 1
    assert counts["chat.ChatRoom"] == 1
    assert counts["chat.ChatEvent"] == 3
    assert counts["chat.ChatMessage"] == 2
    assert counts["chat.ModerationAction"] == 1
    assert counts["broadcast.XPost"] == 1


def test_an_x_post_being_deleted_keeps_its_broadcast_until_the_deletion_is_done():
    broadcast = ended_broadcast(days_ago=DAYS + 1)
    post = XPost.objects.create(
        purpose=XPost.Purpose.GO_LIVE,
        source_key=f"go_live:{broadcast.pk}",
        idempotency_key=f"test-{broadcast.pk}",
        user=broadcast.owner,
        broadcast=broadcast,
        text="I am live",
        state=XPost.State.POSTED,
        deletion_state=XPost.DeletionState.REQUESTED,
    )

    purge_expired(now=NOW)
    assert exists(broadcast) and chat_rows(broadcast) == 5

    XPost.objects.filter(pk=post.pk).update(deletion_state=XPost.DeletionState.DELETED)
    purge_expired(now=NOW)
    assert not exists(broadcast)


def test_an_open_report_of_a_message_holds_its_broadcast_and_every_message():
    broadcast = ended_broadcast(days_ago=10 * DAYS, messages=3)
    message = ChatMessage.objects.filter(room_id=broadcast.pk).first()
    ReportFactory(
        broadcast=None, target_kind="message", target_key=f"m:{message.pk}", message=message
    )

    purge_expired(now=NOW)

    assert exists(broadcast)
    assert chat_rows(broadcast) == 1 + 3 + 3


def test_a_closed_report_holds_until_its_legal_hold_runs_out():
    broadcast = ended_broadcast(days_ago=DAYS + 1)
    report = ReportFactory(broadcast=broadcast, reason=Reason.HARASSMENT)
    settle_reports(reports=[report], by=UserFactory(is_staff=True), decision="dismissed")
    report.refresh_from_db()
    assert report.hold_until > report.closed_at

    purge_expired(now=report.hold_until - timedelta(minutes=1))
    assert exists(broadcast) and chat_rows(broadcast) == 5

    purge_expired(now=report.hold_until + timedelta(minutes=1))
    assert not exists(broadcast) and chat_rows(broadcast) == 0


def test_a_child_safety_report_holds_for_its_longer_period():
    broadcast = ended_broadcast(days_ago=DAYS + 1)
    report = ReportFactory(broadcast=broadcast, reason=Reason.CHILD_SAFETY)
    settle_reports(reports=[report], by=UserFactory(is_staff=True), decision="taken_down")
    report.refresh_from_db()
    closed = report.closed_at

    purge_expired(now=closed + timedelta(days=settings.LEGAL_HOLD_DAYS + 1))
    assert exists(broadcast)
    purge_expired(now=closed + timedelta(days=settings.LEGAL_HOLD_CHILD_SAFETY_DAYS - 1))
    assert exists(broadcast)
    purge_expired(now=closed + timedelta(days=settings.LEGAL_HOLD_CHILD_SAFETY_DAYS + 1))
    assert not exists(broadcast)


def test_a_small_batch_size_deletes_everything_in_several_bounded_transactions():
    doomed = [ended_broadcast(days_ago=DAYS + 1 + i, messages=4) for i in range(5)]

    entry = purge_expired(now=NOW, batch_size=20)

    assert not any(exists(b) or chat_rows(b) for b in doomed)
    counts, batches = entry.details["counts"], entry.details["batches"]
    assert counts["broadcast.Broadcast"] == 5
    assert counts["chat.ChatEvent"] == counts["chat.ChatMessage"] == 20
    # Broadcasts go two at a time (a tenth of the batch: each brings its room and
    # links), their 8, 8 and 4 messages (and as many events) in one transaction each.
    assert batches["broadcast.Broadcast"] == 3
    assert batches["chat.ChatEvent"] == batches["chat.ChatMessage"] == 3


def test_a_large_chat_goes_in_batches_of_the_batch_size():
    doomed = ended_broadcast(days_ago=DAYS + 1, messages=7)

    entry = purge_expired(now=NOW, batch_size=2)

    assert not exists(doomed)
    # Seven rows, two per transaction at most: four transactions per table.
    assert entry.details["batches"]["chat.ChatEvent"] == 4
    assert entry.details["batches"]["chat.ChatMessage"] == 4


def test_deleting_a_batch_reads_no_rows_and_releases_what_points_at_them():
    """The purge's fast path: one DELETE per table and batch whose subquery picks the
    keys (no row read into Python), and a report of a purged message keeps its evidence
    with the link set to NULL, as Django's own deletion would."""
    broadcast = ended_broadcast(days_ago=DAYS + 1, messages=3)
    message = ChatMessage.objects.filter(room_id=broadcast.pk).first()
    old = NOW - timedelta(days=DAYS)
    settled = ReportFactory(
        broadcast=None,
        target_kind="message",
        target_key=f"m:{message.pk}",
        message=message,
        state=Report.State.DISMISSED,
        closed_at=old,
        hold_until=old + timedelta(days=1),
        snapshot={"text": message.text},
    )

    with CaptureQueriesContext(connection) as queries:
        purge_expired(now=NOW)

    settled.refresh_from_db()
    assert settled.message is None and settled.snapshot == {"text": message.text}
    message_sql = [q["sql"] for q in queries if '"chat_chatmessage"' in q["sql"]]
    deletes = [sql for sql in message_sql if sql.startswith('DELETE FROM "chat_chatmessage"')]
    assert len(deletes) == 1 and "SELECT" in deletes[0]
    listed = re.compile(r'"chat_chatmessage"\."id" IN \(\d')
    assert not [sql for sql in message_sql if listed.search(sql)]


def test_reports_and_audit_rows_age_out_with_their_evidence():
    keep_for = timedelta(days=settings.REPORT_RETENTION_DAYS)
    reporter = UserFactory()

    def closed_report(closed_days_ago, **fields):
        closed_at = NOW - timedelta(days=closed_days_ago)
        return ReportFactory(
            reporter=reporter,
            reporter_key=f"u:{reporter.pk}:{closed_days_ago}",
            state=Report.State.DISMISSED,
            created_at=closed_at - timedelta(days=1),
            closed_at=closed_at,
            hold_until=closed_at + timedelta(days=settings.LEGAL_HOLD_DAYS),
            snapshot={"title": "evidence"},
            thumbnail=b"\xff\xd8 jpeg",
            **fields,
        )

    expired = closed_report(keep_for.days + 1)
    recent = closed_report(keep_for.days - 1)
    still_held = closed_report(keep_for.days + 1, reason=Reason.CHILD_SAFETY)
    Report.objects.filter(pk=still_held.pk).update(hold_until=NOW + timedelta(days=30))
    forever_open = ReportFactory(created_at=NOW - 3 * keep_for)
    old_entry = audit.record(actor=None, action="test_old")
    young_entry = audit.record(actor=None, action="test_young")
    AuditEntry.objects.filter(pk=old_entry.pk).update(created_at=NOW - keep_for - timedelta(days=1))
    AuditEntry.objects.filter(pk=young_entry.pk).update(
        created_at=NOW - keep_for + timedelta(days=1)
    )

    entry = purge_expired(now=NOW)

    remaining = set(Report.objects.values_list("pk", flat=True))
    assert expired.pk not in remaining
    assert {recent.pk, still_held.pk, forever_open.pk} <= remaining
    assert not Report.objects.filter(thumbnail=b"\xff\xd8 jpeg", pk=expired.pk).exists()
    assert not AuditEntry.objects.filter(pk=old_entry.pk).exists()
    assert AuditEntry.objects.filter(pk=young_entry.pk).exists()
    assert entry.details["counts"]["safety.Report"] == 1
    assert entry.details["counts"]["safety.AuditEntry"] == 1


def test_audit_rows_about_a_held_broadcast_stay_as_long_as_it_does():
    broadcast = ended_broadcast(days_ago=400)
    ReportFactory(broadcast=broadcast, reason=Reason.CRIME)
    takedown = audit.record(
        actor=None, action="takedown", target_kind="broadcast", target_id=broadcast.pk
    )
    AuditEntry.objects.filter(pk=takedown.pk).update(created_at=NOW - timedelta(days=400))

    purge_expired(now=NOW)

    assert AuditEntry.objects.filter(pk=takedown.pk).exists()


def test_the_purge_records_its_counts_in_the_audit_log():
    ended_broadcast(days_ago=DAYS + 1, messages=2)

    purge_expired(now=NOW)

    entry = AuditEntry.objects.get(action="purge")
    assert entry.actor is None
    assert entry.actor_label == "system"
    assert entry.details["counts"] == {
        "broadcast.Broadcast": 1,
        "chat.ChatEvent": 2,
        "chat.ChatMessage": 2,
        "chat.ChatRoom": 1,
    }
    assert entry.details["retention_days"] == DAYS


def test_the_broadcasters_page_shows_only_the_last_live_date_after_the_purge(client):
    owner = UserFactory(handle="oldshow", birth_date=years_ago(30))
    broadcast = ended_broadcast(days_ago=DAYS + 1, owner=owner)
    older = ended_broadcast(days_ago=DAYS + 5, owner=owner)
    assert owner.last_live_at is None  # made by a factory, not by going live

    page = client.get("/u/oldshow/").content.decode()
    assert "Last live" in page and "Last live on" not in page

    purge_expired(now=NOW)

    assert not exists(broadcast) and not exists(older)
    owner.refresh_from_db()
    assert owner.last_live_at == broadcast.started_at
    page = client.get("/u/oldshow/").content.decode()
    assert f"Last live on {date_format(broadcast.started_at, 'DATE_FORMAT')}." in page
    assert "Has not been live yet" not in page


def test_going_live_keeps_the_last_live_date_on_the_user():
    owner = UserFactory(birth_date=years_ago(30))
    broadcast = broadcast_services.start_broadcast(
        owner=owner, title="now", visibility="public", tell_followers=False
    )
    owner.refresh_from_db()
    assert owner.last_live_at == broadcast.started_at


def test_the_beat_schedule_runs_the_purge_daily():
    from onair.celery import app

    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "safety.purge_expired"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1 and len(schedule.day_of_week) == 7
    app.loader.import_default_modules()
    assert "safety.purge_expired" in app.tasks


@pytest.mark.django_db(transaction=True)
def test_the_purge_task_runs_on_a_real_worker(tmp_path):
    from onair.celery import app
    from safety.tasks import purge_expired as purge_task

    # Real time here: the worker's clock is not frozen.
    doomed = ended_broadcast(days_ago=DAYS + 1, now=timezone.now())
    with app.connection_for_write() as broker:
        app.control.purge(connection=broker)
    worker = CeleryWorker(tmp_path, name="purge")
    try:
        purge_task.delay()
        wait_for(
            lambda: AuditEntry.objects.filter(action="purge").exists(),
            timeout=60,
            what="the worker's purge",
        )
        log = worker.process.output()
    finally:
        worker.stop()
    assert not exists(doomed)
    assert "safety.purge_expired" in log
