"""Going live from Chromium's fake camera and watching in other Chromium pages, through a
real Daphne process: the whole media path, as a broadcaster and viewers see it."""

import json
import urllib.request

import pytest

from broadcast.models import Broadcast
from tests.media.browser import (
    go_live,
    open_viewer,
    playback,
    wait_for_player_state,
    wait_until_playing,
)
from tests.media.conftest import adult
from tests.support import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def api_state(server, slug):
    with urllib.request.urlopen(f"{server.url}/api/broadcasts/{slug}", timeout=10) as response:
        return json.load(response)


def test_viewers_watch_live_across_a_broadcaster_reconnect_until_the_owner_ends_it(
    browser, live_server_process, client
):
    server = live_server_process
    owner = adult(username="streamer", handle="streamer")
    contexts = []
    try:
        context, studio, slug, studio_errors = go_live(browser, server, client, owner)
        contexts.append(context)
        assert Broadcast.objects.get(slug=slug).state == Broadcast.State.LIVE

        # An early viewer, anonymous, plays within seconds.
        context, early, early_errors = open_viewer(browser, server, slug)
        contexts.append(context)
        wait_until_playing(early)
        assert playback(early)["state"] == "live"

        # A viewer joining 5 s later starts from the latest keyframe and plays too.
        early.wait_for_timeout(5000)
        context, late, late_errors = open_viewer(browser, server, slug)
        contexts.append(context)
        wait_until_playing(late)

        wait_for(
            lambda: api_state(server, slug)["viewers"] == 2, timeout=15, what="2 viewers counted"
        )
        state = api_state(server, slug)
        assert state["state"] == "live"
        assert state["broadcaster"]["handle"] == "streamer"
        assert state["title"] == "Hello from the fake camera"

        # Cut the broadcaster's socket: it reconnects with a fresh init segment, and
        # both viewers carry on in the same page (no reload).
        for viewer in (early, late):
            viewer.evaluate("window.__sameDocument = true")
        studio.evaluate("document.querySelector('[data-go-live]').publisher.ws.close()")
        for viewer in (early, late):
            wait_for(lambda v=viewer: playback(v)["inits"] >= 2, timeout=30, what="new init")
        for viewer in (early, late):
            wait_until_playing(viewer)
            assert viewer.evaluate("window.__sameDocument") is True
        assert studio.eval_on_selector("[data-go-live]", "el => el.dataset.connection") == "live"

        # The owner ends it (and confirms): both viewers say so.
        studio.click("[data-end-button]")
        studio.click("[data-end-confirm]")
        for viewer in (early, late):
            wait_for_player_state(viewer, "ended")
            assert "ended" in playback(viewer)["status"]
        broadcast = Broadcast.objects.get(slug=slug)
        assert broadcast.state == Broadcast.State.ENDED
        assert broadcast.end_reason == "owner"
        assert broadcast.ended_at is not None
        assert broadcast.peak_viewers >= 2
        assert api_state(server, slug)["state"] == "ended"
        assert studio_errors == early_errors == late_errors == []
    finally:
        for context in contexts:
            context.close()
