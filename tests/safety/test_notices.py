"""Notices and appeals: the user reads what was done and why, may appeal each decision
once, and a moderator other than the one who decided grants or rejects it; granting
undoes what can be undone, and the outcome is recorded and shown."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from broadcast.models import Broadcast
from broadcast.services import user_may_broadcast
from safety.appeals import AppealRefused, decide_appeal, file_appeal
from safety.bans import ban_account, is_banned
from safety.models import Appeal, AuditEntry, Notice, Reason
from safety.notices import issue_notice
from safety.restrictions import restrict
from tests.factories import BroadcastFactory, UserFactory
from tests.media.conftest import adult, signed_in_context

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "You showed the home address of a viewer on stream."


@pytest.fixture
def user():
    return adult(username="noticed", handle="noticed")


@pytest.fixture
def first_moderator():
    return UserFactory(username="first-mod", handle="first_mod", is_staff=True)


@pytest.fixture
def second_moderator():
    return UserFactory(username="second-mod", handle="second_mod", is_staff=True)


@pytest.fixture
def restricted(user, first_moderator):
    """A restriction and its notice, issued by the first moderator."""
    restriction = restrict(user=user, by=first_moderator, days=14, reason=REASON, rule="privacy")
    return restriction, Notice.objects.get(restriction=restriction)


def refusal_code(call):
    with pytest.raises(AppealRefused) as refused:
        call()
    return refused.value.code


def test_notices_page_says_the_rule_what_was_done_until_when_and_offers_an_appeal(
    client, user, restricted
):
    restriction, notice = restricted
    client.force_login(user)

    html = client.get(reverse("safety:notices")).content.decode()

    assert f'id="notice-{notice.pk}"' in html
    assert "You may not go live for a while" in html  # what was done, as its title
    assert "Private information or filmed without consent." in html  # the rule
    assert "no filming of people without their consent" in html  # in plain words
    assert "You may not go live until" in html and f"{restriction.until:%Y}" in html
    assert REASON in html
    assert reverse("safety:appeal", args=[notice.pk]) in html
    assert 'name="text"' in html and 'maxlength="2000"' in html


def test_unread_notice_shows_a_banner_on_every_page_until_the_notices_are_read(
    client, user, restricted
):
    client.force_login(user)

    assert 'data-testid="notice-banner"' in client.get(reverse("accounts:profile")).content.decode()
    client.get(reverse("safety:notices"))

    profile = client.get(reverse("accounts:profile")).content.decode()
    assert 'data-testid="notice-banner"' not in profile
    assert reverse("safety:notices") in profile  # the profile links to them anyway
    assert Notice.objects.get().read_at is not None


def test_the_banner_costs_one_query_and_nothing_for_anonymous_visitors(client, user, restricted):
    with CaptureQueriesContext(connection) as anonymous:
        client.get(reverse("rules"))
    assert not any("safety_notice" in q["sql"] for q in anonymous.captured_queries)

    client.force_login(user)
    with CaptureQueriesContext(connection) as signed_in:
        client.get(reverse("rules"))
    assert sum("safety_notice" in q["sql"] for q in signed_in.captured_queries) == 1


def test_notices_page_needs_a_signed_in_user(client):
    response = client.get(reverse("safety:notices"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_user_appeals_once_through_the_page(client, user, restricted):
    _, notice = restricted
    client.force_login(user)
    url = reverse("safety:appeal", args=[notice.pk])

    sent = client.post(url, {"text": "I did not know the address was visible."})
    again = client.post(url, {"text": "Please."})

    assert sent.status_code == 302 and sent["Location"].endswith(f"#notice-{notice.pk}")
    assert again.status_code == 400
    assert "You have already appealed this decision" in again.content.decode()
    appeal = Appeal.objects.get()
    assert appeal.notice == notice and appeal.state == Appeal.State.PENDING
    assert appeal.text == "I did not know the address was visible."
    assert AuditEntry.objects.get(action="appeal").actor == user
    page = client.get(reverse("safety:notices")).content.decode()
    assert "Waiting for a decision." in page and 'name="text"' not in page


def test_an_appeal_over_2000_characters_is_refused_and_kept_for_editing(client, user, restricted):
    _, notice = restricted
    client.force_login(user)

    response = client.post(reverse("safety:appeal", args=[notice.pk]), {"text": "x" * 2001})

    assert response.status_code == 400
    assert "limited to 2,000 characters" in response.content.decode()
    assert "x" * 2001 in response.content.decode()
    assert not Appeal.objects.exists()
    assert refusal_code(lambda: file_appeal(notice=notice, user=user, text="y" * 2001)) == (
        "too_long"
    )
    assert file_appeal(notice=notice, user=user, text="y" * 2000).text == "y" * 2000


def test_only_the_notices_user_may_appeal_it(client, restricted):
    _, notice = restricted
    stranger = adult(username="stranger")
    client.force_login(stranger)

    response = client.post(reverse("safety:appeal", args=[notice.pk]), {"text": "Not mine."})

    assert response.status_code == 404  # someone else's notice does not exist for them
    for who in (stranger, AnonymousUser(), None):
        assert refusal_code(lambda w=who: file_appeal(notice=notice, user=w, text="Hi")) == (
            "not_yours"
        )
    assert not Appeal.objects.exists()


def test_appeal_codes_for_empty_and_repeated_appeals(user, restricted):
    _, notice = restricted
    assert refusal_code(lambda: file_appeal(notice=notice, user=user, text="   ")) == "empty"
    file_appeal(notice=notice, user=user, text="First.")
    assert refusal_code(lambda: file_appeal(notice=notice, user=user, text="Second.")) == (
        "already_appealed"
    )


def test_the_moderator_who_decided_cannot_decide_the_appeal(
    user, restricted, first_moderator, second_moderator
):
    _, notice = restricted
    appeal = file_appeal(notice=notice, user=user, text="Please reconsider.")

    assert refusal_code(lambda: decide_appeal(appeal=appeal, by=first_moderator, grant=True)) == (
        "same_moderator"
    )
    assert refusal_code(lambda: decide_appeal(appeal=appeal, by=user, grant=True)) == "forbidden"
    appeal.refresh_from_db()
    assert appeal.state == Appeal.State.PENDING
    assert not user_may_broadcast(user)

    decide_appeal(appeal=appeal, by=second_moderator, grant=False, note="It was clear.")
    assert refusal_code(lambda: decide_appeal(appeal=appeal, by=second_moderator, grant=True)) == (
        "already_decided"
    )


def test_granting_an_appeal_lifts_the_restriction_and_records_the_outcome(
    client, user, restricted, second_moderator
):
    restriction, notice = restricted
    appeal = file_appeal(notice=notice, user=user, text="Please reconsider.")
    Notice.objects.update(read_at=timezone.now())

    decide_appeal(appeal=appeal, by=second_moderator, grant=True, note="The address was fake.")

    appeal.refresh_from_db()
    restriction.refresh_from_db()
    assert appeal.state == Appeal.State.GRANTED
    assert appeal.decided_by == second_moderator and appeal.decided_at is not None
    assert appeal.outcome_note == "The address was fake."
    assert restriction.lifted_by == second_moderator and user_may_broadcast(user)
    entry = AuditEntry.objects.get(action="appeal_granted")
    assert entry.actor == second_moderator and entry.details["undone"] == ["restriction"]
    assert AuditEntry.objects.filter(action="lift_restriction").exists()
    # The user is told: the banner is back, and the page shows the outcome.
    client.force_login(user)
    assert 'data-testid="notice-banner"' in client.get(reverse("rules")).content.decode()
    page = client.get(reverse("safety:notices")).content.decode()
    assert "Your appeal was granted: the decision was reversed." in page
    assert "The address was fake." in page and "you may go live again" in page


def test_a_rejected_appeal_changes_nothing_but_says_so(client, user, restricted, second_moderator):
    _, notice = restricted
    appeal = file_appeal(notice=notice, user=user, text="Please reconsider.")

    decide_appeal(appeal=appeal, by=second_moderator, grant=False, note="The rule is clear.")

    assert not user_may_broadcast(user)
    assert AuditEntry.objects.get(action="appeal_rejected").details["undone"] == []
    client.force_login(user)
    page = client.get(reverse("safety:notices")).content.decode()
    assert "Your appeal was rejected: the decision stands." in page


def test_granting_a_ban_appeal_lifts_the_ban(first_moderator, second_moderator):
    member = adult(username="banned-appellant")
    notice = ban_account(user=member, by=first_moderator, reason=REASON)
    member.refresh_from_db()
    appeal = file_appeal(notice=notice, user=member, text="It was my brother.")

    decide_appeal(appeal=appeal, by=second_moderator, grant=True)

    member.refresh_from_db()
    assert member.is_active and not is_banned(member)
    assert AuditEntry.objects.get(action="appeal_granted").details["undone"] == ["ban"]


def test_a_granted_takedown_appeal_leaves_the_broadcast_ended_and_says_so(
    client, user, first_moderator, second_moderator
):
    broadcast = BroadcastFactory(
        owner=user, state=Broadcast.State.ENDED, end_reason="removed", title="Street party"
    )
    notice = issue_notice(
        user=user,
        action=Notice.Action.TAKEDOWN,
        rule=Reason.COPYRIGHT,
        explanation="The match belongs to its broadcaster.",
        by=first_moderator,
        broadcast=broadcast,
    )
    appeal = file_appeal(notice=notice, user=user, text="It was my own footage.")

    decide_appeal(appeal=appeal, by=second_moderator, grant=True)

    broadcast.refresh_from_db()
    assert broadcast.state == Broadcast.State.ENDED
    client.force_login(user)
    page = client.get(reverse("safety:notices")).content.decode()
    assert "Your appeal was granted: the decision no longer counts against you." in page
    assert "Street party" in page


def test_hostile_text_in_notices_and_appeals_is_shown_as_text(client, user, first_moderator):
    notice = issue_notice(
        user=user,
        action=Notice.Action.MESSAGE_REMOVED,
        rule=Reason.SPAM,
        explanation='<script>alert("moderator")</script>',
        by=first_moderator,
    )
    file_appeal(notice=notice, user=user, text='<img src=x onerror="alert(1)">')
    client.force_login(user)

    html = client.get(reverse("safety:notices")).content.decode()

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html


# --- in Chromium (last: the browser holds an event loop for the rest of the module) ----


@pytest.mark.browser
def test_notices_page_in_a_browser(
    browser, live_server_process, client, user, restricted, second_moderator, screenshot_dir
):
    restriction, notice = restricted
    decided = issue_notice(
        user=user,
        action=Notice.Action.MESSAGE_REMOVED,
        rule=Reason.HARASSMENT,
        explanation="Insults in chat.",
        by=second_moderator,
    )
    appeal = file_appeal(notice=decided, user=user, text="I was quoting someone.")
    decide_appeal(
        appeal=appeal, by=restriction.created_by, grant=False, note="The quote was an insult."
    )
    context = signed_in_context(
        browser, live_server_process, client, user, viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server_process.url}/accounts/profile/")
        page.get_by_role("link", name="You have a notice from OnAir's moderators").click()
        page.wait_for_url("**/safety/notices/")
        assert page.locator(".notice-card").count() == 2
        assert "rejected" in page.get_by_test_id("appeal-state").inner_text()
        for size, name in (((1280, 800), "desktop"), ((390, 844), "phone")):
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.screenshot(path=str(screenshot_dir / f"safety-notices-{name}.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.locator(f"#notice-{notice.pk} textarea").fill("The address was not real.")
        page.locator(f"#notice-{notice.pk}").get_by_role("button", name="Send my appeal").click()
        page.wait_for_url("**/safety/notices/**")
        assert Appeal.objects.get(notice=notice).text == "The address was not real."
        assert page.get_by_test_id("notice-banner").count() == 0
    finally:
        context.close()
