"""The moderation desk in Django admin, as a member of the Moderators group and as staff
without it: the live wall and its takedown, the alert count, who may open the desk;
restrictions, notices and appeals. The reports queue and the audit log have their own
modules (test_desk_queue.py, test_desk_audit.py)."""

import re

import pytest
from django.urls import reverse

from broadcast.models import Broadcast
from safety.appeals import file_appeal
from safety.models import Appeal, AuditEntry, Notice, Reason, Report, Restriction
from safety.restrictions import restrict
from tests.safety.desk_support import (
    ALERTS,
    AUDIT,
    EXPORT,
    QUEUE,
    WALL,
    chatter,
    live_broadcast,
    message_in,
    moderator,
    plain_staff,
    report,
    signed_in,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    """A moderator's browser session."""
    return signed_in(moderator())


def take_down_url(broadcast):
    return reverse("admin:safety_live_take_down", args=[broadcast.slug])


def takedown_form(broadcast, **fields):
    fields = {"rule": Reason.CRIME, "reason": "Filmed a fight", "days": 30, **fields}
    return {
        f"{broadcast.slug}-{name}": value for name, value in fields.items() if value is not None
    }


def cards(page):
    return re.findall(r'data-desk-card="([^"]+)"', page)


def days_of(restriction):
    return round((restriction.until - restriction.created_at).total_seconds() / 86400)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# --- the live wall --------------------------------------------------------------------


def test_live_wall_lists_every_live_broadcast_urgent_then_reported_first(desk):
    quiet = live_broadcast(title="Quiet cooking")
    spammy = live_broadcast(title="Spammy stream")
    crime = live_broadcast(title="Fight downtown")
    ended = live_broadcast(title="Over already", state=Broadcast.State.ENDED)
    report(spammy, by=chatter())
    report(crime, by=chatter(), reason=Reason.CRIME)
    message_in(quiet, "hello")
    message_in(quiet, "hello again")

    response = desk.get(WALL)

    assert response.status_code == 200
    page = response.content.decode()
    assert cards(page) == [crime.slug, spammy.slug, quiet.slug]
    assert ended.slug not in page
    assert "2 messages a minute" in page
    assert "Violence or a crime in progress" in page
    assert reverse("admin:accounts_user_change", args=[crime.owner_id]) in page
    assert f"/b/{crime.slug}/thumbnail.jpg" in page
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_takedown_form_preselects_a_restriction_only_for_urgent_reports(desk):
    crime = live_broadcast()
    spammy = live_broadcast()
    report(crime, by=chatter(), reason=Reason.CHILD_SAFETY)
    report(spammy, by=chatter(), reason=Reason.SPAM)

    page = desk.get(WALL).content.decode()

    checkbox = r'<input type="checkbox" name="{}-restrict"[^>]*>'
    assert "checked" in re.search(checkbox.format(re.escape(crime.slug)), page).group(0)
    assert "checked" not in re.search(checkbox.format(re.escape(spammy.slug)), page).group(0)
    assert f'name="{crime.slug}-days" value="30"' in page


def test_the_wall_refreshes_its_rows_from_a_partial(desk):
    broadcast = live_broadcast(title="Partial")

    response = desk.get(WALL, {"partial": 1})

    page = response.content.decode()
    assert cards(page) == [broadcast.slug]
    assert "<html" not in page


def test_takedown_from_the_wall_ends_restricts_and_settles_reports(desk):
    broadcast = live_broadcast(title="Fight downtown")
    on_broadcast = report(broadcast, by=chatter(), reason=Reason.CRIME)
    owners_words = message_in(broadcast, "Watch this", author=broadcast.owner)
    on_owners_message = report(owners_words, by=chatter(), reason=Reason.HARASSMENT)
    # A chatter's message in that chat is another person's conduct: it waits for its own act.
    on_chatters_message = report(message_in(broadcast), by=chatter(), reason=Reason.CHILD_SAFETY)
    elsewhere = report(live_broadcast(), by=chatter())

    response = desk.post(take_down_url(broadcast), takedown_form(broadcast, restrict="on"))

    assert response.status_code == 302
    assert response["Location"] == WALL
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.ENDED
    assert broadcast.end_reason == "removed"
    restriction = Restriction.objects.get(user=broadcast.owner)
    assert days_of(restriction) == 30
    for settled in (on_broadcast, on_owners_message):
        settled.refresh_from_db()
        assert settled.state == Report.State.ACTIONED
        assert settled.decision == "restricted"
        assert settled.closed_by.groups.filter(name="Moderators").exists()
    for still_open in (on_chatters_message, elsewhere):
        still_open.refresh_from_db()
        assert still_open.state == Report.State.OPEN
    takedown = AuditEntry.objects.get(action="takedown")
    assert takedown.target_id == str(broadcast.pk)
    assert takedown.actor == on_broadcast.closed_by
    assert AuditEntry.objects.filter(action="report_restricted").count() == 2


def test_takedown_without_restriction_is_recorded_as_taken_down(desk):
    broadcast = live_broadcast()
    filed = report(broadcast, by=chatter(), reason=Reason.SEXUAL)

    response = desk.post(take_down_url(broadcast), takedown_form(broadcast, rule=Reason.SEXUAL))

    assert response.status_code == 302
    filed.refresh_from_db()
    assert filed.decision == "taken_down"
    assert not Restriction.objects.filter(user=broadcast.owner).exists()
    assert Notice.objects.get(user=broadcast.owner).action == Notice.Action.TAKEDOWN


def test_takedown_needs_the_rule_broken(desk):
    broadcast = live_broadcast()

    response = desk.post(take_down_url(broadcast), takedown_form(broadcast, rule=""), follow=True)

    assert any("Rule broken" in message for message in messages_of(response))
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.LIVE


def test_takedown_from_the_wall_is_a_csrf_protected_post():
    broadcast = live_broadcast()
    client = signed_in(moderator(), enforce_csrf_checks=True)

    assert client.post(take_down_url(broadcast), takedown_form(broadcast)).status_code == 403
    assert client.get(take_down_url(broadcast)).status_code == 405
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.LIVE


# --- the alert count ---------------------------------------------------------------------


def test_alert_count_is_json_never_cached_and_linked_from_every_admin_page(desk):
    report(live_broadcast(), by=chatter(), reason=Reason.SELF_HARM)
    report(live_broadcast(), by=chatter(), reason=Reason.SPAM)

    response = desk.get(ALERTS)

    assert response.status_code == 200
    assert response.json() == {"urgent": 1, "open": 2, "label": "1 urgent report · 2 open"}
    assert "no-store" in response["Cache-Control"]
    for page in (reverse("admin:index"), QUEUE, WALL):
        html = desk.get(page).content.decode()
        assert f'data-desk-alerts="{ALERTS}"' in html, page
        assert f"{QUEUE}?state__exact=open&amp;urgent__exact=1" in html, page


def test_the_safety_section_of_the_admin_links_to_the_live_wall(desk):
    page = desk.get(reverse("admin:app_list", args=["safety"])).content.decode()

    assert f'href="{WALL}"' in page


def test_staff_without_the_group_are_refused_every_desk_page():
    broadcast = live_broadcast()
    filed = report(broadcast, by=chatter())
    client = signed_in(plain_staff())

    for url in (
        WALL,
        ALERTS,
        QUEUE,
        AUDIT,
        EXPORT,
        reverse("admin:safety_report_change", args=[filed.pk]),
        reverse("admin:safety_report_thumbnail", args=[filed.pk]),
        reverse("admin:safety_restriction_changelist"),
        reverse("admin:safety_appeal_changelist"),
        reverse("admin:safety_notice_changelist"),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(take_down_url(broadcast), takedown_form(broadcast)).status_code == 403
    assert "data-desk-alerts" not in client.get(reverse("admin:index")).content.decode()
    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.LIVE


def test_signed_in_users_who_are_not_staff_never_reach_the_desk():
    client = signed_in(chatter())

    for url in (WALL, ALERTS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


# --- restrictions, notices, appeals ----------------------------------------------------------


def test_restriction_added_in_the_admin_goes_through_the_service(desk):
    user = chatter()

    response = desk.post(
        reverse("admin:safety_restriction_add"),
        {"user": user.pk, "days": 5, "rule": Reason.SPAM, "reason": "Spam lives"},
    )

    assert response.status_code == 302
    restriction = Restriction.objects.get(user=user)
    assert days_of(restriction) == 5
    assert Notice.objects.get(user=user).action == Notice.Action.RESTRICTION
    assert AuditEntry.objects.filter(action="restrict", target_id=str(user.pk)).exists()


def test_lifting_a_restriction_keeps_the_row_and_is_audited(desk):
    restriction = restrict(user=chatter(), by=None, days=10, reason="Spam")

    response = desk.post(
        reverse("admin:safety_restriction_changelist"),
        {"action": "lift", "_selected_action": [restriction.pk]},
    )

    assert response.status_code == 302
    restriction.refresh_from_db()
    assert restriction.lifted_at is not None
    assert AuditEntry.objects.filter(action="lift_restriction").exists()
    change = reverse("admin:safety_restriction_change", args=[restriction.pk])
    desk.post(change, {"reason": "edited"})
    restriction.refresh_from_db()
    assert restriction.reason == "Spam"


def appeal_against(issuer, user=None):
    user = user or chatter()
    restriction = restrict(user=user, by=issuer, days=10, reason="Spam lives")
    notice = Notice.objects.get(restriction=restriction)
    return file_appeal(notice=notice, user=user, text="It was a cooking show")


def test_appeals_list_pending_first():
    issuer = moderator()
    decided = appeal_against(issuer)
    Appeal.objects.filter(pk=decided.pk).update(state=Appeal.State.REJECTED)
    pending = appeal_against(issuer)

    listed = signed_in(moderator()).get(reverse("admin:safety_appeal_changelist"))

    assert [a.pk for a in listed.context["cl"].result_list] == [pending.pk, decided.pk]


def test_another_moderator_grants_an_appeal_and_the_restriction_is_lifted():
    appeal = appeal_against(moderator())
    url = reverse("admin:safety_appeal_change", args=[appeal.pk])
    client = signed_in(moderator())

    assert "It was a cooking show" in client.get(url).content.decode()
    response = client.post(url, {"decision": "grant", "note": "Our mistake"})

    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.state == Appeal.State.GRANTED
    assert appeal.outcome_note == "Our mistake"
    assert appeal.notice.restriction.lifted_at is not None
    assert AuditEntry.objects.filter(action="appeal_granted").exists()


def test_the_moderator_who_issued_the_notice_cannot_decide_its_appeal():
    issuer = moderator()
    appeal = appeal_against(issuer)
    url = reverse("admin:safety_appeal_change", args=[appeal.pk])

    response = signed_in(issuer).post(url, {"decision": "reject", "note": "Stands"})

    assert response.status_code == 200
    assert "another must" in response.content.decode()
    appeal.refresh_from_db()
    assert appeal.state == Appeal.State.PENDING


def test_notices_are_read_only(desk):
    appeal = appeal_against(moderator())
    notice = appeal.notice
    superuser = signed_in(chatter(is_staff=True, is_superuser=True))

    for client in (desk, superuser):
        change = reverse("admin:safety_notice_change", args=[notice.pk])
        assert client.get(change).status_code == 200
        assert client.post(change, {"explanation": "forged"}).status_code == 403
        assert client.get(reverse("admin:safety_notice_add")).status_code == 403
    notice.refresh_from_db()
    assert notice.explanation == "Spam lives"
