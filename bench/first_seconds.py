"""The first seconds of playback on a phone: viewers join a live broadcast one after
another in Chromium (390x844, mobile), each watched for a while with
requestVideoFrameCallback. A freeze is a gap of more than 500 ms between presented frames
while playing: after the first frame, and not while the video is paused.

    .venv/bin/python bench/first_seconds.py [--viewers 20] [--seconds 10] [--hog [CPU]]
        [--timeslice 100] [--warmup 3] [--verbose]

The broadcaster's camera is the clock as a barcode (bench/common.py), so the picture
changes on every frame and a frozen picture cannot pass for a still scene. `--hog` runs a
busy loop beside the bench (pinned to CPU when given). `--verbose` prints, per viewer, the
media element's events and its state every 250 ms (currentTime, readyState, buffered
ranges, playback rate, dropped frames, the player's counters), per freeze what moved
during the gap, Chromium's media log (what chrome://media-internals shows, through the
DevTools protocol), and the block timestamps of the media it received.

Starts its own Daphne on a free port with a temporary var dir (SQLite, in-process hub).
Ends with: first_frame_p95_ms=... freeze_p95_ms=... freeze_max_ms=... freezes_per_min=...
"""

import argparse
import base64
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Daphne,
    blocks_of,
    go_live,
    machine_times,
    percentile,
)
from bench.media_fanout import prepare_site

FREEZE_MS = 500
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3}

# On the viewer, from the first script of the page: every presented frame (wall time,
# media time, the barcode's capture time), the gaps over FREEZE_MS, the element's events,
# and a sample of its state every 250 ms. window.__fsFinish() closes a freeze still
# open and returns it all.
FRAME_WATCH = """
(() => {
  const FREEZE_MS = %(freeze)d;
  const w = (window.__fs = {
    firstFrame: null, frames: 0, longest: 0, freezes: [], events: [], samples: [],
    last: null, pausedInGap: false,
  });
  if (%(capture)s) {
    // --verbose: keep the media bytes as they arrive, for their timestamps.
    w.received = [];
    const Original = window.WebSocket;
    window.WebSocket = class extends Original {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", (event) => {
          if (typeof event.data === "string") return;
          w.received.push([performance.now(), new Uint8Array(event.data)]);
        });
      }
    };
  }
  const canvas = new OffscreenCanvas(640, 360);
  const context = canvas.getContext("2d", {willReadFrequently: true});
  const ranges = (r) =>
    Array.from({length: r.length}, (_, i) => [+r.start(i).toFixed(3), +r.end(i).toFixed(3)]);
  const captured = (video) => {
    // The barcode: Date.now() mod 2^30 when the broadcaster drew this frame.
    context.drawImage(video, 0, 0, 640, 360);
    const row = context.getImageData(0, 40, 640, 1).data;
    const bits = [];
    for (let i = 0; i < 32; i += 1) bits.push(row[(i * 20 + 10) * 4] > 128 ? 1 : 0);
    if (bits[0] !== 1 || bits[31] !== 0) return null;
    let value = 0;
    for (let i = 1; i <= 30; i += 1) value = value * 2 + bits[i];
    return value;
  };
  const state = (video) => {
    const q = video.getVideoPlaybackQuality();
    const player = document.querySelector("[data-player]");
    return {
      t: Math.round(performance.now()), ct: +video.currentTime.toFixed(3), rs: video.readyState,
      paused: video.paused, rate: video.playbackRate, buffered: ranges(video.buffered),
      frames: q.totalVideoFrames, dropped: q.droppedVideoFrames,
      stats: player?.livePlayer ? {...player.livePlayer.stats} : null,
      player: player?.dataset.playerState ?? null,
    };
  };
  const gap = (end, open, frame) => {
    const span = end - w.last.at;
    if (w.firstFrame === null || w.pausedInGap) return;
    w.longest = Math.max(w.longest, span);
    if (span <= FREEZE_MS) return;
    const at = Math.round(w.last.at);
    w.freezes.push({at, ms: Math.round(span), open, before: w.last, after: frame});
  };
  const start = () => {
    const video = document.querySelector("[data-player] video");
    if (!video) return;
    for (const name of ["loadedmetadata", "loadeddata", "canplay", "playing", "waiting",
        "stalled", "pause", "play", "seeking", "seeked", "ratechange", "emptied", "error"]) {
      video.addEventListener(name, () => {
        if (name === "pause") w.pausedInGap = true;
        w.events.push({name, ...state(video)});
      });
    }
    setInterval(() => w.samples.push(state(video)), 250);
    const onFrame = (now, meta) => {
      const frame = {
        at: meta.presentationTime, media: +meta.mediaTime.toFixed(3),
        ct: +video.currentTime.toFixed(3), presented: meta.presentedFrames,
        captured: captured(video), dropped: video.getVideoPlaybackQuality().droppedVideoFrames,
      };
      if (w.firstFrame === null) w.firstFrame = Math.round(meta.presentationTime);
      else gap(meta.presentationTime, false, frame);
      w.frames += 1;
      w.last = frame;
      w.pausedInGap = video.paused;
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    window.__fsFinish = () => {
      const now = performance.now();
      if (w.last && !video.paused) gap(now, true, state(video));
      const result = {...w, end: Math.round(now), finalState: state(video)};
      if (w.received) {
        // Each message: [arrival ms, length]; then all of them as one base64 string.
        result.received = w.received.map(([t, bytes]) => [Math.round(t), bytes.length]);
        let text = "";
        for (const [, bytes] of w.received) {
          for (let i = 0; i < bytes.length; i += 0x8000) {
            text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
          }
        }
        result.bytes = btoa(text);
      }
      return result;
    };
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
"""


def start_hog(cpu):
    """A busy loop in its own process, pinned to `cpu` unless it is None."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    if cpu is not None:
        os.sched_setaffinity(hog.pid, {cpu})
    return hog


def watch_one(browser, url, seconds, *, capture=False):
    """One phone viewer from navigation until `seconds` later: what FRAME_WATCH saw
    (with `capture`, also the media bytes it received)."""
    context = browser.new_context(**PHONE, is_mobile=True, has_touch=True)
    try:
        script = FRAME_WATCH % {"freeze": FREEZE_MS, "capture": "true" if capture else "false"}
        context.add_init_script(script)
        page = context.new_page()
        media_log = []
        if capture:
            # What chrome://media-internals shows: the media pipeline's own messages.
            cdp = context.new_cdp_session(page)
            cdp.on("Media.playerMessagesLogged", lambda e: media_log.extend(e["messages"]))
            cdp.on("Media.playerEventsAdded", lambda e: media_log.extend(e["events"]))
            cdp.send("Media.enable")
        started = time.monotonic()
        page.goto(url, wait_until="commit")
        # The measuring window itself (Playwright's wait keeps CDP events flowing).
        page.wait_for_timeout(max(0, seconds - (time.monotonic() - started)) * 1000)
        result = page.evaluate("window.__fsFinish ? window.__fsFinish() : null")
        if result is not None:
            result["mediaLog"] = media_log
        return result
    finally:
        context.close()


def describe(index, result):
    """One line per viewer."""
    if result is None or result["firstFrame"] is None:
        return f"viewer {index:2}: no frame"
    final = result["finalState"]
    freezes = ", ".join(
        f"{f['ms']} ms at +{f['at'] - result['firstFrame']} ms{' (open)' if f['open'] else ''}"
        for f in result["freezes"]
    )
    return (
        f"viewer {index:2}: first frame {result['firstFrame']} ms, {result['frames']} frames, "
        f"longest gap {result['longest']:.0f} ms, dropped {final['dropped']}/{final['frames']}, "
        f"holes {max(0, len(final['buffered']) - 1)}, player {player_stats(final)}"
        + (f", FREEZES: {freezes}" if freezes else "")
    )


def print_details(result, save_as):
    """--verbose: the element's events and samples, and what moved during each freeze."""
    if result is None:
        return
    for event in result["events"]:
        print(f"    event {event['name']:14} {compact(event)}")
    for sample in result["samples"]:
        print(f"    state {compact(sample)}")
    for freeze in result["freezes"]:
        before, after = freeze["before"], freeze["after"]
        moved = {
            key: round(after[key] - before[key], 3)
            for key in ("media", "ct", "presented", "captured", "dropped")
            if isinstance(before.get(key), (int, float))
            and isinstance(after.get(key), (int, float))
        }
        print(f"    FREEZE {freeze['ms']} ms from t={freeze['at']}: moved {moved}")
    for entry in result.get("mediaLog", []):
        text = entry.get("message") or f"{entry.get('value')}"
        print(f"    media-internals {entry.get('level', 'event')}: {text[:300]}")
    if result.get("bytes"):
        print_stream(result, save_as)


def print_stream(result, save_as):
    """--verbose: the media as this viewer received it (also saved as `save_as`), in ms
    from its first block: what came in the join burst, the keyframes, and every gap
    between consecutive blocks of a track over twice its usual spacing."""
    data = base64.b64decode(result["bytes"])
    save_as.write_bytes(data)
    arrivals = result["received"]
    blocks = blocks_of(data)
    if not blocks:
        return
    origin = blocks[0].time_ms
    burst = sum(size for t, size in arrivals if t - arrivals[0][0] < 20)
    in_burst = [b for b in blocks if b.offset < burst]
    print(
        f"    stream ({save_as}): {len(arrivals)} messages, {len(data)} bytes; "
        f"join burst {burst} bytes "
        f"up to {in_burst[-1].time_ms - origin if in_burst else 0} ms"
    )
    for kind in ("video", "audio"):
        times = [b.time_ms - origin for b in blocks if b.kind == kind]
        spacing = sorted(b - a for a, b in itertools.pairwise(times))
        usual = spacing[len(spacing) // 2] if spacing else 0
        keyframes = [b.time_ms - origin for b in blocks if b.kind == kind and b.keyframe]
        gaps = [(a, b - a) for a, b in itertools.pairwise(times) if b - a > 2 * usual or b < a]
        print(
            f"    {kind}: {len(times)} blocks, usual spacing {usual} ms, "
            f"keyframes at {keyframes[:12]}, gaps (at, ms): {gaps[:12]}"
        )


def player_stats(state):
    """The player's own counters (jumps, inits...), but for the frame count it shares."""
    stats = state.get("stats") or {}
    return " ".join(f"{key}={value}" for key, value in stats.items() if key != "frames")


def compact(state):
    return (
        f"t={state['t']} ct={state['ct']} rs={state['rs']} paused={int(state['paused'])} "
        f"rate={state['rate']} buffered={state['buffered']} frames={state['frames']} "
        f"dropped={state['dropped']} {player_stats(state)} "
        f"player={state['player']}"
    )


def summarize(results, options, busy_pct):
    """The figures: first frame from navigation, the longest gap per viewer (p95 and max
    over viewers), and freezes per minute of playback."""
    played = [r for r in results if r is not None and r["firstFrame"] is not None]
    first_frames = [r["firstFrame"] for r in played]
    longest = [r["longest"] for r in played]
    freezes = sum(len(r["freezes"]) for r in played)
    minutes = sum(r["end"] - r["firstFrame"] for r in played) / 60000
    per_min = freezes / minutes if minutes else float("nan")
    hog = {None: "none", "any": "unpinned"}.get(options.hog, f"cpu{options.hog}")
    print(
        f"{len(played)}/{options.viewers} viewers played; first frame p50 "
        f"{percentile(first_frames, 50):.0f} ms, p95 {percentile(first_frames, 95):.0f} ms; "
        f"longest gap per viewer p50 {percentile(longest, 50):.0f} ms, "
        f"p95 {percentile(longest, 95):.0f} ms, max {max(longest, default=float('nan')):.0f} ms; "
        f"{freezes} freezes over {minutes:.1f} min; hog {hog}; machine busy {busy_pct:.0f}%"
    )
    print(
        f"first_frame_p95_ms={percentile(first_frames, 95):.0f} "
        f"freeze_p95_ms={percentile(longest, 95):.0f} "
        f"freeze_max_ms={max(longest, default=float('nan')):.0f} "
        f"freezes_per_min={per_min:.2f} no_frame={options.viewers - len(played)} "
        f"hog={hog} machine_busy_pct={busy_pct:.0f}"
    )


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10, help="watched per viewer")
    parser.add_argument("--timeslice", type=int, default=100)
    parser.add_argument("--warmup", type=float, default=3, help="live this long first")
    parser.add_argument(
        "--hog",
        nargs="?",
        const="any",
        default=None,
        help="a busy-loop process beside the bench; pinned to CPU when given a number",
    )
    parser.add_argument("--verbose", action="store_true")
    options = parser.parse_args()
    if options.hog not in (None, "any") and not options.hog.isdigit():
        parser.error("--hog takes a CPU number, or nothing for an unpinned busy loop")
    return options


def main():
    options = parse_options()
    var_dir = Path(tempfile.mkdtemp(prefix="onair-bench-first-seconds-"))
    _user, session_key = prepare_site(var_dir)
    server = Daphne(var_dir, "web")
    hog = None
    results = []
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            studio_browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            phone_browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            _context, studio, slug = go_live(studio_browser, server, session_key, options.timeslice)
            if options.hog is not None:
                hog = start_hog(None if options.hog == "any" else int(options.hog))
            time.sleep(options.warmup)  # a broadcast already live, as most viewers find it
            busy0, total0 = machine_times()
            for index in range(1, options.viewers + 1):
                result = watch_one(
                    phone_browser,
                    f"{server.url}/b/{slug}/",
                    options.seconds,
                    capture=options.verbose,
                )
                results.append(result)
                print(describe(index, result), flush=True)
                if options.verbose:
                    print_details(result, var_dir / f"viewer-{index}.webm")
            busy1, total1 = machine_times()
            publisher = studio.evaluate(
                "() => { const s = document.querySelector('[data-go-live]').publisher;"
                " return {ladder: s.ladder, generation: s.generation, skipping: s.skipping}; }"
            )
            print(f"publisher at the end: {publisher}")
            phone_browser.close()
            studio_browser.close()
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
        server.stop()
    summarize(results, options, 100 * (busy1 - busy0) / max(1, total1 - total0))


if __name__ == "__main__":
    main()
