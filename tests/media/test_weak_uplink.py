"""A broadcaster on a weak uplink: when its backlog grows, the page lowers the bitrate
(restarting the recorder on the same socket), says so, and past a bound skips ahead to a
fresh keyframe; viewers play on through each restart.

The first test drives the ladder step by step with a backlog set by the test (the
bufferedAmount getter reads window.__backlog); the second puts a real throttled link
(tests/media/throttle.py) between the page and the server."""

import pytest

from tests.media.browser import go_live, open_viewer, playback, wait_until_playing
from tests.media.conftest import adult
from tests.media.throttle import ThrottlingProxy
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


BACKLOG_JS = """() => {
  const p = document.querySelector('[data-go-live]').publisher;
  const rates = [1200000, 700000, 400000, 200000];
  const backlog = Math.max(p.ws.bufferedAmount, p.socketSent - p.serverReceived);
  return {
    ladder: p.ladder,
    skipping: p.skipping,
    bytes: backlog,
    seconds: backlog / ((rates[p.ladder] + 48000) / 8),
  };
}"""


def test_a_really_throttled_uplink_is_detected_and_latency_stays_bounded(
    browser, live_server_process, client
):
    """The page goes through a proxy that lets 40 kB/s up (a quarter of the top rung):
    the page must see the backlog (the server's `received` reports, since Chromium's
    bufferedAmount stays at zero while megabytes sit in its buffers), step down, skip
    ahead when behind, and settle on a rung the link carries; viewers play on."""
    server = live_server_process
    proxy = ThrottlingProxy(server.port)
    owner = adult(username="throttled")
    context, viewer_context = None, None
    samples = []

    def uplink(studio):
        sample = studio.evaluate(BACKLOG_JS)
        samples.append(sample)
        return sample

    try:
        context, studio, slug, errors = go_live(browser, proxy, client, owner)
        viewer_context, viewer, _ = open_viewer(browser, server, slug)
        wait_until_playing(viewer)

        proxy.rate = 40_000
        wait_for(lambda: uplink(studio)["ladder"] >= 1, timeout=30, what="a lower bitrate")
        assert "weak" in studio.inner_text("[data-warning]")
        wait_for(lambda: uplink(studio)["skipping"], timeout=40, what="skipping ahead")
        # It settles where the link keeps up (the lowest rung, 31 kB/s) with little backlog.
        wait_for(
            lambda: (s := uplink(studio))["ladder"] == 3 and not s["skipping"] and s["seconds"] < 1,
            timeout=90,
            interval=0.5,
            what="a rung the link carries",
        )
        wait_until_playing(viewer)
        # Latency never grew without bound: the backlog stayed under the skip bound (3 s of
        # the top rung) plus what one more check interval can add.
        assert max(s["bytes"] for s in samples) < 3.5 * RUNG_0
        assert errors == []
    finally:
        proxy.stop()
        if viewer_context:
            viewer_context.close()
        if context:
            context.close()
