"""Reporting in real Chromium against a real Daphne process: an anonymous viewer reports a
live broadcast (its live picture kept as evidence) and a hostile chat message, through
the one report dialog, on a desktop and a phone. Screenshots in test-output/."""

import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from chat import services as chat
from safety.models import Reason, Report
from tests.chat.support import chatter, live_broadcast
from tests.conftest import DaphneServer
from tests.media.browser import collect_errors, go_live
from tests.media.conftest import adult
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
HELP = "If you are in danger, call 112. Helplines: https://findahelpline.com. Not a link: http://x.example"


@pytest.fixture(scope="module")
def server(live_server_process, tmp_path_factory):
    """A web process of its own: every page here comes from 127.0.0.1, and the anonymous
    limit per address (kept in the shared cache, across runs in Redis mode) must not
    refuse them; the help text is the deployment's setting."""
    server = DaphneServer(
        tmp_path_factory.mktemp("daphne-reports"),
        name="web-reports",
        REPORT_ANON_PER_ADDRESS_PER_HOUR="100000",
        SELF_HARM_HELP_TEXT=HELP,
    )
    yield server
    server.stop()


def viewer_page(browser, server, device):
    # The phone is a touch screen: no hover, so per-message controls always show.
    touch = {"is_mobile": True, "has_touch": True} if device == "phone" else {}
    context = browser.new_context(viewport=VIEWPORTS[device], locale="en", **touch)
    page = context.new_page()
    page.errors = collect_errors(page)
    return page


def has_thumbnail(server, slug):
    try:
        with urllib.request.urlopen(f"{server.url}/b/{slug}/thumbnail.jpg", timeout=5) as r:
            return r.status == 200
    except urllib.error.HTTPError:
        return False


def no_overflow(page):
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def test_anonymous_viewer_reports_a_live_broadcast_as_self_harm_and_is_shown_help(
    browser, server, client, screenshot_dir
):
    owner = adult(username="bridge", handle="bridge")
    studio, _, slug, studio_errors = go_live(browser, server, client, owner, title="On the bridge")
    pages = []
    try:
        wait_for(lambda: has_thumbnail(server, slug), timeout=40, what="a live picture")
        for device in ("desktop", "phone"):
            page = viewer_page(browser, server, device)
            pages.append(page)
            page.goto(f"{server.url}/b/{slug}/")
            page.screenshot(path=str(screenshot_dir / f"report-watch-{device}.png"))
            page.get_by_role("button", name="Report this broadcast").click()
            dialog = page.get_by_role("dialog", name="Report this broadcast")
            expect(dialog).to_be_visible()
            expect(dialog.locator("[data-report-summary]")).to_have_text("On the bridge")
            assert dialog.get_by_role("radio").count() == len(Reason.choices)
            page.screenshot(path=str(screenshot_dir / f"report-dialog-{device}.png"))
            dialog.get_by_label("Self-harm or suicide").check()
            dialog.get_by_role("button", name="Send report").click()
            confirmation = dialog.locator("[data-report-confirmation]")
            expect(confirmation).to_contain_text("Your report was sent to the OnAir team")
            help_text = dialog.locator("[data-report-help]")
            expect(help_text).to_be_visible()
            expect(help_text).to_contain_text("If you are in danger, call 112.")
            links = help_text.get_by_role("link")
            assert links.count() == 1
            assert links.first.get_attribute("href") == "https://findahelpline.com/"
            assert "http://x.example" in help_text.inner_text()
            assert no_overflow(page) <= 0
            page.screenshot(path=str(screenshot_dir / f"report-sent-{device}.png"))
            dialog.get_by_role("button", name="Close").click()
            expect(dialog).to_be_hidden()
            assert page.errors == []
        # Both came from 127.0.0.1: one anonymous reporter, one open report, updated.
        filed = Report.objects.get(target_key__startswith="b:")
        assert filed.reporter is None and filed.reason == Reason.SELF_HARM and filed.urgent
        assert filed.snapshot["broadcast"]["title"] == "On the bridge"
        assert bytes(filed.thumbnail)[:3] == b"\xff\xd8\xff"  # a JPEG: the live picture
        assert filed.thumbnail_type == "image/jpeg" and filed.snapshot["thumbnail_taken_at"]
        assert studio_errors == []
    finally:
        for page in pages:
            page.context.close()
        studio.close()


def test_anonymous_viewer_reports_a_hostile_chat_message_which_stays_text(
    browser, server, screenshot_dir
):
    broadcast = live_broadcast(title="Quiz night")
    author = chatter(display_name="<b>Troll</b>")
    hostile = "<img src=x onerror=\"window.__pwned='img'\"> \u202eevil"
    message = chat.post_message(broadcast=broadcast, user=author, text=hostile).message
    page = viewer_page(browser, server, "phone")
    try:
        page.goto(f"{server.url}/b/{broadcast.slug}/")
        item = page.locator(f".chat-message[data-id='{message.pk}']")
        expect(item).to_be_visible()
        page.screenshot(path=str(screenshot_dir / "report-chat-phone.png"))
        item.get_by_role("button", name="Report the message from <b>Troll</b>").click()
        dialog = page.get_by_role("dialog", name="Report this chat message")
        expect(dialog).to_be_visible()
        summary = dialog.locator("[data-report-summary]")
        expect(summary).to_have_text(f"<b>Troll</b>: {message.text}")
        assert summary.locator("img, b").count() == 0

        # "Other" needs a few words: the browser asks for them before anything is sent.
        dialog.get_by_label("Other").check()
        dialog.get_by_role("button", name="Send report").click()
        assert dialog.locator("textarea:invalid").count() == 1
        assert not Report.objects.exists()
        dialog.get_by_label("Details").fill("<script>window.__pwned='details'</script>")
        page.screenshot(path=str(screenshot_dir / "report-message-phone.png"))
        dialog.get_by_role("button", name="Send report").click()
        expect(dialog.locator("[data-report-confirmation]")).to_contain_text("Thank you")
        assert dialog.locator("[data-report-help]").is_hidden()
        assert page.evaluate("window.__pwned") is None

        filed = Report.objects.get()
        assert filed.message_id == message.pk and filed.reason == Reason.OTHER
        assert filed.details == "<script>window.__pwned='details'</script>"
        assert filed.snapshot["message"]["text"] == message.text
        # Closing with Escape puts the focus back on the message's Report button.
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        assert page.evaluate("document.activeElement.dataset.reportId") == str(message.pk)
        assert no_overflow(page) <= 0
        assert page.errors == []
    finally:
        page.context.close()
