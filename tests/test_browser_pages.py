"""The home page in real headless Chromium, in English and French, desktop and phone."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
EXPECTED = {"en": "Nobody is live right now", "fr": "Personne n’est en direct"}


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_home_page_in_chromium(browser, live_server_process, screenshot_dir, language, device):
    context = browser.new_context(viewport=VIEWPORTS[device], locale=language)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    try:
        page.goto(f"{live_server_process.url}/", wait_until="networkidle")
        assert page.locator("html").get_attribute("lang") == language
        assert EXPECTED[language] in page.inner_text("main")
        # The layout holds at this width: nothing spills sideways.
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        # The stylesheet really loaded (the header is dark, not the browser default).
        header_bg = page.eval_on_selector(
            ".site-header", "el => getComputedStyle(el).backgroundColor"
        )
        assert header_bg == "rgb(15, 20, 25)"
        page.screenshot(path=str(screenshot_dir / f"home-{language}-{device}.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def test_language_switcher_changes_language_in_the_browser(browser, live_server_process):
    context = browser.new_context(locale="en")
    page = context.new_page()
    try:
        page.goto(f"{live_server_process.url}/")
        page.select_option("#lang-select", "fr")
        page.wait_for_function("document.documentElement.lang === 'fr'", timeout=15000)
        assert EXPECTED["fr"] in page.inner_text("main")
    finally:
        context.close()
