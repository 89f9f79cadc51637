"""The watch page in Chromium against a live broadcast from the fake camera, at a desktop
and two phone sizes: the player's controls fit inside it and keep clear of the middle of
the picture, new chat messages are announced to screen readers, and when the broadcaster
ends it every viewer gets a clean ended state (no count, no controls, the chat closed
with a reason); a page opened after the end is just as clean. Screenshots in
test-output/watch-*.png."""

import pytest

from tests.chat.support import chatter
from tests.media.browser import go_live, wait_for_player_state, wait_until_playing
from tests.media.conftest import adult
from tests.media.watch_page import (
    VIEWPORTS,
    inside,
    layout,
    middle_half,
    open_watch_page,
    overlaps,
    page_state,
    say,
)
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENDED = "This broadcast has ended."
CHAT_CLOSED = "The broadcast has ended, so the chat is closed."
# The broadcaster's own request to end it (what the go-live page's End button sends).
END_JS = """async (url) => {
  const token = document.querySelector('[name=csrfmiddlewaretoken]').value;
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin', headers: {'X-CSRFToken': token},
  });
  return response.status;
}"""


def head_count_came(page, frames):
    page.evaluate("() => 0")  # lets Playwright deliver the socket events it holds
    return any(frame["type"] == "presence" and frame["count"] for frame in frames)


def check_controls_fit(page, size):
    """Fullscreen wholly inside the player, unmute clear of the picture's middle half,
    nothing wider than the screen."""
    box = layout(page)
    assert box["fullscreen"] and inside(box["fullscreen"], box["player"]), (size, box)
    assert box["unmute"] and inside(box["unmute"], box["player"]), (size, box)
    assert not overlaps(box["unmute"], middle_half(box["picture"])), (size, box)
    assert box["play"] and not overlaps(box["play"], middle_half(box["picture"])), (size, box)
    assert box["overflow"] <= 0, (size, box)


def check_clean_end(page, size, signed_in=True):
    state = page_state(page)
    assert state["state"] == "ended" and state["status"] == ENDED, (size, state)
    assert state["statusShown"] and state["controls"] == 0, (size, state)
    assert state["viewers"] == "" and "watching" not in state["meta"], (size, state)
    assert not state["meta"].endswith("·"), (size, state)
    assert state["presence"] == "", (size, state)
    assert state["chatClosed"] == CHAT_CLOSED, (size, state)
    if signed_in:
        assert state["composer"] and all(state["composer"]), (size, state)
    else:
        assert state["composer"] == [] and not state["signIn"], (size, state)
    assert layout(page)["overflow"] <= 0, size


def test_live_then_ended_at_phone_and_desktop_sizes(
    browser, live_server_process, client, screenshot_dir
):
    server = live_server_process
    owner = adult(username="ender", handle="ender", display_name="Erin Ender")
    contexts = []
    try:
        studio_context, studio, slug, studio_errors = go_live(
            browser, server, client, owner, title="Evening walk"
        )
        contexts.append(studio_context)
        viewers = {}
        for size in VIEWPORTS:
            user = chatter(display_name=f"Viewer {size}")
            context, page, errors, _ = open_watch_page(browser, server, slug, size, user)
            contexts.append(context)
            viewers[size] = (page, errors)
            wait_until_playing(page)

        # Watching, muted: the controls fit; the count and the chat head count show.
        for size, (page, _) in viewers.items():
            wait_for(lambda p=page: p.is_visible("[data-player-unmute]"), what="unmute")
            wait_for(
                lambda p=page: (
                    page_state(p)["viewers"].endswith("watching")
                    and page_state(p)["presence"].endswith("in chat")
                ),
                timeout=20,
                what="viewer and chat counts",
            )
            check_controls_fit(page, size)
            page.screenshot(path=str(screenshot_dir / f"watch-live-muted-{size}.png"))

        # A chat message is announced, politely and once, on the other pages; the log
        # itself is not a live region, and one's own message is not read back.
        first, phone = viewers["1280x800"][0], viewers["390x844"][0]
        assert first.get_attribute("[data-chat-log]", "aria-live") is None
        assert first.get_attribute("[data-chat-announce]", "aria-live") == "polite"
        say(phone, "Hello from the phone")
        say(first, "Nice sunset")
        wait_for(
            lambda: page_state(first)["announced"] == ["Viewer 390x844: Hello from the phone"],
            timeout=15,
            what="the phone's message announced on the desktop",
        )
        wait_for(
            lambda: page_state(phone)["announced"] == ["Viewer 1280x800: Nice sunset"],
            timeout=15,
            what="the desktop's message announced on the phone",
        )
        for size, (page, _) in viewers.items():
            page.wait_for_selector(".chat-message:has-text('Nice sunset')")
            page.screenshot(path=str(screenshot_dir / f"watch-chat-{size}.png"), full_page=True)

        # Unmuted: the button goes.
        for size, (page, _) in viewers.items():
            page.click("[data-player-unmute]")
            wait_for(
                lambda p=page: (
                    p.evaluate("() => !document.querySelector('video').muted")
                    and p.is_hidden("[data-player-unmute]")
                ),
                what="sound on",
            )
            assert layout(page)["overflow"] <= 0
            page.screenshot(path=str(screenshot_dir / f"watch-unmuted-{size}.png"))

        # The broadcaster ends it: every viewer gets the clean ended state at once.
        assert studio.evaluate(END_JS, f"/b/{slug}/end") == 200
        for size, (page, _) in viewers.items():
            wait_for_player_state(page, "ended")
            wait_for(lambda p=page: page_state(p)["chatClosed"], what="the chat to close")
            check_clean_end(page, size)
            page.screenshot(path=str(screenshot_dir / f"watch-ended-live-{size}.png"))

        # Opened after the end (signed in, and anonymous on the 390 px phone): clean from
        # the first paint, and a chat head count that arrives later (the other viewers
        # are still on the page) is not shown.
        for size in VIEWPORTS:
            user = None if size == "390x844" else chatter(display_name=f"Late {size}")
            context, page, errors, frames = open_watch_page(browser, server, slug, size, user)
            contexts.append(context)
            wait_for(
                lambda p=page, f=frames: head_count_came(p, f), timeout=20, what="a chat head count"
            )
            check_clean_end(page, size, signed_in=user is not None)
            page.screenshot(path=str(screenshot_dir / f"watch-opened-after-end-{size}.png"))
            assert errors == [], size
        for size, (_, errors) in viewers.items():
            assert errors == [], size
        assert studio_errors == []
    finally:
        for context in contexts:
            context.close()
