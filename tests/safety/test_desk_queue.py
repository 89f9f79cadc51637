"""The reports queue in Django admin: what it lists and filters, the evidence, and the
actions (dismiss, remove the message, take down, restrict, ban), each settling the
reports it covers."""

import pytest
from django.urls import reverse

from chat.models import ChatEvent, ChatMessage
from safety.models import AuditEntry, Notice, Reason, Report, Restriction
from tests.safety.desk_support import (
    QUEUE,
    chatter,
    live_broadcast,
    message_in,
    moderator,
    plain_staff,
    report,
    signed_in,
    with_picture,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    """A moderator's browser session."""
    return signed_in(moderator())


# --- the reports queue -------------------------------------------------------------------


def test_queue_lists_reason_target_reporter_and_escapes_what_users_wrote(desk):
    broadcast = live_broadcast(title="<script>alert('title')</script>")
    report(broadcast, reason=Reason.CRIME)
    report(message_in(broadcast, "<img src=x onerror=alert(1)>"), by=chatter(handle="vera"))

    page = desk.get(QUEUE).content.decode()

    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "anonymous" in page
    assert "@vera" in page
    assert "Violence or a crime in progress" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"reason__exact": Reason.CRIME}, {"crime"}),
        ({"target_kind__exact": "message"}, {"harassment"}),
        ({"state__exact": "dismissed"}, {"spam"}),
        ({"state__exact": "open", "urgent__exact": "1"}, {"crime"}),
    ],
)
def test_queue_filters_by_reason_target_and_state(desk, query, expected):
    broadcast = live_broadcast()
    report(broadcast, by=chatter(), reason=Reason.CRIME)
    report(message_in(broadcast), by=chatter(), reason=Reason.HARASSMENT)
    dismissed = report(live_broadcast(), by=chatter(), reason=Reason.SPAM)
    Report.objects.filter(pk=dismissed.pk).update(state=Report.State.DISMISSED)

    response = desk.get(QUEUE, query)

    assert response.status_code == 200
    assert {r.reason for r in response.context["cl"].result_list} == expected


def test_report_page_shows_the_evidence_read_only_with_the_stored_picture(desk):
    broadcast = with_picture(live_broadcast(title="Evidence stream"))
    filed = report(broadcast, by=chatter(), reason=Reason.CRIME, details="Someone is hurt")
    assert filed.thumbnail

    page = desk.get(reverse("admin:safety_report_change", args=[filed.pk])).content.decode()
    picture = desk.get(reverse("admin:safety_report_thumbnail", args=[filed.pk]))

    assert "Evidence stream" in page
    assert "Someone is hurt" in page
    assert reverse("admin:safety_report_thumbnail", args=[filed.pk]) in page
    assert "<textarea" not in page and 'name="reason"' not in page
    assert picture.status_code == 200
    assert picture["Content-Type"] == "image/jpeg"
    assert picture.content == bytes(filed.thumbnail)
    assert "no-store" in picture["Cache-Control"]


def test_evidence_picture_is_served_only_as_an_image_from_the_report_row(desk):
    filed = report(live_broadcast(), by=chatter())
    Report.objects.filter(pk=filed.pk).update(
        thumbnail=b"<script>alert(1)</script>", thumbnail_type="text/html"
    )
    missing = report(live_broadcast(), by=chatter())

    for pk in (filed.pk, missing.pk, 999_999):
        response = desk.get(reverse("admin:safety_report_thumbnail", args=[pk]))
        assert response.status_code == 404


def test_reports_are_never_added_edited_or_deleted_by_hand(desk):
    filed = report(live_broadcast(), by=chatter())
    superuser = signed_in(chatter(is_staff=True, is_superuser=True))

    for client in (desk, superuser):
        assert client.get(reverse("admin:safety_report_add")).status_code == 403
        delete = reverse("admin:safety_report_delete", args=[filed.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        change = reverse("admin:safety_report_change", args=[filed.pk])
        client.post(change, {"state": "dismissed", "reason": "other"})
    filed.refresh_from_db()
    assert (filed.state, filed.reason) == (Report.State.OPEN, Reason.SPAM)


def run_action(client, action, reports, **fields):
    data = {"action": action, "_selected_action": [r.pk for r in reports], **fields}
    return client.post(QUEUE, data)


def test_dismiss_settles_with_who_when_and_the_note(desk):
    filed = report(live_broadcast(), by=chatter())

    asked = run_action(desk, "dismiss", [filed])
    done = run_action(desk, "dismiss", [filed], apply="1", note="Not against the rules")

    assert asked.status_code == 200  # the note form first
    assert "Not against the rules" not in asked.content.decode()
    assert done.status_code == 302
    filed.refresh_from_db()
    assert filed.state == Report.State.DISMISSED
    assert filed.decision == "dismissed"
    assert filed.decision_note == "Not against the rules"
    assert filed.closed_at is not None and filed.closed_by is not None
    assert AuditEntry.objects.filter(action="report_dismissed", target_id=str(filed.pk)).exists()


def test_remove_message_deletes_it_for_everyone_tells_the_author_and_settles(desk):
    broadcast = live_broadcast()
    message = message_in(broadcast, "You are all idiots")
    first = report(message, by=chatter(), reason=Reason.HARASSMENT)
    second = report(message, by=chatter(), reason=Reason.HARASSMENT)

    response = run_action(desk, "remove_messages", [first], apply="1", note="Insults")

    assert response.status_code == 302
    message.refresh_from_db()
    assert message.status == ChatMessage.Status.DELETED
    assert ChatEvent.objects.filter(kind="delete", payload__id=message.pk).exists()
    notice = Notice.objects.get(user=message.author)
    assert (notice.action, notice.rule) == (Notice.Action.MESSAGE_REMOVED, Reason.HARASSMENT)
    for filed in (first, second):
        filed.refresh_from_db()
        assert filed.decision == "message_removed"
    assert AuditEntry.objects.filter(action="chat_delete", target_id=str(message.pk)).exists()


def test_take_down_action_takes_down_the_reported_broadcast(desk):
    broadcast = live_broadcast()
    filed = report(broadcast, by=chatter(), reason=Reason.CRIME)

    asked = run_action(desk, "take_down", [filed])
    done = run_action(
        desk, "take_down", [filed], apply="1", rule=Reason.CRIME, reason="Crime", days=7
    )

    assert asked.status_code == 200
    assert '<option value="crime" selected>' in asked.content.decode()
    assert done.status_code == 302
    broadcast.refresh_from_db()
    assert broadcast.end_reason == "removed"
    filed.refresh_from_db()
    assert filed.decision == "taken_down"


def test_restrict_action_restricts_the_reported_person(desk):
    broadcast = live_broadcast()
    filed = report(broadcast, by=chatter(), reason=Reason.HARASSMENT)

    response = run_action(
        desk,
        "restrict_users",
        [filed],
        apply="1",
        rule=Reason.HARASSMENT,
        reason="Repeated harassment",
        days=3,
    )

    assert response.status_code == 302
    restriction = Restriction.objects.get(user=broadcast.owner)
    assert restriction.reason == "Repeated harassment"
    filed.refresh_from_db()
    assert filed.decision == "restricted"


def test_ban_action_bans_the_account_and_settles_every_report_about_them(desk):
    broadcast = live_broadcast()
    message = message_in(broadcast, author=broadcast.owner)
    filed = report(broadcast, by=chatter(), reason=Reason.CHILD_SAFETY)
    about_message = report(message, by=chatter(), reason=Reason.CHILD_SAFETY)

    unconfirmed = run_action(
        desk, "ban_users", [filed], apply="1", rule=Reason.CHILD_SAFETY, reason="CSAM"
    )
    response = run_action(
        desk, "ban_users", [filed], apply="1", rule=Reason.CHILD_SAFETY, reason="CSAM", confirm="on"
    )

    assert unconfirmed.status_code == 200  # the form again: the ban must be confirmed
    assert response.status_code == 302
    broadcast.owner.refresh_from_db()
    assert broadcast.owner.is_active is False
    for settled in (filed, about_message):
        settled.refresh_from_db()
        assert settled.decision == "banned"


def test_a_refused_act_is_shown_and_leaves_the_reports_open(desk):
    staff_owner = chatter(is_staff=True)
    filed = report(live_broadcast(owner=staff_owner), by=chatter())

    response = run_action(
        desk, "ban_users", [filed], apply="1", rule=Reason.SPAM, reason="Spam", confirm="on"
    )

    assert response.status_code == 302
    filed.refresh_from_db()
    assert filed.state == Report.State.OPEN
    staff_owner.refresh_from_db()
    assert staff_owner.is_active


def test_staff_who_may_only_read_reports_get_no_actions():
    from django.contrib.auth.models import Permission

    reader = plain_staff()
    reader.user_permissions.add(Permission.objects.get(codename="view_report"))
    filed = report(live_broadcast(), by=chatter())
    client = signed_in(reader)

    page = client.get(QUEUE).content.decode()
    response = run_action(client, "dismiss", [filed], apply="1")

    assert 'value="dismiss"' not in page
    assert response.status_code in (200, 302)
    filed.refresh_from_db()
    assert filed.state == Report.State.OPEN
