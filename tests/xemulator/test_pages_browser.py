"""The emulator's pages in headless Chromium: the consent page (a full sign-in through
it) and a user's timeline, on desktop and phone."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.xemulator.conftest import REDIRECT_URI, TokenEndpoint, authorize_params, pkce_pair

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def open_page(browser, device):
    context = browser.new_context(viewport=VIEWPORTS[device])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    return context, page, errors


def assert_fits(page):
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_sign_in_through_the_consent_page_in_chromium(browser, emulator, control):
    control.create_user("existing", name="Existing Tester")
    verifier, challenge = pkce_pair()
    context, page, errors = open_page(browser, "desktop")
    # The app's callback: answer it in the browser and keep the URL it was sent to.
    landed = []
    page.route(
        f"{REDIRECT_URI}**",
        lambda route: (landed.append(route.request.url), route.fulfill(body="ok"))[1],
    )
    try:
        query = "&".join(
            f"{k}={v}" for k, v in authorize_params(challenge, state="browser").items()
        ).replace(" ", "%20")
        page.goto(f"{emulator.url}/i/oauth2/authorize?{query}")
        assert "wants to access your X account" in page.inner_text("main")
        page.fill("#id_username", "webcam_fan")
        page.fill("#id_name", "Webcam Fan")
        page.click("#approve")
        page.wait_for_url(f"{REDIRECT_URI}**")
        params = parse_qs(urlsplit(landed[-1]).query)
        assert params["state"] == ["browser"]
        token = TokenEndpoint(emulator.url).exchange(params["code"][0], verifier)
        assert token.status_code == 200
        assert errors == []
    finally:
        context.close()


def test_deny_in_chromium_goes_back_with_access_denied(browser, emulator, control):
    _, challenge = pkce_pair()
    context, page, _errors = open_page(browser, "phone")
    landed = []
    page.route(
        f"{REDIRECT_URI}**",
        lambda route: (landed.append(route.request.url), route.fulfill(body="ok"))[1],
    )
    try:
        query = "&".join(f"{k}={v}" for k, v in authorize_params(challenge).items())
        page.goto(f"{emulator.url}/i/oauth2/authorize?{query.replace(' ', '%20')}")
        page.click("#deny")
        page.wait_for_url(f"{REDIRECT_URI}**")
        assert parse_qs(urlsplit(landed[-1]).query)["error"] == ["access_denied"]
    finally:
        context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_consent_page_screenshot(browser, emulator, control, screenshot_dir, device):
    control.create_user("night_owl", name="Night Owl")
    control.create_user("sunny_day", name="Sunny Day")
    _, challenge = pkce_pair()
    context, page, errors = open_page(browser, device)
    try:
        query = "&".join(f"{k}={v}" for k, v in authorize_params(challenge).items())
        page.goto(
            f"{emulator.url}/i/oauth2/authorize?{query.replace(' ', '%20')}",
            wait_until="networkidle",
        )
        assert page.locator(".xemu-user-pick").count() == 2
        assert_fits(page)
        page.screenshot(
            path=str(screenshot_dir / f"xemulator-consent-{device}.png"), full_page=True
        )
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_timeline_page_shows_posts_newest_first(
    browser, emulator, control, user, token, xapi, screenshot_dir, device
):
    xapi.post(token, "Going live in 5 minutes!")
    gone = xapi.post(token, "oops, wrong link").json()["data"]["id"]
    xapi.delete(token, gone)
    xapi.post(token, "I'm live on OnAir: http://127.0.0.1:8000/b/k3Xa9pQ2/ <b>not bold</b>")
    context, page, errors = open_page(browser, device)
    try:
        page.goto(f"{emulator.url}/", wait_until="networkidle")
        assert "@alice" in page.inner_text("main")
        assert "2 posts" in page.inner_text("main")
        page.screenshot(path=str(screenshot_dir / f"xemulator-users-{device}.png"), full_page=True)
        page.click("text=Alice")
        page.wait_for_url(f"{emulator.url}/alice")
        texts = page.locator(".xemu-post-text").all_inner_texts()
        assert texts[0].startswith("I'm live on OnAir")
        assert "<b>not bold</b>" in texts[0]  # escaped, not rendered
        assert page.locator(".xemu-post-deleted").count() == 1
        assert_fits(page)
        page.screenshot(
            path=str(screenshot_dir / f"xemulator-timeline-{device}.png"), full_page=True
        )
        assert errors == []
    finally:
        context.close()
