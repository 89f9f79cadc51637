"""The watch page's player in Chromium, against a live broadcast from the fake camera:
fullscreen, catching up when it drifts behind the live edge, and jumping a hole in its
buffer (a real gap in the SourceBuffer, cut out while it plays)."""

import pytest

from tests.media.browser import go_live, open_viewer, playback, wait_until_playing
from tests.media.conftest import adult
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDGE_JS = """() => {
  const root = document.querySelector('[data-player]');
  const video = root.querySelector('video');
  const ranges = root.livePlayer.sourceBuffer.buffered;
  return {
    time: video.currentTime,
    lag: ranges.length ? ranges.end(ranges.length - 1) - video.currentTime : null,
    rate: video.playbackRate,
    jumps: root.livePlayer.stats.jumps,
  };
}"""

# Cut out everything buffered ahead of the playhead: MSE drops the frames that depend on
# the cut ones, so the media still arriving is buffered again from the next keyframe
# cluster on, and a hole (up to a second) separates it from where the playhead is. Null
# when the buffer is busy (the caller retries).
CUT_HOLE_JS = """() => {
  const root = document.querySelector('[data-player]');
  const video = root.querySelector('video');
  const sb = root.livePlayer.sourceBuffer;
  const ranges = sb.buffered;
  if (sb.updating || !ranges.length) return null;
  const start = video.currentTime + 0.05;
  const end = ranges.end(ranges.length - 1);
  if (end - start < 0.05) return null;
  sb.remove(start, end + 5);
  return {start, end, jumps: root.livePlayer.stats.jumps, inits: root.livePlayer.stats.inits};
}"""


def edge(page):
    return page.evaluate(EDGE_JS)


def test_player_fullscreen_catch_up_and_hole_jumping(browser, live_server_process, client):
    server = live_server_process
    owner = adult(username="caster", handle="caster")
    contexts = []
    try:
        context, _studio, slug, studio_errors = go_live(browser, server, client, owner)
        contexts.append(context)
        context, viewer, viewer_errors = open_viewer(browser, server, slug)
        contexts.append(context)
        wait_until_playing(viewer)

        # Fullscreen on the player (a real click is the user gesture it needs), and back.
        viewer.click("[data-player-fullscreen]")
        wait_for(
            lambda: viewer.evaluate(
                "() => document.fullscreenElement?.dataset.player !== undefined"
            ),
            timeout=10,
            what="the player to go fullscreen",
        )
        viewer.click("[data-player-fullscreen]")
        wait_for(
            lambda: viewer.evaluate("() => document.fullscreenElement === null"),
            timeout=10,
            what="fullscreen to end",
        )

        # Drifted 1.5 s behind (under the jump threshold, inside the buffer): it plays
        # faster until it is back near the edge, without a jump.
        steady = wait_for(
            lambda: (e := edge(viewer))["time"] > 4 and e["rate"] == 1.0 and e["lag"] < 0.3 and e,
            timeout=30,
            what="steady playback near the edge",
        )
        viewer.evaluate(
            "() => { const v = document.querySelector('video'); v.currentTime -= 1.5; }"
        )
        wait_for(lambda: edge(viewer)["rate"] > 1.1, timeout=10, what="a faster playback rate")
        wait_for(lambda: edge(viewer)["lag"] < 0.5, timeout=40, what="catching up")
        assert edge(viewer)["jumps"] == steady["jumps"]

        # Far behind (5 s): it jumps to the edge at once.
        viewer.evaluate("() => { const v = document.querySelector('video'); v.currentTime -= 5; }")
        wait_for(lambda: edge(viewer)["lag"] < 1.0, timeout=10, what="a jump to the edge")
        assert edge(viewer)["jumps"] > steady["jumps"]

        # A hole in the buffer just ahead: the playhead gets over it and plays on, in the
        # same stream. Chromium crosses a small hole by itself; at a larger one playback
        # stalls and the player jumps to the next range (stats.jumps).
        hole = wait_for(lambda: viewer.evaluate(CUT_HOLE_JS), timeout=10, what="a hole cut")
        wait_for(
            lambda: edge(viewer)["time"] > hole["end"] + 0.1,
            timeout=15,
            what="the playhead to get over the hole",
        )
        wait_until_playing(viewer)
        assert playback(viewer)["inits"] == hole["inits"]  # in the same stream, no rejoin
        assert playback(viewer)["state"] == "live"
        assert studio_errors == viewer_errors == []
    finally:
        for context in contexts:
            context.close()
