"""The home page's live cards and the listing behind them (GET /api/live): who is listed,
what a card shows (the live picture only with the broadcaster's consent), what the
listing leaves out, and how it is cached. The live updates in Chromium are in
tests/media/test_home_in_browser.py."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.blocks import block_user
from broadcast import selectors, thumbnails
from broadcast.models import Broadcast
from safety.restrictions import restrict
from tests.factories import BroadcastFactory, UserFactory
from tests.permissions.world import PICTURE

pytestmark = pytest.mark.django_db

API = "/api/live"


@pytest.fixture(autouse=True)
def _fresh_listing():
    selectors.forget_cached_live_listing()
    yield
    selectors.forget_cached_live_listing()


def with_picture(broadcast):
    thumbnails.get_store().put(
        broadcast.slug,
        thumbnails.Thumbnail(PICTURE, thumbnails.CONTENT_TYPE, timezone.now(), 32, 18),
    )
    return broadcast


def listing(client, **headers):
    response = client.get(API, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return response.json()


def slugs(client):
    return [card["slug"] for card in listing(client)["broadcasts"]]


def live(**kwargs):
    return BroadcastFactory(live=True, **kwargs)


# --- who is listed ---------------------------------------------------------------------


def test_the_listing_holds_live_public_broadcasts_newest_first(client):
    now = timezone.now()
    older = live(started_at=now - timedelta(minutes=5))
    newer = live(started_at=now)
    live(visibility=Broadcast.Visibility.UNLISTED)
    BroadcastFactory()  # not started
    BroadcastFactory(state=Broadcast.State.ENDED, started_at=now, ended_at=now)

    assert slugs(client) == [newer.slug, older.slug]


def test_the_home_page_and_the_listing_show_the_same_broadcasts(client):
    shown = live(title="Garden tour")
    live(title="Secret link", visibility=Broadcast.Visibility.UNLISTED)

    html = client.get("/").content.decode()

    assert re.findall(r'data-live-card data-slug="([^"]+)"', html) == slugs(client) == [shown.slug]
    assert "Garden tour" in html and "Secret link" not in html


def test_blocking_a_broadcaster_does_not_change_the_listing(client):
    """A block is about chat (accounts/blocks.py): the listing is the same for everyone,
    as the home page always was."""
    them = live().owner
    me = UserFactory()
    block_user(blocker=me, blocked_id=them.pk)
    anonymous = slugs(client)

    client.force_login(me)

    assert slugs(client) == anonymous != []


def test_a_restricted_broadcasters_broadcast_leaves_the_listing(client):
    broadcast = live()
    restrict(user=broadcast.owner, by=UserFactory(is_staff=True), days=1, reason="spam")

    assert broadcast.slug not in slugs(client)


# --- what a card shows ---------------------------------------------------------------------


def test_a_card_has_only_what_the_card_shows(client):
    owner = UserFactory(handle="ada", display_name="Ada L.", avatar_url="https://example.com/a.png")
    broadcast = live(owner=owner, title="Hello")

    (card,) = listing(client)["broadcasts"]

    assert card == {
        "slug": broadcast.slug,
        "title": "Hello",
        "url": f"/b/{broadcast.slug}/",
        "broadcaster": {"handle": "ada", "name": "Ada L.", "url": "/u/ada/"},
        "started_at": broadcast.started_at.isoformat(),
        "viewers": 0,
        "thumbnail": None,
    }


def test_a_card_shows_the_live_picture_only_with_the_broadcasters_consent(client):
    shown = with_picture(live(title="With picture"))
    kept_off = with_picture(live(title="Without picture", show_picture=False))
    not_yet = live(title="No picture yet")

    cards = {card["slug"]: card for card in listing(client)["broadcasts"]}

    picture = cards[shown.slug]["thumbnail"]
    assert re.fullmatch(rf"/b/{shown.slug}/thumbnail\.jpg\?t=\d+", picture)
    assert cards[kept_off.slug]["thumbnail"] is None
    assert cards[not_yet.slug]["thumbnail"] is None
    fetched = client.get(picture)
    assert fetched.status_code == 200 and fetched.content == PICTURE
    html = client.get("/").content.decode()
    assert f'src="{picture}"' in html
    assert f"/b/{kept_off.slug}/thumbnail.jpg" not in html
    assert f"/b/{not_yet.slug}/thumbnail.jpg" not in html


def test_titles_and_names_are_escaped_on_the_page_and_plain_in_the_listing(client):
    owner = UserFactory(display_name='<b onmouseover="x">Eve</b>')
    live(owner=owner, title="<script>alert(1)</script>")

    html = client.get("/").content.decode()
    (card,) = listing(client)["broadcasts"]

    assert "<script>alert(1)</script>" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert card["title"] == "<script>alert(1)</script>"


# --- how the listing is served -----------------------------------------------------------


def test_the_listing_is_public_cached_briefly_and_computed_once_per_period(client, monkeypatch):
    monkeypatch.setattr(selectors, "LIVE_LISTING_CACHE_S", 300)
    first = live()

    response = client.get(API)
    assert "public" in response["Cache-Control"]
    assert "max-age=300" in response["Cache-Control"]
    live()  # goes live within the period: the cached listing does not know yet
    with CaptureQueriesContext(connection) as queries:
        assert slugs(client) == [first.slug]
    # Only the cache itself is read (the database cache without Redis).
    assert not [q for q in queries.captured_queries if "broadcast_broadcast" in q["sql"]]

    selectors.forget_cached_live_listing()
    assert len(slugs(client)) == 2


def test_the_listing_is_read_only(client):
    assert client.post(API).status_code == 405


def test_the_listing_says_how_often_pictures_change(client, settings):
    settings.THUMBNAIL_EVERY_S = 7.5

    assert listing(client)["thumbnail_every_s"] == 7.5
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'data-thumbnail-every-s="7.5"' in html  # not "7,5": read by home.js


# --- the page around the cards -------------------------------------------------------------


def test_a_signed_out_visitor_reads_what_onair_is_and_can_sign_in_with_x(client):
    html = client.get("/").content.decode()

    for words in (
        "Live from your webcam",
        "Your followers on X get the link",
        "Chat beside the video",
        "Safety built in",
    ):
        assert words in html
    assert 'data-testid="intro-sign-in"' in html
    assert html.count('data-testid="x-sign-in"') == 1  # the header's, as on every page


def test_a_signed_in_visitor_gets_the_go_live_button_instead_of_the_intro(client):
    client.force_login(UserFactory())

    html = client.get("/").content.decode()

    assert "Safety built in" not in html and "intro-sign-in" not in html
    assert 'href="/live/"' in html


def test_the_empty_state_is_shown_until_someone_is_live(client):
    html = client.get("/").content.decode()

    assert "Nobody is live right now" in html
    assert "broadcasts appear here the moment they start" in html
    assert re.search(r'<ul class="card-grid"[^>]*data-card-grid hidden>', html)
    assert re.search(r"data-live-empty>", html)

    live()
    html = client.get("/").content.decode()
    assert re.search(r"data-live-empty hidden>", html)


def test_the_home_page_has_no_inline_script_or_style(client):
    with_picture(live())

    html = client.get("/").content.decode()

    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert " style=" not in html
    assert 'src="/static/js/home.js"' in html
    assert 'data-live-url="/api/live"' in html
