"""The go-live page as a broadcaster uses it, in Chromium through a real Daphne process:
the form fits a laptop screen, a refused camera can be retried, the live page shows the
title and copies the link, cameras switch and the microphone mutes without ending the
broadcast, the End button asks first, and the end lets go of the camera and sums up.

This module launches its own Chromium: two fake cameras, and no automatic yes to the
camera prompt, so that a page without the permission is refused as a real one is."""

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from broadcast import services
from broadcast.models import Broadcast, XPost
from chat.services import post_message
from tests.axe import Site, verdict
from tests.conftest import require
from tests.media.browser import (
    GO_LIVE,
    collect_errors,
    dataset,
    go_live,
    open_viewer,
    playback,
    wait_for_dataset,
    wait_until_playing,
)
from tests.media.conftest import adult, signed_in_context
from tests.support import CHROMIUM, CHROMIUM_ARGS, node_tool, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 800}
PHONES = {"phone-390": {"width": 390, "height": 844}, "phone-360": {"width": 360, "height": 740}}
MEDIA = ["camera", "microphone", "screen-wake-lock"]
PUBLISHER = "document.querySelector('[data-go-live]').publisher"


@pytest.fixture(scope="module")
def browser():
    require(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    args = [
        arg
        for arg in CHROMIUM_ARGS
        if arg != "--use-fake-ui-for-media-stream"
        and not arg.startswith("--use-fake-device-for-media-stream")
    ]
    args.append("--use-fake-device-for-media-stream=device-count=2")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=args)
        yield launched
        launched.close()


def open_form(browser, server, client, user, *, viewport, permissions=MEDIA):
    context = signed_in_context(
        browser, server, client, user, viewport=viewport, permissions=permissions
    )
    page = context.new_page()
    errors = collect_errors(page)
    page.goto(f"{server.url}/live/")
    return context, page, errors


def sideways_overflow(page):
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def inside_viewport(page, selector, viewport):
    box = page.locator(selector).bounding_box()
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"]
        and box["y"] + box["height"] <= viewport["height"]
    )


def shoot(page, folder, name, **options):
    page.screenshot(path=str(folder / f"go-live-{name}.png"), **options)


def tracks(page):
    return page.evaluate(
        f"""() => {{
          const stream = {PUBLISHER}.stream;
          return stream ? stream.getTracks().map(t => ({{
            kind: t.kind, state: t.readyState, enabled: t.enabled,
            device: t.getSettings().deviceId }})) : [];
        }}"""
    )


def test_the_form_fits_a_laptop_screen_and_phones_never_scroll_sideways(
    browser, live_server_process, client, screenshot_dir
):
    context, page, errors = open_form(
        browser, live_server_process, client, adult(username="fits"), viewport=DESKTOP
    )
    try:
        wait_for_dataset(page, GO_LIVE, "devices", "ready", timeout=20)
        assert page.evaluate("scrollY") == 0
        assert inside_viewport(page, "#id_title", DESKTOP)
        assert inside_viewport(page, "[data-go-button]", DESKTOP)
        assert page.is_enabled("[data-go-button]")
        shoot(page, screenshot_dir, "form-desktop")
        for name, viewport in PHONES.items():
            page.set_viewport_size(viewport)
            assert sideways_overflow(page) <= 0, name
            shoot(page, screenshot_dir, f"form-{name}", full_page=True)
        assert errors == []
    finally:
        context.close()


def test_a_refused_camera_blocks_going_live_until_retry_gets_one(
    browser, live_server_process, client, screenshot_dir
):
    context, page, errors = open_form(
        browser,
        live_server_process,
        client,
        adult(username="refused"),
        viewport=DESKTOP,
        permissions=[],
    )
    try:
        wait_for_dataset(page, GO_LIVE, "devices", "devices-error", timeout=20)
        assert "access was refused" in page.inner_text("[data-notice]")
        assert page.is_disabled("[data-go-button]")
        assert page.is_visible("[data-go-blocked]")
        reason = page.inner_text("[data-go-blocked]")
        assert "needs a working camera" in reason
        described = page.get_attribute("[data-go-button]", "aria-describedby")
        assert page.inner_text(f"#{described}") == reason
        assert page.is_visible("[data-retry]")
        assert page.is_visible("[data-preview-status]")
        for name, viewport in [("desktop", DESKTOP), *PHONES.items()]:
            page.set_viewport_size(viewport)
            assert sideways_overflow(page) <= 0, name
            shoot(page, screenshot_dir, f"camera-refused-{name}", full_page=True)
        page.set_viewport_size(DESKTOP)

        # Still refused: Retry says so again, going live stays off.
        page.click("[data-retry]")
        wait_for(lambda: page.is_enabled("[data-retry]"), timeout=10, what="retry done")
        assert dataset(page, GO_LIVE, "devices") == "devices-error"
        assert page.is_disabled("[data-go-button]")

        # Allowed in the browser's settings: the page sees the permission change and
        # takes the camera at once (Retry is there for browsers that do not say so).
        context.grant_permissions(MEDIA, origin=live_server_process.url)
        wait_for_dataset(page, GO_LIVE, "devices", "ready", timeout=20)
        assert page.is_enabled("[data-go-button]")
        assert not page.is_visible("[data-go-blocked]")
        assert not page.is_visible("[data-retry]")
        assert not page.is_visible("[data-notice]")
        assert {t["state"] for t in tracks(page)} == {"live"}
        assert errors == []
    finally:
        context.close()


def test_live_title_copy_link_switch_camera_mute_then_confirm_the_end(
    browser, live_server_process, client, screenshot_dir
):
    server = live_server_process
    owner = adult(username="studio", handle="studio")
    chatter = adult(username="chatty")
    context, studio, slug, errors = go_live(
        browser,
        server,
        client,
        owner,
        title="Harbour at dusk",
        viewport=DESKTOP,
        permissions=[*MEDIA, "clipboard-read", "clipboard-write"],
    )
    viewer_context = None
    try:
        viewer_context, viewer, viewer_errors = open_viewer(browser, server, slug)
        wait_until_playing(viewer)
        wait_for(lambda: studio.inner_text("[data-viewers]") == "1", timeout=20, what="1 viewer")

        # The title, the link and its Copy button, visible on the laptop screen.
        assert studio.inner_text("[data-live-title]") == "Harbour at dusk"
        watch_url = f"{server.url}/b/{slug}/"
        assert studio.inner_text("[data-watch-link]") == watch_url
        studio.click("[data-copy-link]")
        wait_for(lambda: studio.inner_text("[data-copy-status]") == "Copied", timeout=10)
        assert studio.evaluate("navigator.clipboard.readText()") == watch_url
        # Where the Clipboard API refuses (an http page, a browser without the
        # permission), the older copy command does it.
        studio.evaluate(
            """async () => {
              await navigator.clipboard.writeText("");
              navigator.clipboard.writeText = () =>
                Promise.reject(new DOMException("refused", "NotAllowedError"));
            }"""
        )
        studio.click("[data-copy-link]")
        wait_for(lambda: studio.evaluate("navigator.clipboard.readText()") == watch_url, timeout=10)
        assert dataset(studio, GO_LIVE, "copied") == "true"
        for selector in ("[data-live-title]", "[data-end-button]", "[data-copy-link]"):
            assert inside_viewport(studio, selector, DESKTOP), selector

        # The other camera: a new recorder on the same socket, the viewer carries on.
        before = tracks(studio)
        recorders = studio.evaluate(f"{PUBLISHER}.recorders")
        inits = playback(viewer)["inits"]
        assert studio.is_visible("[data-switch-camera]")
        studio.click("[data-switch-camera]")
        wait_for(
            lambda: studio.evaluate(f"{PUBLISHER}.recorders") > recorders,
            timeout=15,
            what="a recorder on the other camera",
        )
        after = tracks(studio)
        video = [t for t in after if t["kind"] == "video"]
        assert len(video) == 1 and video[0]["state"] == "live"
        assert video[0]["device"] != next(t["device"] for t in before if t["kind"] == "video")
        assert dataset(studio, GO_LIVE, "connection") == "live"
        wait_for(lambda: playback(viewer)["inits"] > inits, timeout=20, what="a new init")
        wait_until_playing(viewer)

        # Mute: the audio track is off (the recording goes on, silent), and it shows.
        studio.click("[data-mute]")
        assert [t["enabled"] for t in tracks(studio) if t["kind"] == "audio"] == [False]
        assert studio.get_attribute("[data-mute]", "aria-pressed") == "true"
        assert studio.is_visible("[data-muted-badge]")
        shoot(studio, screenshot_dir, "live-desktop")
        for name, viewport in PHONES.items():
            studio.set_viewport_size(viewport)
            assert sideways_overflow(studio) <= 0, name
            shoot(studio, screenshot_dir, f"live-{name}", full_page=True)
        studio.set_viewport_size(DESKTOP)
        studio.click("[data-mute]")
        assert [t["enabled"] for t in tracks(studio) if t["kind"] == "audio"] == [True]

        # Two chat messages for the summary.
        for text in ("Lovely light", "Is that a heron?"):
            post_message(broadcast=Broadcast.objects.get(slug=slug), user=chatter, text=text)

        # End, from the keyboard: the dialog opens on "Keep going", Escape keeps going.
        studio.focus("[data-end-button]")
        studio.keyboard.press("Enter")
        dialog = studio.locator("[data-end-dialog]")
        wait_for(dialog.is_visible, timeout=10, what="the end dialog")
        assert studio.evaluate("document.activeElement.hasAttribute('data-end-cancel')")
        shoot(studio, screenshot_dir, "confirm-desktop")
        for name, viewport in PHONES.items():
            studio.set_viewport_size(viewport)
            shoot(studio, screenshot_dir, f"confirm-{name}")
        studio.set_viewport_size(DESKTOP)
        studio.keyboard.press("Escape")
        wait_for(lambda: not dialog.is_visible(), timeout=10, what="the dialog to close")
        assert Broadcast.objects.get(slug=slug).state == Broadcast.State.LIVE
        assert dataset(studio, GO_LIVE, "connection") == "live"

        # "End broadcast" in the dialog ends it: camera and microphone let go, a summary.
        studio.evaluate(
            """() => {
              window.__ended = [];
              document.addEventListener("onair:ended", (e) => window.__ended.push(e.detail));
              window.__tracks = document.querySelector("[data-go-live]").publisher.stream
                .getTracks();
            }"""
        )
        studio.click("[data-end-button]")
        studio.keyboard.press("Tab")
        studio.keyboard.press("Enter")
        wait_for_dataset(studio, GO_LIVE, "ended", "true", timeout=15)
        assert Broadcast.objects.get(slug=slug).end_reason == "owner"
        assert studio.evaluate("window.__ended") == [{"reason": "owner"}]
        assert studio.evaluate("window.__tracks.map(t => t.readyState)") == ["ended", "ended"]
        assert studio.evaluate(f"{PUBLISHER}.stream") is None
        assert studio.is_visible("[data-summary]")
        wait_for_dataset(studio, GO_LIVE, "summary", "ready", timeout=15)
        assert studio.inner_text("[data-summary-peak]") == "1"
        assert studio.inner_text("[data-summary-messages]") == "2"
        assert studio.inner_text("[data-summary-duration]").startswith("0:00:")
        assert "Harbour at dusk" in studio.inner_text("[data-summary-of]")
        assert not studio.is_visible("[data-live-panel]")
        shoot(studio, screenshot_dir, "summary-desktop")
        for name, viewport in PHONES.items():
            studio.set_viewport_size(viewport)
            assert sideways_overflow(studio) <= 0, name
            shoot(studio, screenshot_dir, f"summary-{name}", full_page=True)
        studio.set_viewport_size(DESKTOP)

        # Go live again: a clean form with the camera back.
        studio.click("[data-go-again]")
        wait_for_dataset(studio, GO_LIVE, "devices", "ready", timeout=20)
        assert studio.is_visible("#id_title") and studio.input_value("#id_title") == ""
        assert studio.is_enabled("[data-go-button]")
        assert {t["state"] for t in tracks(studio)} == {"live"}
        assert errors == viewer_errors == []
    finally:
        context.close()
        if viewer_context:
            viewer_context.close()


def test_ended_by_staff_the_page_lets_go_of_the_camera_and_sums_up(
    browser, live_server_process, client
):
    owner = adult(username="stopped")
    context, studio, slug, errors = go_live(
        browser, live_server_process, client, owner, viewport=DESKTOP, permissions=MEDIA
    )
    try:
        studio.evaluate(
            """() => {
              window.__ended = [];
              document.addEventListener("onair:ended", (e) => window.__ended.push(e.detail));
              window.__tracks = document.querySelector("[data-go-live]").publisher.stream
                .getTracks();
            }"""
        )
        services.end_broadcast(broadcast=Broadcast.objects.get(slug=slug), reason="admin")
        wait_for_dataset(studio, GO_LIVE, "ended", "true", timeout=20)
        assert studio.evaluate("window.__ended") == [{"reason": "admin"}]
        assert studio.evaluate("window.__tracks.map(t => t.readyState)") == ["ended", "ended"]
        # The summary comes from the state API, which tells the owner.
        wait_for_dataset(studio, GO_LIVE, "summary", "ready", timeout=15)
        assert studio.inner_text("[data-summary-messages]") == "0"
        assert dataset(studio, GO_LIVE, "wakeLock") == "released"
        assert errors == []
    finally:
        context.close()


def test_in_the_background_the_page_says_what_viewers_see_and_keeps_the_screen_on(
    browser, live_server_process, client
):
    context, studio, _slug, errors = go_live(
        browser,
        live_server_process,
        client,
        adult(username="away"),
        viewport=DESKTOP,
        permissions=MEDIA,
    )
    try:
        title = studio.title()
        wait_for_dataset(studio, GO_LIVE, "wakeLock", "held", timeout=10)
        # What a phone does when another app comes to the front: the browser lets go of
        # the wake lock and hides the page (headless pages stay visible: told so here).
        studio.evaluate(
            f"""async () => {{
              await {PUBLISHER}.wakeLock.sentinel.release();
              Object.defineProperty(document, "visibilityState",
                {{ value: "hidden", configurable: true }});
              document.dispatchEvent(new Event("visibilitychange"));
            }}"""
        )
        assert dataset(studio, GO_LIVE, "wakeLock") == "released"
        assert studio.is_visible("[data-away]")
        assert "frozen picture" in studio.inner_text("[data-away]")
        assert studio.title() != title
        studio.evaluate(
            """() => {
              Object.defineProperty(document, "visibilityState",
                { value: "visible", configurable: true });
              document.dispatchEvent(new Event("visibilitychange"));
            }"""
        )
        assert "You are back" in studio.inner_text("[data-away]")
        assert studio.title() == title
        wait_for_dataset(studio, GO_LIVE, "wakeLock", "held", timeout=10)  # taken again
        assert dataset(studio, GO_LIVE, "connection") == "live"
        assert errors == []
    finally:
        context.close()


def test_a_post_that_cannot_be_made_offers_xs_share_intent(
    browser, live_server_process, client, screenshot_dir, settings
):
    owner = adult(username="capped", handle="capped")
    # The owner's hourly cap of go-live posts is used up: this broadcast's post fails.
    for n in range(settings.X_USER_POSTS_PER_HOUR):
        XPost.objects.create(
            purpose=XPost.Purpose.GO_LIVE,
            source_key=f"earlier:{n}",
            idempotency_key=f"capped-{n}",
            user=owner,
            text="earlier",
            state=XPost.State.POSTED,
        )
    XPost.objects.filter(user=owner).update(created_at=timezone.now() - timedelta(minutes=5))
    context, studio, slug, errors = go_live(
        browser,
        live_server_process,
        client,
        owner,
        title="Capped & live",
        viewport=DESKTOP,
        permissions=MEDIA,
    )
    try:
        status = studio.locator("[data-xpost-status][data-state=failed]")
        status.wait_for(timeout=30_000)
        text = status.inner_text()
        assert "could not be posted to X" in text
        assert "limit of posts to X for this hour" in text
        assert "trying again" not in text.lower()
        share = status.locator("[data-xpost-share]")
        href = urlsplit(share.get_attribute("href"))
        assert (href.netloc, href.path) == ("x.com", "/intent/tweet")
        assert parse_qs(href.query) == {
            "text": ["Capped & live"],
            "url": [f"{live_server_process.url}/b/{slug}/"],
        }
        assert share.get_attribute("target") == "_blank"
        assert inside_viewport(studio, "[data-xpost-share]", DESKTOP)  # no need to scroll
        shoot(studio, screenshot_dir, "x-post-failed-desktop")
        for name, viewport in PHONES.items():
            studio.set_viewport_size(viewport)
            assert sideways_overflow(studio) <= 0, name
            shoot(studio, screenshot_dir, f"x-post-failed-{name}", full_page=True)
        assert errors == []
    finally:
        context.close()


def test_every_state_of_the_page_passes_axe(browser, live_server_process, client):
    """axe-core at desktop and phone widths (tests/axe.py): the refused camera, the form,
    live, the end dialog and the summary."""
    axe = node_tool("axe-core")
    require(axe, "axe-core (npm ci)")
    site = Site(browser, live_server_process, (axe / "axe.min.js").read_text())
    owner = adult(username="audited")
    try:
        refused, _ = axe_page(site, client, owner, permissions=[])
        wait_for_dataset(refused, GO_LIVE, "devices", "devices-error", timeout=20)
        site.audit(refused, "go live, camera refused")
        studio, errors = axe_page(site, client, owner, permissions=MEDIA)
        wait_for_dataset(studio, GO_LIVE, "devices", "ready", timeout=20)
        site.audit(studio, "go live, the form")
        studio.fill("#id_title", "Audited live")
        studio.click("[data-go-button]")
        wait_for_dataset(studio, GO_LIVE, "connection", "live", timeout=30)
        site.audit(studio, "go live, live")
        studio.click("[data-end-button]")
        studio.locator("[data-end-dialog]").wait_for()
        site.audit(studio, "go live, asked to confirm the end")
        studio.click("[data-end-confirm]")
        wait_for_dataset(studio, GO_LIVE, "summary", "ready", timeout=15)
        site.audit(studio, "go live, the summary")
        assert errors == []
    finally:
        site.close()
    verdict(site, "go-live-states")


def axe_page(site, client, user, *, permissions):
    client.force_login(user)
    context = site.browser.new_context(viewport=DESKTOP, locale="en", permissions=permissions)
    site.contexts.append(context)
    context.add_init_script(script=site.axe)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": site.server.url}]
    )
    page = context.new_page()
    errors = collect_errors(page)
    page.goto(f"{site.server.url}/live/")
    return page, errors
