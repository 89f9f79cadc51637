"""The go-live and watch pages at desktop and phone widths, under the real CSP."""

import pytest

from tests.factories import BroadcastFactory
from tests.media.browser import (
    GO_LIVE,
    go_live,
    open_viewer,
    wait_for_dataset,
    wait_for_player_state,
    wait_until_playing,
)
from tests.media.conftest import adult, signed_in_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def no_sideways_overflow(page):
    return (
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        <= 0
    )


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_go_live_and_watch_pages_look_right(
    browser, live_server_process, client, screenshot_dir, device
):
    server = live_server_process
    owner = adult(username=f"shot-{device}", handle=f"shot{device}")
    viewport = VIEWPORTS[device]
    studio_context = signed_in_context(browser, server, client, owner, viewport=viewport)
    viewer_context = None
    try:
        before = studio_context.new_page()
        before.goto(f"{server.url}/live/")
        wait_for_dataset(before, GO_LIVE, "devices", "ready", timeout=20)
        assert no_sideways_overflow(before)
        before.screenshot(path=str(screenshot_dir / f"go-live-{device}.png"), full_page=True)
        before.close()

        studio_context.close()
        studio_context, studio, slug, errors = go_live(
            browser, server, client, owner, viewport=viewport, title="Shot at the park"
        )
        viewer_context, viewer, viewer_errors = open_viewer(
            browser, server, slug, viewport=viewport
        )
        wait_until_playing(viewer)
        assert no_sideways_overflow(viewer)
        assert viewer.is_visible("[data-player-unmute]"), "muted autoplay offers unmute"
        viewer.screenshot(path=str(screenshot_dir / f"watch-{device}.png"), full_page=True)
        studio.wait_for_timeout(1500)  # let the stats tick once more for the picture
        assert no_sideways_overflow(studio)
        studio.screenshot(path=str(screenshot_dir / f"go-live-live-{device}.png"), full_page=True)
        assert errors == viewer_errors == []
    finally:
        studio_context.close()
        if viewer_context:
            viewer_context.close()


def test_a_broadcast_that_has_not_started_waits_then_starts_by_itself(
    browser, live_server_process, client, screenshot_dir
):
    owner = adult(username="later", handle="later")
    broadcast = BroadcastFactory(owner=owner)
    context, page, errors = open_viewer(browser, live_server_process, broadcast.slug)
    studio_context = None
    try:
        wait_for_player_state(page, "created")
        assert "starts by itself" in page.inner_text("[data-player-status]")
        page.screenshot(path=str(screenshot_dir / "watch-not-started.png"))
        # The broadcaster opens the go-live page and sends from it.
        studio_context = signed_in_context(browser, live_server_process, client, owner)
        studio = studio_context.new_page()
        studio.goto(f"{live_server_process.url}/live/")
        studio.click("[data-take-over]")
        wait_for_dataset(studio, GO_LIVE, "connection", "live")
        wait_until_playing(page)
        assert errors == []
    finally:
        context.close()
        if studio_context:
            studio_context.close()


def test_a_browser_without_media_source_gets_a_clear_message(browser, live_server_process):
    broadcast = BroadcastFactory(owner=adult(username="nomse"), live=True)
    context = browser.new_context()
    context.add_init_script("delete window.MediaSource; delete window.ManagedMediaSource;")
    page = context.new_page()
    try:
        page.goto(f"{live_server_process.url}/b/{broadcast.slug}/")
        wait_for_player_state(page, "unsupported")
        assert "cannot play live video" in page.inner_text("[data-player-status]")
    finally:
        context.close()


def test_managed_media_source_is_used_where_media_source_is_absent(
    browser, live_server_process, client
):
    """Safari on iPhone has only ManagedMediaSource: stand one in for MediaSource."""
    studio_context, _studio, slug, _ = go_live(
        browser, live_server_process, client, adult(username="mms")
    )
    context = browser.new_context()
    context.add_init_script(
        "window.ManagedMediaSource = window.MediaSource; delete window.MediaSource;"
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server_process.url}/b/{slug}/")
        wait_until_playing(page)
        assert page.evaluate("typeof window.MediaSource") == "undefined"
    finally:
        context.close()
        studio_context.close()


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("delete window.MediaRecorder;", "cannot broadcast"),
        (
            "navigator.mediaDevices.getUserMedia = () => "
            "Promise.reject(new DOMException('no', 'NotAllowedError'));",
            "access was refused",
        ),
        (
            "navigator.mediaDevices.getUserMedia = () => "
            "Promise.reject(new DOMException('no', 'NotFoundError'));",
            "No camera or microphone was found",
        ),
    ],
    ids=["unsupported", "refused", "missing"],
)
def test_go_live_page_explains_what_is_wrong(
    browser, live_server_process, client, script, expected
):
    user = adult(username="explain")
    context = signed_in_context(browser, live_server_process, client, user)
    context.add_init_script(script)
    page = context.new_page()
    try:
        page.goto(f"{live_server_process.url}/live/")
        page.wait_for_selector("[data-notice]:not([hidden])", timeout=15000)
        assert expected in page.inner_text("[data-notice]")
    finally:
        context.close()
