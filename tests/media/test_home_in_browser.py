"""The home page in Chromium while broadcasts start and end, through a real Daphne
process: cards appear, count viewers, show the live picture where the broadcaster allows
it, and leave, all without a reload (static/js/home.js). Also the pages around it at
desktop and phone widths."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from broadcast import selectors, services
from broadcast.models import Broadcast
from tests.conftest import OUTPUT_DIR
from tests.factories import BroadcastFactory
from tests.media.browser import collect_errors, go_live, open_viewer, wait_until_playing
from tests.media.conftest import adult
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1280, 800), (390, 844), (360, 740)]

CARD_JS = """(slug) => {
  const card = [...document.querySelectorAll('[data-live-card]')]
    .find((el) => el.dataset.slug === slug);
  if (!card) return null;
  const img = card.querySelector('[data-card-thumb]');
  const viewers = card.querySelector('[data-card-viewers]');
  return {
    title: card.querySelector('[data-card-title]').textContent,
    viewers: viewers.hidden ? null : viewers.textContent.replace(/\\s+/g, ' ').trim(),
    count: card.dataset.viewers ?? null,
    picture: !img.hidden && img.complete && img.naturalWidth > 0 ? img.getAttribute('src') : null,
    pictureAt: card.pictureShownAt,
    neutral: !card.querySelector('[data-card-placeholder]').hidden,
    href: card.querySelector('a').getAttribute('href'),
  };
}"""


def card(page, slug):
    return page.evaluate(CARD_JS, slug)


def wait_for_card(page, slug, check, what, timeout=30):
    return wait_for(
        lambda: (state := card(page, slug)) is not None and check(state) and state,
        timeout=timeout,
        interval=0.2,
        what=what,
    )


def empty_state_shown(page):
    return page.is_visible("[data-live-empty]") and not page.is_visible("[data-card-grid]")


def no_sideways_scroll(page):
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def screenshots(page, name):
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        assert no_sideways_scroll(page) <= 0, f"{name} scrolls sideways at {width}px"
        page.screenshot(path=str(OUTPUT_DIR / f"{name}-{width}x{height}.png"), full_page=True)


def test_cards_come_count_viewers_show_pictures_and_go_without_a_reload(
    browser, live_server_process, client
):
    server = live_server_process
    OUTPUT_DIR.mkdir(exist_ok=True)
    selectors.forget_cached_live_listing()
    contexts = []
    try:
        home_context = browser.new_context(viewport={"width": 1280, "height": 800})
        contexts.append(home_context)
        home = home_context.new_page()
        home_errors = collect_errors(home)
        home.goto(f"{server.url}/")
        assert empty_state_shown(home)
        home.evaluate("window.__sameDocument = true")

        # A broadcaster goes live (the picture on cards allowed, as by default).
        owner = adult(username="homecaster", handle="homecaster", display_name="Home Caster")
        context, _studio, slug, studio_errors = go_live(
            browser, server, client, owner, title="Live on the home page"
        )
        contexts.append(context)
        state = wait_for_card(home, slug, lambda s: s["count"] == "0", "the new card")
        assert state["title"] == "Live on the home page"
        assert state["href"] == f"/b/{slug}/"
        assert state["viewers"] == "0 watching"
        assert not empty_state_shown(home)

        # A viewer joins: the card counts them.
        context, viewer, viewer_errors = open_viewer(browser, server, slug)
        contexts.append(context)
        wait_until_playing(viewer)
        state = wait_for_card(home, slug, lambda s: s["count"] == "1", "1 viewer on the card")
        assert state["viewers"] == "1 watching"

        # The live picture arrives, then a newer one, never sooner than the period.
        first = wait_for_card(home, slug, lambda s: s["picture"], "the live picture", 45)
        assert first["picture"].startswith(f"/b/{slug}/thumbnail.jpg?t=")
        assert not first["neutral"]
        second = wait_for_card(
            home, slug, lambda s: s["picture"] not in (None, first["picture"]), "a newer one", 60
        )
        assert second["pictureAt"] - first["pictureAt"] >= settings.THUMBNAIL_EVERY_S * 1000

        # Another broadcaster keeps the picture off cards: a neutral card, no image.
        shy = BroadcastFactory(
            owner=adult(username="shycaster", handle="shycaster", display_name="Shy Caster"),
            title="No picture, please",
            live=True,
            show_picture=False,
            last_media_at=timezone.now(),
        )
        state = wait_for_card(home, shy.slug, lambda s: s["neutral"], "the neutral card")
        assert state["picture"] is None
        screenshots(home, "home-live-cards")
        home.set_viewport_size({"width": 1280, "height": 800})

        # Both end: their cards leave, and the empty state is back.
        services.end_broadcast_by_owner(broadcast=Broadcast.objects.get(slug=slug), user=owner)
        wait_for(lambda: card(home, slug) is None, timeout=30, what="the ended card to leave")
        services.end_broadcast(broadcast=shy, reason=services.EndReason.OWNER)
        wait_for(lambda: empty_state_shown(home), timeout=30, what="the empty state")
        assert Broadcast.objects.get(slug=slug).state == Broadcast.State.ENDED
        assert home.evaluate("window.__sameDocument") is True
        assert home_errors == [] and studio_errors == [] and viewer_errors == []
    finally:
        for context in contexts:
            context.close()


HIDE_JS = """(hidden) => {
  Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event('visibilitychange'));
}"""
POLLER_JS = """() => {
  const cards = document.querySelector('[data-live-home]').liveCards;
  return {polls: cards.polls, failures: cards.failures, waiting: cards.timer !== null,
          pollMs: cards.pollMs, delayMs: cards.delayMs};
}"""


def test_polling_stops_while_the_tab_is_hidden_and_backs_off_on_errors(
    browser, live_server_process
):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live_server_process.url}/")
        poller = lambda: page.evaluate(POLLER_JS)  # noqa: E731
        wait_for(lambda: poller()["polls"] >= 1, timeout=30, what="a first poll")

        page.evaluate(HIDE_JS, True)
        assert poller()["waiting"] is False  # nothing scheduled while hidden
        polls = poller()["polls"]
        page.evaluate(HIDE_JS, False)  # back on the tab: asks at once
        wait_for(lambda: poller()["polls"] > polls, timeout=30, what="a poll on return")

        page.route("**/api/live", lambda route: route.fulfill(status=503, body="down"))
        page.evaluate(HIDE_JS, True)
        page.evaluate(HIDE_JS, False)
        state = wait_for(
            lambda: (s := poller())["failures"] >= 1 and s["waiting"] and s, timeout=30
        )
        assert state["delayMs"] >= 2 * state["pollMs"] * 0.9  # doubled, give or take jitter
        assert page.is_visible("[data-live-empty]")  # an error changes nothing shown

        page.unroute("**/api/live")
        page.evaluate(HIDE_JS, True)
        page.evaluate(HIDE_JS, False)
        state = wait_for(
            lambda: (s := poller())["failures"] == 0 and s["waiting"] and s, timeout=30
        )
        assert state["delayMs"] <= state["pollMs"] * 1.1
    finally:
        context.close()


def test_home_and_profile_pages_hold_at_desktop_and_phone_widths(browser, live_server_process):
    """Signed out, nobody live; a broadcaster's page with past broadcasts, then live."""
    owner = adult(username="pastcaster", handle="pastcaster", display_name="Harbour Cam")
    now = timezone.now()
    for days, minutes, title in [
        (1, 47, "Sunset over the harbour"),
        (3, 125, "Fishing boats coming in, a very long title that has to wrap on phones"),
        (6, 8, "Quick hello"),
    ]:
        ended = now - timedelta(days=days)
        BroadcastFactory(
            owner=owner,
            title=title,
            state=Broadcast.State.ENDED,
            started_at=ended - timedelta(minutes=minutes),
            ended_at=ended,
            end_reason=services.EndReason.OWNER,
        )
    owner.last_live_at = now - timedelta(days=1, minutes=47)
    owner.save(update_fields=["last_live_at"])
    context = browser.new_context()
    try:
        page = context.new_page()
        errors = collect_errors(page)
        page.goto(f"{live_server_process.url}/")
        assert page.is_visible("[data-testid=intro-sign-in]")
        assert empty_state_shown(page)
        screenshots(page, "home-signed-out-empty")
        page.goto(f"{live_server_process.url}/u/pastcaster/")
        assert page.locator(".past-item").count() == 3
        screenshots(page, "profile-past-broadcasts")
        BroadcastFactory(owner=owner, title="The harbour at dusk", live=True)
        page.reload()
        assert page.locator("[data-testid=profile-live]").is_visible()
        screenshots(page, "profile-live-now")
        assert errors == []
    finally:
        context.close()
