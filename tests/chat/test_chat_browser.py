"""The chat panel in real Chromium: send, receive, delete as a moderator, see a
rate-limit message; hostile messages render as inert text. Screenshots in test-output/."""

import pytest
from playwright.sync_api import expect

from chat import services
from tests.chat.support import chatter, live_broadcast, session_cookie
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def signed_in_page(browser, server, user, device):
    context = browser.new_context(viewport=VIEWPORTS[device], locale="en")
    if user is not None:
        cookie = session_cookie(user).split("=", 1)[1]
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": server.url}])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
    return page


def open_chat(page, server, broadcast):
    page.goto(f"{server.url}/b/{broadcast.slug}/chat/")
    page.wait_for_selector(".chat-panel[data-connection=open]")


def say(page, text):
    page.fill("[data-chat-input]", text)
    page.press("[data-chat-input]", "Enter")
    expect(page.locator("[data-chat-input]")).to_have_value("")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_chat_ui_send_receive_delete_and_rate_limit(
    browser, live_server_process, screenshot_dir, device
):
    broadcast = live_broadcast(title="Cooking live")
    viewer = chatter(display_name="Vera Viewer")
    moderator = chatter(display_name="Max Moderator")
    services.add_moderator(broadcast=broadcast, user=moderator, by=broadcast.owner)
    owner_page = signed_in_page(browser, live_server_process, broadcast.owner, device)
    mod_page = signed_in_page(browser, live_server_process, moderator, device)
    viewer_page = signed_in_page(browser, live_server_process, viewer, device)
    try:
        open_chat(owner_page, live_server_process, broadcast)
        open_chat(viewer_page, live_server_process, broadcast)
        say(owner_page, "Welcome! Recipe at https://example.com/recipe.")
        say(viewer_page, "Hello from the viewer")
        owner_page.wait_for_selector(".chat-message:has-text('Hello from the viewer')")
        viewer_page.wait_for_selector(".chat-message:has-text('Welcome!')")
        link = viewer_page.locator(".chat-message a").first
        assert link.get_attribute("href") == "https://example.com/recipe"
        assert link.get_attribute("rel") == "nofollow noopener ugc"
        # The viewer has no moderation buttons; the broadcaster does.
        assert viewer_page.locator(".chat-action").count() == 0
        assert viewer_page.locator("[data-chat-mod]").is_hidden()
        owner_page.locator("[data-chat-mod] summary").click()
        open_chat(mod_page, live_server_process, broadcast)
        wait_for(
            lambda: owner_page.inner_text("[data-chat-presence]") == "3 in chat",
            what="presence",
        )
        owner_page.screenshot(path=str(screenshot_dir / f"chat-owner-{device}.png"))

        # An appointed moderator deletes the viewer's message; it goes for everyone.
        assert mod_page.locator("[data-chat-owner-tools]").is_hidden()
        mod_page.locator(
            ".chat-message:has-text('Hello from the viewer') .chat-action-delete"
        ).click()
        owner_page.wait_for_selector(".chat-deleted:has-text('Message deleted')")
        viewer_page.wait_for_selector(".chat-deleted:has-text('Message deleted')")
        assert "Hello from the viewer" not in viewer_page.inner_text("[data-chat-log]")

        for n in range(19):
            say(viewer_page, f"quick {n}")
        viewer_page.fill("[data-chat-input]", "one too many")
        viewer_page.press("[data-chat-input]", "Enter")
        viewer_page.wait_for_selector("[data-chat-notice][data-code=rate_limited]")
        notice = viewer_page.inner_text("[data-chat-notice]")
        assert "too fast" in notice and "Try again in" in notice
        viewer_page.screenshot(path=str(screenshot_dir / f"chat-viewer-{device}.png"))
        overflow = viewer_page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        assert owner_page.errors == [] and viewer_page.errors == [] and mod_page.errors == []
    finally:
        for page in (owner_page, mod_page, viewer_page):
            page.context.close()


HOSTILE = [
    "<script>window.__pwned = 'script'</script>",
    "<img src=x onerror=\"window.__pwned='img'\">",
    "<a href=\"javascript:window.__pwned='link'\">click</a>",
    "javascript:window.__pwned='bare'",
    "<svg onload=\"window.__pwned='svg'\"></svg>",
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>",
    "\u202eevil.exe\u202c ok",
    "fake link http://example.com/\"onmouseover=\"window.__pwned='attr' x",
    "data:text/html,<script>window.__pwned='data'</script>",
]


def test_hostile_messages_render_as_inert_text_in_chromium(
    browser, live_server_process, screenshot_dir
):
    broadcast = live_broadcast()
    attacker = chatter()
    for text in HOSTILE[:5]:
        services.post_message(broadcast=broadcast, user=attacker, text=text)
    page = signed_in_page(browser, live_server_process, attacker, "desktop")
    try:
        open_chat(page, live_server_process, broadcast)
        for text in HOSTILE[5:]:
            say(page, text)
        expect(page.locator(".chat-message")).to_have_count(len(HOSTILE))
        page.locator(".chat-message").first.hover()
        for item in page.locator(".chat-message").all():
            item.hover()
        assert page.evaluate("window.__pwned") is None
        log = "[data-chat-log]"
        assert page.locator(f"{log} script, {log} img, {log} svg, {log} iframe").count() == 0
        hrefs = page.eval_on_selector_all(f"{log} a", "els => els.map(a => a.href)")
        assert hrefs == ["http://example.com/"]
        assert page.eval_on_selector_all(f"{log} a", "els => els.map(a => a.rel)") == [
            "nofollow noopener ugc"
        ]
        text = page.inner_text(log)
        assert "<script>window.__pwned = 'script'</script>" in text
        assert "\u202e" not in text and "evil.exe ok" in text
        page.screenshot(path=str(screenshot_dir / "chat-hostile-desktop.png"))
        assert page.errors == []
    finally:
        page.context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_chat_panel_beside_the_video_on_the_watch_page(
    browser, live_server_process, screenshot_dir, device
):
    broadcast = live_broadcast(title="Garden tour")
    services.post_message(broadcast=broadcast, user=broadcast.owner, text="Welcome to the garden")
    page = signed_in_page(browser, live_server_process, chatter(), device)
    try:
        page.goto(f"{live_server_process.url}/b/{broadcast.slug}/")
        page.wait_for_selector(".chat-panel[data-connection=open]")
        page.wait_for_selector(".chat-message:has-text('Welcome to the garden')")
        say(page, "Lovely roses")
        page.wait_for_selector(".chat-message:has-text('Lovely roses')")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=str(screenshot_dir / f"chat-watch-{device}.png"), full_page=True)
    finally:
        page.context.close()
