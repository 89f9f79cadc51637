"""The watch page from the keyboard alone, in Chromium against a live broadcast: Tab
reaches the player's play/pause, unmute and fullscreen, the chat's composer and send, a
message's report button and a moderator's tools; Enter and Space work them; the focus
ring shows, whole, inside the player."""

import pytest

from broadcast.models import Broadcast
from chat import services as chat_services
from tests.chat.support import chatter
from tests.media.browser import go_live, wait_for_player_state, wait_until_playing
from tests.media.conftest import adult
from tests.media.watch_page import open_watch_page
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What has the keyboard focus, by its role on the page.
FOCUSED_JS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const roles = {
    play: '[data-player-play]', unmute: '[data-player-unmute]',
    fullscreen: '[data-player-fullscreen]', composer: '[data-chat-input]',
    send: '[data-chat-send]', report: '.chat-report', delete: '.chat-action-delete',
    moderation: '[data-chat-mod] summary', slow: '[data-chat-slow]',
  };
  for (const [role, selector] of Object.entries(roles)) if (el.matches(selector)) return role;
  return el.tagName.toLowerCase();
}"""

# The focus ring of the focused control: drawn, and not clipped by the player's edges.
RING_JS = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const p = document.querySelector('[data-player]').getBoundingClientRect();
  const ring = parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset);
  return {
    focusVisible: el.matches(':focus-visible'),
    style: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    inside: r.left - ring >= p.left && r.right + ring <= p.right
      && r.top - ring >= p.top && r.bottom + ring <= p.bottom,
  };
}"""

VIDEO_JS = """() => {
  const root = document.querySelector('[data-player]');
  const video = root.querySelector('video');
  return {
    paused: video.paused, muted: video.muted, state: root.dataset.playerState,
    playLabel: root.querySelector('[data-player-play]').getAttribute('aria-label'),
    fullscreenLabel: root.querySelector('[data-player-fullscreen]').getAttribute('aria-label'),
    fullscreen: document.fullscreenElement === root,
  };
}"""


def focused(page):
    return page.evaluate(FOCUSED_JS)


def tab_to(page, role, limit=80):
    """Press Tab until `role` has the focus; the roles passed on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(focused(page))
        if seen[-1] == role:
            return seen
    raise AssertionError(f"Tab never reached {role}; it went through {seen}")


def video(page):
    return page.evaluate(VIDEO_JS)


def wait_video(page, condition, what):
    """Waits for a condition on the player, saying where it stood if it never came."""
    try:
        return wait_for(lambda: condition(video(page)), timeout=15, what=what)
    except AssertionError as failure:
        raise AssertionError(f"{failure}; the player: {video(page)}") from None


def check_ring(page, role):
    ring = page.evaluate(RING_JS)
    assert ring["focusVisible"] and ring["style"] != "none" and ring["width"] >= 2, (role, ring)
    assert ring["inside"], (role, ring)


def test_player_and_chat_work_from_the_keyboard(browser, live_server_process, client):
    server = live_server_process
    owner = adult(username="keys", handle="keys")
    contexts = []
    try:
        studio_context, _studio, slug, studio_errors = go_live(
            browser, server, client, owner, title="Keyboard only"
        )
        contexts.append(studio_context)
        broadcast = Broadcast.objects.get(slug=slug)
        someone = chatter(display_name="Sam Someone")
        for text in ("Hi all", "Lovely light"):
            chat_services.post_message(broadcast=broadcast, user=someone, text=text)
        moderator = chatter(display_name="Mo Mod")
        chat_services.add_moderator(broadcast=broadcast, user=moderator, by=owner)
        context, page, errors, _ = open_watch_page(browser, server, slug, "1280x800", moderator)
        contexts.append(context)
        page.wait_for_selector(".chat-message:has-text('Hi all') .chat-action-delete")
        wait_until_playing(page)
        page.wait_for_selector("[data-player-unmute]:visible")
        path = []

        # Play/pause, the first stop: Space pauses, Enter plays again, from the live edge.
        path += tab_to(page, "play")
        check_ring(page, "play")
        page.keyboard.press("Space")
        wait_video(page, lambda v: v["paused"] and v["state"] == "paused", "pause")
        assert video(page)["playLabel"] == "Play"
        page.keyboard.press("Enter")
        wait_for_player_state(page, "live")
        wait_until_playing(page)
        assert video(page)["playLabel"] == "Pause" and focused(page) == "play"

        # Unmute: Enter turns the sound on; the button goes and the focus stays in the bar.
        page.wait_for_selector("[data-player-unmute]:visible")
        path += tab_to(page, "unmute")
        check_ring(page, "unmute")
        page.keyboard.press("Enter")
        wait_video(page, lambda v: not v["muted"], "sound on")
        assert page.is_hidden("[data-player-unmute]")
        assert focused(page) == "play"

        # Fullscreen: Enter goes in, Enter again comes out (the button keeps the focus).
        path += tab_to(page, "fullscreen")
        check_ring(page, "fullscreen")
        page.keyboard.press("Enter")
        wait_video(
            page,
            lambda v: v["fullscreen"] and v["fullscreenLabel"] == "Exit fullscreen",
            "fullscreen",
        )
        page.keyboard.press("Enter")
        wait_video(
            page,
            lambda v: not v["fullscreen"] and v["fullscreenLabel"] == "Fullscreen",
            "fullscreen to end",
        )

        # The chat: a message's report button opens the dialog, Escape closes it and
        # gives the focus back; type and send with Enter; the moderation panel opens.
        path += tab_to(page, "report")
        page.keyboard.press("Enter")
        page.wait_for_selector("dialog[open]")
        page.keyboard.press("Escape")
        page.wait_for_selector("dialog[open]", state="detached")
        assert focused(page) == "report"
        path += tab_to(page, "composer")
        page.keyboard.type("Typed with the keyboard")
        page.keyboard.press("Enter")
        page.wait_for_selector(".chat-message:has-text('Typed with the keyboard')")
        path += tab_to(page, "send")
        path += tab_to(page, "moderation")
        page.keyboard.press("Enter")
        wait_for(lambda: page.evaluate("() => document.querySelector('[data-chat-mod]').open"))
        path += tab_to(page, "slow", limit=1)
        assert "delete" in path, path

        # A moderator's delete, by keyboard.
        page.locator(".chat-message:has-text('Hi all') .chat-action-delete").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector(".chat-deleted:has-text('Message deleted')")
        assert errors == [] and studio_errors == []
    finally:
        for context in contexts:
            context.close()
