"""Glass-to-glass latency through the real go-live and watch pages in Chromium, with the
barcode method: the broadcaster's "camera" is a canvas showing Date.now() as a black and
white barcode; the viewer decodes the barcode of every displayed frame
(requestVideoFrameCallback + getImageData) and compares it with its own Date.now() (one
machine, one clock). Then time to first frame for late joiners.

    .venv/bin/python bench/media_latency.py [--seconds 60] [--joins 20] [--timeslice 100]

Starts its own Daphne on a free port with a temporary var dir (SQLite, in-process hub).
Ends with: g2g_p50_ms=... g2g_p95_ms=... first_frame_p50_ms=... first_frame_p95_ms=...
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import CHROMIUM, CHROMIUM_ARGS, Daphne, go_live, percentile
from bench.media_fanout import prepare_site

# On the viewer: decode each presented frame's barcode; and note the first frame.
BARCODE_READER = """
(() => {
  window.__g2g = [];
  window.__firstFrame = null;
  const start = () => {
    const video = document.querySelector("[data-player] video");
    if (!video) return;
    const canvas = new OffscreenCanvas(640, 360);
    const context = canvas.getContext("2d", {willReadFrequently: true});
    const onFrame = () => {
      const now = Date.now();
      if (window.__firstFrame === null) window.__firstFrame = performance.now();
      context.drawImage(video, 0, 0, 640, 360);
      const row = context.getImageData(0, 40, 640, 1).data;
      const bits = [];
      for (let i = 0; i < 32; i += 1) bits.push(row[(i * 20 + 10) * 4] > 128 ? 1 : 0);
      if (bits[0] === 1 && bits[31] === 0) {
        let value = 0;
        for (let i = 1; i <= 30; i += 1) value = value * 2 + bits[i];
        const lag = (((now % 2 ** 30) - value) + 2 ** 30) % 2 ** 30;
        if (lag < 10000) window.__g2g.push(lag);
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--joins", type=int, default=20)
    parser.add_argument("--timeslice", type=int, default=100)
    options = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="onair-bench-latency-"))
    _user, session_key = prepare_site(var_dir)
    server = Daphne(var_dir, "web")
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            studio_context, _studio, slug = go_live(browser, server, session_key, options.timeslice)
            viewer_context = browser.new_context()
            viewer_context.add_init_script(BARCODE_READER)
            viewer = viewer_context.new_page()
            viewer.goto(f"{server.url}/b/{slug}/")
            time.sleep(3)  # settle at the live edge before measuring
            viewer.evaluate("window.__g2g = []")
            time.sleep(options.seconds)
            samples = viewer.evaluate("window.__g2g")
            viewer_context.close()

            first_frames = []
            for _ in range(options.joins):
                context = browser.new_context()
                context.add_init_script(BARCODE_READER)
                page = context.new_page()
                page.goto(f"{server.url}/b/{slug}/")
                deadline = time.monotonic() + 15
                value = None
                while value is None and time.monotonic() < deadline:
                    value = page.evaluate("window.__firstFrame")
                    time.sleep(0.02)
                if value is not None:
                    first_frames.append(value)
                context.close()
            studio_context.close()
            browser.close()
    finally:
        server.stop()

    if not samples:
        raise SystemExit("no barcode decoded: nothing to report")
    print(
        f"glass-to-glass over {options.seconds:.0f} s, timeslice {options.timeslice} ms: "
        f"{len(samples)} frames, min {min(samples)} ms, mean {statistics.mean(samples):.0f} ms, "
        f"p50 {percentile(samples, 50):.0f} ms, p95 {percentile(samples, 95):.0f} ms, "
        f"max {max(samples)} ms"
    )
    print(
        f"first frame for {len(first_frames)}/{options.joins} late joiners (from navigation): "
        f"p50 {percentile(first_frames, 50):.0f} ms, p95 {percentile(first_frames, 95):.0f} ms"
    )
    print(
        f"g2g_p50_ms={percentile(samples, 50):.0f} g2g_p95_ms={percentile(samples, 95):.0f} "
        f"first_frame_p50_ms={percentile(first_frames, 50):.0f} "
        f"first_frame_p95_ms={percentile(first_frames, 95):.0f}"
    )


if __name__ == "__main__":
    main()
