"""/u/<handle>/: live now at the top, the public broadcasts still within retention, then
when the broadcaster was last live."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from broadcast import services
from broadcast.models import Broadcast
from safety.models import Reason
from safety.restrictions import restrict
from safety.retention import purgeable_broadcasts
from safety.takedown import take_down
from tests.factories import BroadcastFactory, UserFactory
from tests.support import years_ago

pytestmark = pytest.mark.django_db

DAYS = settings.RETENTION_DAYS


def broadcaster(handle="caster"):
    return UserFactory(username=handle, handle=handle, birth_date=years_ago(30))


def past(owner, *, title, ended_days_ago=1, minutes=30, seconds=0, **kwargs):
    """A broadcast that went live, lasted `minutes`, and ended (by its owner's hand unless
    `end_reason` says otherwise)."""
    ended_at = timezone.now() - timedelta(days=ended_days_ago)
    return BroadcastFactory(
        owner=owner,
        title=title,
        state=Broadcast.State.ENDED,
        started_at=ended_at - timedelta(minutes=minutes, seconds=seconds),
        ended_at=ended_at,
        **{"end_reason": services.EndReason.OWNER, **kwargs},
    )


def past_list(html):
    """The titles of the "Past broadcasts" list, in order."""
    block = re.search(r'<ul class="past-list".*?</ul>', html, re.S)
    return re.findall(r'<span class="past-title">([^<]*)</span>', block.group(0)) if block else []


def page(client, handle="caster"):
    response = client.get(f"/u/{handle}/")
    assert response.status_code == 200
    return response.content.decode()


def test_past_public_broadcasts_are_listed_newest_first_with_date_and_duration(client):
    owner = broadcaster()
    older = past(owner, title="Morning run", ended_days_ago=3, minutes=65, seconds=20)
    past(owner, title="Quick hello", ended_days_ago=1, minutes=0, seconds=42)
    past(owner, title="Cooking", ended_days_ago=2, minutes=12)

    html = page(client)

    assert past_list(html) == ["Quick hello", "Cooking", "Morning run"]
    assert "1 h 05 min" in html and "12 min" in html and "42 s" in html
    assert '<time datetime="PT3920S">1 h 05 min</time>' in html
    assert date_format(timezone.localtime(older.started_at), "DATE_FORMAT") in html
    assert f"listed for {DAYS} days after they end" in html


def test_only_broadcasts_within_retention_are_listed_as_the_purge_counts_it(client):
    owner = broadcaster()
    kept = past(owner, title="Still kept", ended_days_ago=DAYS - 1)
    gone = past(owner, title="Past retention", ended_days_ago=DAYS + 1)

    html = page(client)

    assert past_list(html) == ["Still kept"]
    # The page and the purge agree on the cut-off: listed means not yet purgeable.
    purgeable = set(purgeable_broadcasts(timezone.now()).values_list("pk", flat=True))
    assert gone.pk in purgeable and kept.pk not in purgeable


def test_unlisted_never_started_and_unfinished_broadcasts_are_not_listed(client):
    owner = broadcaster()
    past(owner, title="Public one")
    past(owner, title="Secret link", visibility=Broadcast.Visibility.UNLISTED)
    BroadcastFactory(
        owner=owner,
        title="Never started",
        state=Broadcast.State.ENDED,
        ended_at=timezone.now(),
        end_reason=services.EndReason.NOT_STARTED,
    )
    BroadcastFactory(owner=owner, title="About to start")

    assert past_list(page(client)) == ["Public one"]


def test_a_broadcast_taken_down_by_moderators_is_not_listed(client):
    owner = broadcaster()
    staff = UserFactory(username="desk", is_staff=True)
    past(owner, title="Fine one")
    removed = past(owner, title="Broke the rules")
    take_down(broadcast=removed, by=staff, rule=Reason.SPAM)
    live = BroadcastFactory(owner=owner, live=True, title="Removed while live")
    take_down(broadcast=live, by=staff, rule=Reason.SPAM)

    assert Broadcast.objects.get(pk=removed.pk).end_reason == services.EndReason.REMOVED
    assert past_list(page(client)) == ["Fine one"]


def test_a_broadcast_cut_short_by_a_restriction_is_not_listed(client):
    owner = broadcaster()
    live = BroadcastFactory(owner=owner, live=True, title="Cut short")
    restrict(user=owner, by=UserFactory(username="desk", is_staff=True), days=1, reason="spam")

    assert Broadcast.objects.get(pk=live.pk).end_reason == services.EndReason.RESTRICTED
    assert past_list(page(client)) == []


@pytest.mark.parametrize(
    "reason", [services.EndReason.DISCONNECTED, services.EndReason.ADMIN], ids=str
)
def test_a_broadcast_that_lost_its_connection_or_was_stopped_from_admin_is_listed(client, reason):
    owner = broadcaster()
    past(owner, title="Ended anyway", end_reason=reason)

    assert past_list(page(client)) == ["Ended anyway"]


def test_live_now_comes_first_with_a_link_and_last_live_is_not_shown_meanwhile(client):
    owner = broadcaster()
    past(owner, title="Yesterday")
    live = services.start_broadcast(
        owner=owner, title="On air now", visibility="public", tell_followers=False
    )

    html = page(client)

    assert html.index("On air now") < html.index("Past broadcasts") < html.index("Yesterday")
    assert f'href="{live.get_absolute_url()}"' in html
    assert "Last live" not in html


def test_last_live_date_follows_the_list_once_nothing_is_live(client):
    owner = broadcaster()
    live = services.start_broadcast(
        owner=owner, title="Evening show", visibility="public", tell_followers=False
    )
    services.end_broadcast_by_owner(broadcast=live, user=owner)
    owner.refresh_from_db()

    html = page(client)

    when = date_format(timezone.localtime(owner.last_live_at), "DATE_FORMAT")
    assert past_list(html) == ["Evening show"]
    assert html.index("Evening show") < html.index(f"Last live on {when}.")


def test_someone_never_live_reads_so(client):
    broadcaster()

    html = page(client)

    assert "Has not been live yet." in html
    assert "Past broadcasts" not in html


def test_titles_are_escaped(client):
    past(broadcaster(), title="<img src=x onerror=alert(1)>")

    html = page(client)

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_unknown_or_banned_handles_are_not_found(client):
    UserFactory(username="gone", handle="gone", is_active=False)

    assert client.get("/u/nobody-here/").status_code == 404
    assert client.get("/u/gone/").status_code == 404
