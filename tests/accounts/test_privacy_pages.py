"""The privacy and rules pages state the periods this site really runs with (read from
the settings, so changing a setting changes the page), every copy that exists, the ten
report reasons, how to report and how to appeal."""

import re

import pytest

from broadcast import thumbnail_views
from safety.models import Reason
from tests.factories import BroadcastFactory, UserFactory


def text_of(response):
    """The page's words, without tags or runs of whitespace."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.mark.django_db
def test_the_privacy_page_states_the_configured_periods(client, settings):
    settings.RETENTION_DAYS = 21
    settings.REPORT_RETENTION_DAYS = 111
    settings.LEGAL_HOLD_DAYS = 45
    settings.LEGAL_HOLD_CHILD_SAFETY_DAYS = 730
    settings.THUMBNAIL_EVERY_S = 7.5
    page = text_of(client.get("/privacy/"))
    assert "deleted 21 days after it ends" in page
    assert "deleted 111 days after the report is closed" in page
    assert "Each entry is deleted 111 days after it is written" in page
    assert "for 45 days after it closes; 730 days when a child may be at risk" in page
    assert "Every 7.5 seconds the server takes one still picture" in page
    assert "for 22.5 seconds (3 periods)" in page
    assert f"for {thumbnail_views.PUBLIC_MAX_AGE} seconds" in page

    settings.RETENTION_DAYS = 1
    settings.THUMBNAIL_EVERY_S = 10
    page = text_of(client.get("/privacy/"))
    assert "deleted 1 day after it ends" in page
    assert "Every 10 seconds" in page and "for 30 seconds (3 periods)" in page


@pytest.mark.django_db
def test_the_privacy_page_names_every_copy(client):
    page = text_of(client.get("/privacy/"))
    for copy in (
        "a report stores the picture of that moment as its evidence",  # report evidence
        "X fetches it and may keep its copy",  # the card picture on X
        "may keep copies that OnAir cannot reach",  # posts on X
        "caches in front of our site",  # caches
        "access logs",  # addresses in access logs
        "keyed hash of the address, never the address itself",  # report counters
        "the text of a chat message a moderator removed",  # audit chat_delete
        "a report's evidence when the report is closed",  # audit report_<decision>
        "each restriction and ban, with whom it was against and why",  # audit restrict/ban
        "emailed to the moderators, with what was reported and the reporter's words",
        "kept while your account exists",  # notices, appeals, restrictions
        "Deleting your account does not remove a restriction",
    ):
        assert copy in page


@pytest.mark.django_db
def test_pages_about_broadcasts_are_sent_marked_do_not_store(client):
    owner = UserFactory(handle="caster")
    live = BroadcastFactory(owner=owner, live=True)
    for path in ("/", f"/b/{live.slug}/", f"/b/{live.slug}/chat/", "/u/caster/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path


@pytest.mark.django_db
def test_without_thumbnails_the_privacy_page_says_so(client, settings):
    settings.THUMBNAIL_EVERY_S = 0
    page = text_of(client.get("/privacy/"))
    assert "takes no still pictures" in page and "Every 0 seconds" not in page


@pytest.mark.django_db
def test_the_rules_page_lists_the_ten_reasons_reporting_and_appeals(client, settings):
    settings.RESTRICTION_DAYS = 12
    response = client.get("/rules/")
    page = text_of(response)
    for reason in Reason:
        assert str(reason.label) in page
    assert page.count("Urgent") >= 3  # child at risk, crime, self-harm are flagged
    assert "Every broadcast and every chat message has a Report button" in page
    assert "anyone watching can report, anonymously" in page
    assert "restricted from going live, usually for 12 days" in page
    assert "the same X account cannot come back" in page
    assert 'href="/safety/notices/"' in response.content.decode()
    assert "A different moderator from the one who decided" in page
    assert "A granted appeal lifts a restriction or a ban" in page
    assert "a removed broadcast or message stays removed" in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/privacy/", "/rules/"])
@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_the_pages_fit_the_screen(browser, live_server_process, screenshot_dir, path, size):
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en")
    page = context.new_page()
    try:
        page.goto(live_server_process.url + path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        name = path.strip("/")
        page.screenshot(path=str(screenshot_dir / f"{name}-{width}.png"), full_page=True)
    finally:
        context.close()
