"""The HTTP side of broadcasting: go-live form, end, JSON state, watch and user pages."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from broadcast import services
from broadcast.models import Broadcast
from tests.factories import BroadcastFactory, UserFactory
from tests.media.conftest import adult, years_ago

pytestmark = pytest.mark.django_db


def test_go_live_creates_a_broadcast_that_starts_when_its_publisher_connects(client):
    owner = adult(username="golive")
    client.force_login(owner)
    response = client.post(
        reverse("broadcast:go_live"),
        {"title": "My first stream", "visibility": "unlisted", "tell_followers": "on"},
    )
    assert response.status_code == 201
    body = response.json()
    broadcast = Broadcast.objects.get(slug=body["slug"])
    assert (broadcast.state, broadcast.visibility, broadcast.tell_followers) == (
        Broadcast.State.CREATED,
        "unlisted",
        True,
    )
    assert broadcast.started_at is None
    assert body["publish_path"] == f"/ws/b/{broadcast.slug}/publish/"


def test_a_broadcast_never_sent_from_ends_after_a_while():
    broadcast = BroadcastFactory(owner=adult(username="forgot"))
    later = broadcast.created_at + services.NOT_STARTED_TIMEOUT * 1.1
    services.end_idle_broadcasts(now=later)
    broadcast.refresh_from_db()
    assert (broadcast.state, broadcast.end_reason) == (Broadcast.State.ENDED, "not_started")


def test_going_live_again_ends_the_previous_live_broadcast(client):
    owner = adult(username="twice")
    old = BroadcastFactory(owner=owner, live=True)
    client.force_login(owner)
    client.post(reverse("broadcast:go_live"), {"title": "Again", "visibility": "public"})
    old.refresh_from_db()
    assert old.state == Broadcast.State.ENDED


def test_go_live_needs_a_title(client):
    client.force_login(adult(username="notitle"))
    response = client.post(reverse("broadcast:go_live"), {"title": "", "visibility": "public"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_go_live_page_needs_sign_in(client):
    response = client.get(reverse("broadcast:go_live"))
    assert response.status_code == 302


def test_under_18_cannot_go_live(client):
    minor = UserFactory(username="young", birth_date=years_ago(17))
    client.force_login(minor)
    page = client.get(reverse("broadcast:go_live"))
    assert "You cannot go live" in page.content.decode()
    response = client.post(reverse("broadcast:go_live"), {"title": "x", "visibility": "public"})
    assert response.status_code == 403
    assert not Broadcast.objects.filter(owner=minor).exists()


def test_only_the_owner_ends_a_broadcast(client):
    broadcast = BroadcastFactory(owner=adult(username="theowner"), live=True)
    client.force_login(adult(username="intruder"))
    assert client.post(reverse("broadcast:end", args=[broadcast.slug])).status_code == 403
    client.force_login(broadcast.owner)
    assert client.post(reverse("broadcast:end", args=[broadcast.slug])).status_code == 200
    broadcast.refresh_from_db()
    assert (broadcast.state, broadcast.end_reason) == (Broadcast.State.ENDED, "owner")


def test_api_reports_state_title_broadcaster_start_and_viewers(client):
    broadcast = BroadcastFactory(owner=adult(username="apiowner", handle="apiowner"), live=True)
    body = client.get(f"/api/broadcasts/{broadcast.slug}").json()
    assert body["state"] == "live"
    assert body["title"] == broadcast.title
    assert body["broadcaster"]["handle"] == "apiowner"
    assert body["started_at"] == broadcast.started_at.isoformat()
    assert body["viewers"] == 0
    assert client.get("/api/broadcasts/nope").status_code == 404


def test_watch_page_is_public_and_has_no_inline_script_or_style(client):
    broadcast = BroadcastFactory(owner=adult(username="csp"), live=True)
    html = client.get(broadcast.get_absolute_url()).content.decode()
    assert "data-player" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert " style=" not in html


def test_broadcaster_page_shows_the_live_broadcast_or_when_they_were_last_live(client):
    owner = adult(username="pageowner", handle="PageOwner")
    live = BroadcastFactory(owner=owner, live=True, title="On now")
    page = client.get("/u/pageowner/").content.decode()
    assert "On now" in page and live.get_absolute_url() in page
    live.state, live.ended_at = Broadcast.State.ENDED, timezone.now()
    live.save()
    page = client.get("/u/PageOwner/").content.decode()
    assert "Last live" in page
    assert client.get("/u/nobody-here/").status_code == 404


def test_unlisted_live_broadcast_is_not_shown_on_the_broadcaster_page(client):
    owner = adult(username="quiet", handle="quiet")
    BroadcastFactory(owner=owner, live=True, visibility="unlisted", title="Secret link")
    assert "Secret link" not in client.get("/u/quiet/").content.decode()


def test_years_ago_is_safe_on_29_february():
    from datetime import date

    assert years_ago(17, today=date(2028, 2, 29)) == date(2011, 2, 28)
    assert years_ago(4, today=date(2028, 2, 29)) == date(2024, 2, 29)


def test_admin_ends_broadcasts_only_through_the_end_action(client):
    from django.contrib.auth.models import Permission

    broadcast = BroadcastFactory(owner=adult(username="admined"), live=True)
    changelist = reverse("admin:broadcast_broadcast_changelist")
    end_now = {"action": "end_now", "_selected_action": [broadcast.pk]}

    # Staff who may only view broadcasts are not offered the action, nor can they post it.
    viewer = adult(username="viewonly", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_broadcast"))
    client.force_login(viewer)
    assert "end_now" not in client.get(changelist).content.decode()
    client.post(changelist, end_now)
    assert Broadcast.objects.get(pk=broadcast.pk).state == Broadcast.State.LIVE

    # An admin's change form shows state and owner but cannot edit them.
    client.force_login(adult(username="boss", is_staff=True, is_superuser=True))
    form = client.get(reverse("admin:broadcast_broadcast_change", args=[broadcast.pk]))
    page = form.content.decode()
    assert form.status_code == 200
    assert 'name="state"' not in page and 'name="owner"' not in page
    client.post(changelist, end_now)
    broadcast.refresh_from_db()
    assert (broadcast.state, broadcast.end_reason) == (Broadcast.State.ENDED, "admin")
