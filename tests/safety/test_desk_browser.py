"""The moderation desk in real Chromium against a real Daphne process: the live wall puts
an urgent broadcast first and keeps its pictures fresh, the alert badge follows new
urgent reports without a reload, and a takedown from the wall ends the broadcast.
Screenshots of the wall and the reports queue in test-output/."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from broadcast.models import Broadcast
from safety.models import AuditEntry, Reason, Restriction
from tests.chat.support import session_cookie
from tests.safety.desk_support import (
    chatter,
    live_broadcast,
    message_in,
    moderator,
    report,
    with_picture,
)
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def desk_page(browser, server, user, device="desktop"):
    context = browser.new_context(viewport=VIEWPORTS[device], locale="en")
    cookie = session_cookie(user).split("=", 1)[1]
    context.add_cookies([{"name": "sessionid", "value": cookie, "url": server.url}])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    # A missing picture is a 404 the wall expects; anything else is an error.
    page.on(
        "console",
        lambda msg: msg.type == "error" and "404" not in msg.text and page.errors.append(msg.text),
    )
    return page


def started(minutes_ago, **fields):
    broadcast = live_broadcast(**fields)
    Broadcast.objects.filter(pk=broadcast.pk).update(
        started_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return broadcast


def badge(page):
    return page.inner_text("[data-desk-alert-label]")


def card_slugs(page):
    return page.eval_on_selector_all(
        "[data-desk-card]", "cards => cards.map(card => card.dataset.deskCard)"
    )


def picture_fetches(page, broadcast):
    """The URLs the page fetched the broadcast's picture from (its own record of them)."""
    return page.evaluate(
        """path => performance.getEntriesByType("resource")
            .map(entry => entry.name)
            .filter(name => name.includes(path + "?t="))""",
        f"/b/{broadcast.slug}/thumbnail.jpg",
    )


def pictures_shown(page):
    return page.eval_on_selector_all(
        "img[data-desk-thumb]", "imgs => imgs.every(img => img.complete && img.naturalWidth > 0)"
    )


def test_wall_puts_urgent_first_badge_follows_reports_and_takedown_ends_the_broadcast(
    browser, live_server_process, screenshot_dir
):
    server = live_server_process
    desk = moderator(handle="desk_ana")
    quiet = started(40, title="Morning run by the lake")
    fight = started(5, title="Street fight downtown")
    report(fight, by=chatter(), reason=Reason.CRIME, details="Someone is being beaten")
    if settings.REDIS_URL:
        # Every process reads the pictures from Redis: these are the ones the wall shows.
        with_picture(quiet)
        with_picture(fight)
    page = desk_page(browser, server, desk)
    try:
        page.goto(f"{server.url}{reverse('admin:safety_live')}")

        assert card_slugs(page) == [fight.slug, quiet.slug]
        assert (
            page.locator(f'[data-desk-card="{fight.slug}"]')
            .get_attribute("class")
            .endswith("is-urgent")
        )
        wait_for(lambda: badge(page) == "1 urgent report · 1 open", what="the first count")
        page.evaluate("window.deskMarker = 'not reloaded'")

        # The pictures are fetched again and again, each time with a new cache-buster.
        wait_for(
            lambda: len(set(picture_fetches(page, fight))) >= 3,
            timeout=30,
            what="the wall to re-fetch the picture",
        )
        if settings.REDIS_URL:
            wait_for(lambda: pictures_shown(page), timeout=15, what="the pictures")

        # A new urgent report reaches the badge and the wall, without a reload.
        report(quiet, reason=Reason.SELF_HARM)
        wait_for(
            lambda: badge(page) == "2 urgent reports · 2 open",
            timeout=30,
            what="the badge to count the new report",
        )
        quiet_card = page.locator(f'[data-desk-card="{quiet.slug}"]')
        wait_for(
            lambda: "is-urgent" in quiet_card.get_attribute("class"),
            timeout=30,
            what="the wall to mark the new report",
        )
        assert page.evaluate("window.deskMarker") == "not reloaded"
        assert page.locator(".desk-alerts.is-urgent").count() == 1

        # Take the fight down from the wall; the urgent report pre-selected a restriction.
        fight_card = page.locator(f'[data-desk-card="{fight.slug}"]')
        fight_card.locator("summary").click()
        assert fight_card.locator(f'[name="{fight.slug}-rule"]').input_value() == Reason.CRIME
        assert fight_card.locator(f'[name="{fight.slug}-restrict"]').is_checked()
        fight_card.locator(f'[name="{fight.slug}-reason"]').fill("Live violence")
        page.screenshot(path=str(screenshot_dir / "desk-wall-takedown-desktop.png"))
        with page.expect_navigation():
            fight_card.locator("button.desk-danger").click()

        assert "was taken down" in page.inner_text(".messagelist")
        assert card_slugs(page) == [quiet.slug]
        fight.refresh_from_db()
        assert fight.state == Broadcast.State.ENDED
        assert fight.end_reason == "removed"
        takedown = AuditEntry.objects.get(action="takedown")
        assert takedown.actor == desk
        assert takedown.target_id == str(fight.pk)
        assert Restriction.objects.filter(user=fight.owner, lifted_at__isnull=True).exists()
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_wall_and_reports_queue_in_chromium(browser, live_server_process, screenshot_dir, device):
    server = live_server_process
    desk = moderator()
    broadcasts = [
        started(90, title="Cooking with Grandma: sunday pasta"),
        started(12, title="<b>Hostile</b> title <script>alert(1)</script>"),
        started(3, title="Skate park session"),
    ]
    # The reports take the picture as their evidence (this process's store); the wall
    # shows it from the store every web process shares in Redis mode.
    for broadcast in broadcasts:
        with_picture(broadcast)
    report(broadcasts[1], by=chatter(), reason=Reason.CHILD_SAFETY, details="Looks 10 years old")
    report(broadcasts[2], by=chatter(), reason=Reason.SPAM)
    report(message_in(broadcasts[0], "<img src=x onerror=alert(1)> buy now"), by=chatter())
    page = desk_page(browser, server, desk, device)
    try:
        page.goto(f"{server.url}{reverse('admin:safety_live')}")
        assert card_slugs(page)[0] == broadcasts[1].slug
        if settings.REDIS_URL:
            wait_for(lambda: pictures_shown(page), timeout=15, what="the pictures")
        else:
            page.wait_for_selector(".desk-picture.is-empty .desk-no-picture")
        wait_for(lambda: "urgent" in badge(page), what="the badge")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(screenshot_dir / f"desk-wall-{device}.png"), full_page=True)

        page.goto(f"{server.url}{reverse('admin:safety_report_changelist')}")
        assert page.locator("#result_list tbody tr").count() == 3
        assert page.locator("script:has-text('alert(1)')").count() == 0
        assert "<script>alert(1)</script>" in page.inner_text("#result_list")
        page.screenshot(path=str(screenshot_dir / f"desk-queue-{device}.png"), full_page=True)

        page.locator("#result_list tbody tr a").first.click()
        page.wait_for_selector(".desk-evidence")
        assert "Looks 10 years old" in page.inner_text("#content-main")
        evidence = page.locator("img.desk-evidence-picture")
        wait_for(
            lambda: evidence.evaluate("img => img.complete && img.naturalWidth > 0"),
            what="the stored picture",
        )
        page.screenshot(path=str(screenshot_dir / f"desk-report-{device}.png"), full_page=True)
        assert page.errors == []
    finally:
        page.context.close()
