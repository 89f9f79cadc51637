"""What the watch page tests read from a page: where the player's controls sit, what the
player and the chat say, signed-in viewers at phone and desktop sizes."""

import json

from tests.chat.support import session_cookie
from tests.media.browser import collect_errors
from tests.support import wait_for

VIEWPORTS = {
    "1280x800": {"viewport": {"width": 1280, "height": 800}},
    "390x844": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "360x740": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}

# The player, the picture inside it (the video is letterboxed with object-fit: contain),
# and the boxes of its controls, in CSS pixels of the viewport.
LAYOUT_JS = """() => {
  const root = document.querySelector('[data-player]');
  const video = root.querySelector('video');
  const box = (el) => {
    if (!el || el.offsetParent === null) return null;
    const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  };
  const player = box(root);
  const width = player.right - player.left, height = player.bottom - player.top;
  const scale = Math.min(width / video.videoWidth, height / video.videoHeight);
  const pw = video.videoWidth * scale, ph = video.videoHeight * scale;
  const left = player.left + (width - pw) / 2, top = player.top + (height - ph) / 2;
  return {
    player,
    picture: {left, top, right: left + pw, bottom: top + ph},
    fullscreen: box(root.querySelector('[data-player-fullscreen]')),
    unmute: box(root.querySelector('[data-player-unmute]')),
    play: box(root.querySelector('[data-player-play]')),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}"""

PAGE_STATE_JS = """() => {
  const root = document.querySelector('[data-player]');
  const chat = document.querySelector('[data-chat]');
  const shown = (el) => Boolean(el) && el.offsetParent !== null;
  const closed = chat.querySelector('[data-chat-closed]');
  return {
    state: root.dataset.playerState,
    status: root.querySelector('[data-player-status]').textContent.trim(),
    statusShown: shown(root.querySelector('[data-player-status]')),
    controls: [...root.querySelectorAll('button')].filter(shown).length,
    viewers: document.querySelector('[data-player-viewers]').textContent,
    meta: document.querySelector('.watch-meta .card-meta').innerText.trim(),
    presence: chat.querySelector('[data-chat-presence]').textContent,
    chatClosed: shown(closed) ? closed.textContent.trim() : null,
    composer: [...chat.querySelectorAll('[data-chat-form] input, [data-chat-form] button')]
      .map((el) => el.disabled),
    announced: [...chat.querySelectorAll('[data-chat-announce] > *')].map((el) => el.textContent),
    signIn: shown(chat.querySelector('.chat-signin')),
  };
}"""


def layout(page):
    return page.evaluate(LAYOUT_JS)


def page_state(page):
    return page.evaluate(PAGE_STATE_JS)


def inside(inner, outer, slack=0.5):
    return (
        inner["left"] >= outer["left"] - slack
        and inner["top"] >= outer["top"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def middle_half(rect):
    """The middle half of a rectangle in each direction: where the action usually is."""
    width, height = rect["right"] - rect["left"], rect["bottom"] - rect["top"]
    return {
        "left": rect["left"] + width / 4,
        "right": rect["right"] - width / 4,
        "top": rect["top"] + height / 4,
        "bottom": rect["bottom"] - height / 4,
    }


def overlaps(a, b):
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def open_watch_page(browser, server, slug, size, user=None):
    """A page of `slug` in a context of its own, signed in as `user` (else anonymous),
    once its chat is connected. Returns the context, the page, the errors it logs and the
    chat frames it receives (parsed JSON, a live list)."""
    context = browser.new_context(locale="en", **VIEWPORTS[size])
    if user is not None:
        cookie = session_cookie(user).split("=", 1)[1]
        context.add_cookies([{"name": "sessionid", "value": cookie, "url": server.url}])
    page = context.new_page()
    errors = collect_errors(page)
    frames = []

    def on_socket(ws):
        if "/chat/" in ws.url:
            ws.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    page.goto(f"{server.url}/b/{slug}/")
    page.wait_for_selector(".chat-panel[data-connection=open]")
    return context, page, errors, frames


def say(page, text):
    page.fill("[data-chat-input]", text)
    page.press("[data-chat-input]", "Enter")
    wait_for(lambda: page.input_value("[data-chat-input]") == "", timeout=15, what="the send ack")
