"""Browser steps shared by the media tests: go live, watch, read the player's state."""

from playwright.sync_api import Error as PlaywrightError

from tests.media.conftest import signed_in_context
from tests.support import wait_for

GO_LIVE = "[data-go-live]"
PLAYER = "[data-player]"

PLAYBACK_JS = """() => {
  const root = document.querySelector('[data-player]');
  const video = root.querySelector('video');
  const quality = video.getVideoPlaybackQuality();
  return {
    frames: quality.totalVideoFrames,
    time: video.currentTime,
    state: root.dataset.playerState,
    inits: root.livePlayer ? root.livePlayer.stats.inits : 0,
    muted: video.muted,
    status: root.querySelector('[data-player-status]').textContent,
  };
}"""


def collect_errors(page):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    return errors


def go_live(browser, server, client, user, *, title="Hello from the fake camera", **options):
    context = signed_in_context(browser, server, client, user, **options)
    page = context.new_page()
    errors = collect_errors(page)
    page.goto(f"{server.url}/live/")
    wait_for_dataset(page, GO_LIVE, "devices", "ready", timeout=20)
    page.fill("#id_title", title)
    page.click("[data-go-button]")
    wait_for_dataset(page, GO_LIVE, "connection", "live", timeout=30)
    slug = page.eval_on_selector(GO_LIVE, "el => el.dataset.slug")
    return context, page, slug, errors


def open_viewer(browser, server, slug, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    errors = collect_errors(page)
    page.goto(f"{server.url}/b/{slug}/")
    return context, page, errors


def playback(page):
    return page.evaluate(PLAYBACK_JS)


def wait_until_playing(page, *, frames=10, seconds=1.0, timeout=40):
    """Frames decoded and the clock moving: really playing, not a frozen first frame."""
    start = playback(page)

    def advanced():
        now = playback(page)
        moved = now["frames"] >= start["frames"] + frames and now["time"] >= start["time"] + seconds
        return now if moved else None

    return wait_for(advanced, timeout=timeout, interval=0.25, what="the video to play")


def dataset(page, selector, key):
    try:
        return page.eval_on_selector(selector, f"el => el.dataset.{key}")
    except PlaywrightError:
        return None  # navigating (the go-live page reloads as the live broadcast's page)


def wait_for_dataset(page, selector, key, value, timeout=30):
    """Polled from Python: the page's CSP forbids Playwright's string wait_for_function."""
    wait_for(
        lambda: dataset(page, selector, key) == value,
        timeout=timeout,
        interval=0.1,
        what=f"{selector} data-{key} == {value}",
    )


def wait_for_player_state(page, state, timeout=30):
    wait_for_dataset(page, PLAYER, "playerState", state, timeout=timeout)
