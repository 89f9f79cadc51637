"""Record the small WebM fixtures the segmenter tests replay, the way the go-live page
records: Chromium's fake camera, MediaRecorder WebM VP8/Opus, a keyframe every second.

    .venv/bin/python -m tests.media.record_fixture tests/media/fixtures/fake-camera-250ms.webm
"""

import argparse
import base64
import os
from pathlib import Path

from playwright.sync_api import sync_playwright

RECORD_JS = """
async ([seconds, timeslice, bitrate, noise]) => {
  let stream = await navigator.mediaDevices.getUserMedia(
    {video: {width: 320, height: 240}, audio: true});
  if (noise) {
    // Busy pictures, so that the encoder really spends the bitrate it is given.
    const canvas = Object.assign(document.createElement("canvas"), {width: 640, height: 360});
    const context = canvas.getContext("2d");
    setInterval(() => {
      // Moving coloured blocks over the previous picture: steady, camera-like motion.
      for (let i = 0; i < 60; i += 1) {
        context.fillStyle = `hsl(${Math.random() * 360} 70% 50%)`;
        context.fillRect(Math.random() * 600, Math.random() * 330, 40, 30);
      }
    }, 33);
    stream = new MediaStream([...canvas.captureStream(30).getVideoTracks(),
                              ...stream.getAudioTracks()]);
  }
  const recorder = new MediaRecorder(stream, {
    mimeType: "video/webm;codecs=vp8,opus",
    videoBitsPerSecond: bitrate,
    audioBitsPerSecond: 32000,
    videoKeyFrameIntervalDuration: 1000,
  });
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(timeslice);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  recorder.stop();
  await stopped;
  const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
"""


def record(path, *, seconds=3.5, timeslice=250, bitrate=250_000, noise=False):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onair.settings")
    from tests.support import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        # getUserMedia needs a secure context: serve a blank page from 127.0.0.1.
        page.route("http://127.0.0.1:9/", lambda route: route.fulfill(body="<!doctype html>"))
        page.goto("http://127.0.0.1:9/")
        data = page.evaluate(RECORD_JS, [seconds, timeslice, bitrate, noise])
        browser.close()
    Path(path).write_bytes(base64.b64decode(data))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--seconds", type=float, default=3.5)
    parser.add_argument("--timeslice", type=int, default=250)
    parser.add_argument("--bitrate", type=int, default=250_000)
    args = parser.parse_args()
    record(args.path, seconds=args.seconds, timeslice=args.timeslice, bitrate=args.bitrate)
