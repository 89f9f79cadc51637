"""Who gets a broadcast's live picture over HTTP, what the link card shows, and the
go-live choice behind it."""

import re

import pytest
from django.conf import settings
from django.utils import timezone

from broadcast import thumbnails
from broadcast.models import Broadcast
from tests.factories import BroadcastFactory, UserFactory
from tests.media.conftest import FIXTURES, adult
from tests.media.test_thumbnails import keyframe_source

pytestmark = pytest.mark.django_db

CRAWLER = "Twitterbot/1.0"


@pytest.fixture(scope="module")
def jpeg():
    init, keyframe = keyframe_source((FIXTURES / "fake-camera-100ms.webm").read_bytes())
    return thumbnails.render_thumbnail(init, keyframe)


def with_picture(broadcast, jpeg):
    data, width, height = jpeg
    thumbnails.get_store().put(
        broadcast.slug,
        thumbnails.Thumbnail(data, thumbnails.CONTENT_TYPE, timezone.now(), width, height),
    )
    return broadcast


def live(jpeg, **kwargs):
    return with_picture(BroadcastFactory(live=True, **kwargs), jpeg)


def thumbnail_url(broadcast):
    return f"/b/{broadcast.slug}/thumbnail.jpg"


def staff_client(client):
    client.force_login(UserFactory(username="desk", is_staff=True, is_superuser=True))
    return client


def meta(html):
    return dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html))


# --- the picture -----------------------------------------------------------------------


def test_staff_always_get_the_live_picture_uncached(client, jpeg):
    broadcast = live(jpeg, show_picture=False, visibility=Broadcast.Visibility.UNLISTED)

    response = staff_client(client).get(thumbnail_url(broadcast))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == jpeg[0]
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


@pytest.mark.parametrize("visibility", Broadcast.Visibility.values)
def test_anyone_gets_the_picture_the_broadcaster_lets_on_cards(client, jpeg, visibility):
    broadcast = live(jpeg, visibility=visibility)

    response = client.get(thumbnail_url(broadcast), HTTP_USER_AGENT=CRAWLER)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == jpeg[0]
    assert "public" in response["Cache-Control"]
    assert "max-age=10" in response["Cache-Control"]
    assert response["Last-Modified"]


def test_without_the_broadcasters_consent_only_staff_get_the_picture(client, jpeg):
    broadcast = live(jpeg, show_picture=False, owner=adult(username="shy"))

    assert client.get(thumbnail_url(broadcast)).status_code == 404
    client.force_login(adult(username="viewer"))
    assert client.get(thumbnail_url(broadcast)).status_code == 404
    client.force_login(broadcast.owner)
    assert client.get(thumbnail_url(broadcast)).status_code == 404
    # Staff who do not work the moderation desk are not the desk.
    client.force_login(UserFactory(username="ops", is_staff=True))
    assert client.get(thumbnail_url(broadcast)).status_code == 404
    assert staff_client(client).get(thumbnail_url(broadcast)).status_code == 200


def test_nobody_gets_the_picture_of_an_ended_broadcast(client, jpeg):
    broadcast = live(jpeg)
    Broadcast.objects.filter(pk=broadcast.pk).update(
        state=Broadcast.State.ENDED, ended_at=timezone.now()
    )

    assert client.get(thumbnail_url(broadcast)).status_code == 404
    assert staff_client(client).get(thumbnail_url(broadcast)).status_code == 404


def test_no_picture_before_the_broadcast_starts_or_before_the_first_keyframe(client, jpeg):
    not_started = with_picture(BroadcastFactory(), jpeg)
    no_picture_yet = BroadcastFactory(live=True)

    staff = staff_client(client)
    assert staff.get(thumbnail_url(not_started)).status_code == 404
    assert staff.get(thumbnail_url(no_picture_yet)).status_code == 404
    assert staff.get("/b/no-such-slug/thumbnail.jpg").status_code == 404


def test_the_picture_is_read_only(client, jpeg):
    broadcast = live(jpeg)

    assert client.post(thumbnail_url(broadcast)).status_code == 405


# --- the card ----------------------------------------------------------------------------


def test_a_live_broadcasts_card_shows_its_live_picture_which_a_crawler_can_fetch(client, jpeg):
    broadcast = live(jpeg, title="Sunset from the roof")

    tags = meta(client.get(broadcast.get_absolute_url()).content.decode())

    image = tags["og:image"]
    assert re.fullmatch(
        re.escape(f"{settings.PUBLIC_URL}/b/{broadcast.slug}/thumbnail.jpg") + r"\?t=\d+", image
    )
    assert tags["twitter:image"] == image
    assert tags["og:image:type"] == "image/jpeg"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("320", "240")
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["og:title"] == "Sunset from the roof"
    assert "is live on OnAir" in tags["og:description"]

    crawled = client.get(image.removeprefix(settings.PUBLIC_URL), HTTP_USER_AGENT=CRAWLER)
    assert crawled.status_code == 200
    assert crawled["Content-Type"] == "image/jpeg"


def test_the_card_keeps_the_generic_image_when_the_broadcaster_said_no(client, jpeg):
    broadcast = live(jpeg, show_picture=False)

    tags = meta(client.get(broadcast.get_absolute_url()).content.decode())

    assert tags["og:image"] == tags["twitter:image"]
    assert tags["og:image"].startswith(settings.PUBLIC_URL)
    assert tags["og:image"].endswith("og-card.png")
    assert "thumbnail" not in client.get(broadcast.get_absolute_url()).content.decode()


def test_the_card_keeps_the_generic_image_until_there_is_a_picture(client):
    broadcast = BroadcastFactory(live=True)

    tags = meta(client.get(broadcast.get_absolute_url()).content.decode())

    assert tags["og:image"].endswith("og-card.png")


def test_a_card_fetched_after_the_end_says_ended_with_the_generic_image(client, jpeg):
    broadcast = live(jpeg, title="Morning run", owner=UserFactory(display_name="Ada"))
    Broadcast.objects.filter(pk=broadcast.pk).update(
        state=Broadcast.State.ENDED, ended_at=timezone.now()
    )

    html = client.get(broadcast.get_absolute_url()).content.decode()
    tags = meta(html)

    assert tags["og:image"].endswith("og-card.png")
    assert tags["twitter:image"] == tags["og:image"]
    assert "thumbnail" not in html
    assert tags["og:title"] == tags["twitter:title"] == "Ended: Morning run"
    assert tags["og:description"] == "This broadcast by Ada has ended."


# --- going live ----------------------------------------------------------------------------


def test_go_live_offers_the_picture_on_cards_on_by_default_and_says_x_may_keep_it(client):
    client.force_login(adult(username="caster"))

    html = client.get("/live/").content.decode()

    checkbox = re.search(r'<input type="checkbox" name="show_picture"[^>]*>', html)
    assert checkbox and " checked" in checkbox.group(0)
    assert "Show the live picture on link cards" in html
    assert "X may keep a copy of the picture it fetched" in html


@pytest.mark.parametrize(("sent", "kept"), [({"show_picture": "on"}, True), ({}, False)])
def test_the_broadcasters_choice_is_kept_with_the_broadcast(client, sent, kept):
    owner = adult(username="chooser")
    client.force_login(owner)

    response = client.post(
        "/live/", {"title": "Hello", "visibility": "public", "tell_followers": "on", **sent}
    )

    assert response.status_code == 201
    assert Broadcast.objects.get(slug=response.json()["slug"]).show_picture is kept
