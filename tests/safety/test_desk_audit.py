"""The audit log in Django admin: read-only for everyone, filterable, exported as CSV
that a spreadsheet cannot run; the chat's moderation record is in it."""

import csv
import io

import pytest
from django.urls import reverse

from chat.services import delete_message
from safety import audit
from safety.models import AuditEntry
from tests.safety.desk_support import (
    AUDIT,
    EXPORT,
    chatter,
    live_broadcast,
    message_in,
    moderator,
    signed_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    """A moderator's browser session."""
    return signed_in(moderator())


# --- the audit log -------------------------------------------------------------------------


def test_audit_log_is_read_only_even_for_superusers():
    entry = audit.record(actor=None, action="purge", reason="nightly", rows=3)
    client = signed_in(chatter(is_staff=True, is_superuser=True))

    change = reverse("admin:safety_auditentry_change", args=[entry.pk])
    assert client.get(reverse("admin:safety_auditentry_add")).status_code == 403
    assert client.post(change, {"action": "forged", "reason": "x"}).status_code == 403
    delete = reverse("admin:safety_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(change).status_code == 200
    entry.refresh_from_db()
    assert (entry.action, entry.reason) == ("purge", "nightly")


def test_audit_log_filters_by_action_and_actor(desk):
    actor = chatter(handle="mod_ana")
    audit.record(actor=actor, action="takedown", target_kind="broadcast", target_id=1)
    audit.record(actor=None, action="purge")

    by_action = desk.get(AUDIT, {"action": "purge"}).context["cl"].result_list
    by_actor = desk.get(AUDIT, {"actor__id__exact": actor.pk}).context["cl"].result_list

    assert [e.action for e in by_action] == ["purge"]
    assert [e.action for e in by_actor] == ["takedown"]


def parse_csv(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_export_of_the_filtered_list_escapes_formula_cells(desk):
    hostile = ['=HYPERLINK("http://evil.example")', "+1+1", "-2", "@SUM(A1)", "\tTAB"]
    for text in hostile:
        audit.record(actor=None, action="report_dismissed", reason=text, note=text)
    audit.record(actor=None, action="purge", reason="fine")

    response = desk.get(EXPORT, {"action": "report_dismissed"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = parse_csv(response)
    assert sorted(row["reason"] for row in rows) == sorted(f"'{text}" for text in hostile)
    assert {row["action"] for row in rows} == {"report_dismissed"}
    assert all(row["details"].startswith("{") for row in rows)


def test_csv_export_action_exports_the_selected_rows(desk):
    chosen = audit.record(actor=None, action="takedown", reason="=1+2")
    audit.record(actor=None, action="takedown", reason="other")

    response = desk.post(AUDIT, {"action": "export_selected", "_selected_action": [chosen.pk]})

    rows = parse_csv(response)
    assert [(row["action"], row["reason"]) for row in rows] == [("takedown", "'=1+2")]


def test_the_audit_export_button_carries_the_filters(desk):
    page = desk.get(AUDIT, {"action": "purge"}).content.decode()

    assert f'href="{EXPORT}?action=purge"' in page


def test_chat_moderation_appears_in_the_audit_log():
    broadcast = live_broadcast()
    message = message_in(broadcast, "spam spam")

    delete_message(message_id=message.pk, by=broadcast.owner)

    entry = AuditEntry.objects.get(action="chat_delete")
    assert entry.actor == broadcast.owner
    assert (entry.target_kind, entry.target_id) == ("message", str(message.pk))
    assert entry.details["text"] == "spam spam"
    assert entry.target_snapshot["broadcast"] == broadcast.slug
