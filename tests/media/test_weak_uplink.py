"""A broadcaster on a weak uplink: when the socket's bufferedAmount grows, the page lowers
the bitrate (restarting the recorder on the same socket), says so, and past a bound skips
ahead to a fresh keyframe; viewers play on through each restart.

Chromium's network throttling leaves WebSockets alone and the kernel's socket buffers
swallow megabytes on loopback, so the backlog the page sees is set by the test: the
bufferedAmount getter reads window.__backlog."""

import pytest

from tests.media.browser import go_live, open_viewer, playback, wait_until_playing
from tests.media.conftest import adult
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLISHER = "document.querySelector('[data-go-live]').publisher"
FAKE_BACKLOG = """
Object.defineProperty(WebSocket.prototype, "bufferedAmount", {
  configurable: true,
  get() { return window.__backlog || 0; },
});
"""
# Bytes per second at the first two rungs of publisher.js's ladder (video + audio).
RUNG_0 = (1_200_000 + 48_000) / 8
RUNG_1 = (700_000 + 48_000) / 8


def test_weak_uplink_lowers_the_bitrate_then_skips_ahead_and_viewers_play_on(
    browser, live_server_process, client
):
    server = live_server_process
    owner = adult(username="weak")
    context, viewer_context = None, None
    try:
        context, studio, slug, errors = go_live(browser, server, client, owner)
        # From here on the page reads its backlog from window.__backlog.
        context.add_init_script(FAKE_BACKLOG)
        studio.reload()
        studio.wait_for_selector("[data-take-over]:not([hidden])")
        studio.click("[data-take-over]")
        wait_for(lambda: studio.evaluate(f"{PUBLISHER}.recorder !== null"), what="recording")

        viewer_context, viewer, _ = open_viewer(browser, server, slug)
        wait_until_playing(viewer)
        inits = playback(viewer)["inits"]

        # 1.5 s of media waiting to go out: one rung down, and a warning.
        studio.evaluate(f"window.__backlog = {int(RUNG_0 * 1.5)}")
        wait_for(lambda: studio.evaluate(f"{PUBLISHER}.ladder") == 1, what="a lower bitrate")
        assert "weak" in studio.inner_text("[data-warning]")
        studio.evaluate("window.__backlog = 0")
        wait_for(lambda: playback(viewer)["inits"] > inits, timeout=20, what="restart seen")
        wait_until_playing(viewer)

        # Over 3 s behind: stop sending until the backlog drains, then a fresh keyframe.
        studio.evaluate(f"window.__backlog = {int(RUNG_1 * 4)}")
        wait_for(lambda: studio.evaluate(f"{PUBLISHER}.skipping"), what="skipping")
        assert "skipped" in studio.inner_text("[data-warning]")
        sent = studio.evaluate(f"{PUBLISHER}.sentBytes")
        studio.wait_for_timeout(1000)
        assert studio.evaluate(f"{PUBLISHER}.sentBytes") == sent, "nothing sent while behind"
        inits = playback(viewer)["inits"]
        studio.evaluate("window.__backlog = 0")
        wait_for(lambda: not studio.evaluate(f"{PUBLISHER}.skipping"), what="caught up")
        wait_for(lambda: playback(viewer)["inits"] > inits, timeout=20, what="fresh stream")
        wait_until_playing(viewer)
        assert errors == []
    finally:
        if viewer_context:
            viewer_context.close()
        if context:
            context.close()
