"""What the bench scripts share: ports, waiting, percentiles, a bench site (SQLite in a
temporary var dir, production-like settings), Daphne processes, a light WebSocket
client for load generators, a broadcaster in Chromium whose camera shows the clock as a
barcode (BARCODE_CAMERA, go_live), and the blocks of received media (blocks_of).

The scripts put the repository root on sys.path and import this as `bench.common`.
"""

import asyncio
import math
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import NamedTuple

from tests.media.wire import client_frame, pop_frame, upgrade_request
from tests.support import CHROMIUM, CHROMIUM_ARGS  # noqa: F401 (for the bench scripts)

ROOT = Path(__file__).resolve().parent.parent
ASGI_APP = "onair.asgi:application"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port):
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def percentile(values, p):
    """The nearest-rank percentile (nan for no values)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def process_cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_times():
    """(busy, total) jiffies of the whole machine, to show what else was running."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def setup_site(var_dir, **env):
    """Production-like settings (DEBUG off) on SQLite in var_dir (or the DATABASE_URL
    that `env` gives), migrated, Django set up in this process; `env` adds or overrides
    variables (also seen by servers started afterwards). Returns a signed-in adult user
    and their session key."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "onair.settings",
            "ONAIR_VAR_DIR": str(var_dir),
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "STATIC_MANIFEST": "0",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "WARNING",
            **env,
        }
    )
    if "DATABASE_URL" not in env:
        os.environ.pop("DATABASE_URL", None)
    if "REDIS_URL" not in env:
        os.environ.pop("REDIS_URL", None)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import User

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    user, _ = User.objects.get_or_create(
        username="bench", defaults={"handle": "bench", "birth_date": date(1990, 1, 1)}
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return user, session.session_key


class Daphne:
    """A Daphne process on a free port, serving `app` with this process's environment
    plus `env`. With BENCH_PROFILE=1 it runs under cProfile (written on stop)."""

    def __init__(self, var_dir, name="daphne", app=ASGI_APP, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        environment = {**os.environ, "PUBLIC_URL": self.url, **env}
        self.log = open(Path(var_dir) / f"{name}.log", "wb")  # noqa: SIM115
        profile = (
            ["-m", "cProfile", "-o", f"{var_dir}/{name}.prof"]
            if os.environ.get("BENCH_PROFILE") == "1"
            else []
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                *profile,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                app,
            ],
            cwd=ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait(lambda: port_open(self.port) or self.proc.poll() is not None, 30, "daphne")
        if self.proc.poll() is not None:
            raise SystemExit(f"daphne exited, see {self.log.name}")

    def cpu_seconds(self):
        return process_cpu_seconds(self.proc.pid)

    def stop(self):
        # SIGINT: Daphne exits normally, so a profile (BENCH_PROFILE=1) gets written.
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class RawWebSocket(asyncio.Protocol):
    """A minimal WebSocket client for load generation: the handshake, then unmasked
    server frames parsed from one buffer and handed to `on_frame(opcode, payload, now)`.
    A few times cheaper per frame than a full client library, so that a load generator
    sharing the machine measures the server, not itself."""

    def __init__(self, on_frame):
        self.on_frame = on_frame
        self.buffer = bytearray()
        self.transport = None
        self.open = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self._request = b""

    @classmethod
    async def connect(cls, ws_url, path, *, origin, headers=None, on_frame, timeout=30):
        host, port = ws_url.removeprefix("ws://").split(":")
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(lambda: cls(on_frame), host, int(port))
        protocol.transport.write(upgrade_request(host, port, path, origin=origin, headers=headers))
        await asyncio.wait_for(protocol.open, timeout)
        return protocol

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        now = time.monotonic()
        buffer = self.buffer
        buffer += data
        if not self.open.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self.open.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()
                return
            self.open.set_result(True)
        while frame := pop_frame(buffer):
            opcode, payload = frame
            if opcode == 0x8:
                self.transport.close()
                return
            if opcode == 0x9:
                self.send(payload, opcode=0xA)
                continue
            self.on_frame(opcode, payload, now)

    def send(self, data, opcode=0x1):
        """A masked client frame (text by default)."""
        self.transport.write(client_frame(data, opcode))

    def connection_lost(self, exc):
        if not self.open.done():
            self.open.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(True)

    def close(self):
        if self.transport is not None:
            self.transport.close()


# The broadcaster's camera: a canvas with the clock as a barcode (32 stripes of 20 px:
# a white start bit, 30 bits of Date.now() mod 2^30, a black stop bit), plus a moving
# square so that the encoder has real work, and the fake microphone.
BARCODE_CAMERA = """
(() => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const real = await original({audio: true, video: false});
    const canvas = Object.assign(document.createElement("canvas"), {width: 640, height: 360});
    // Opaque, as a camera is: with alpha the recorder encodes an alpha plane too.
    const context = canvas.getContext("2d", {alpha: false});
    let frame = 0;
    const draw = () => {
      const value = Date.now() % 2 ** 30;
      context.fillStyle = "#777";
      context.fillRect(0, 0, 640, 360);
      context.fillStyle = "#c33";
      context.fillRect((frame * 7) % 600, 150 + 60 * Math.sin(frame / 10), 40, 40);
      frame += 1;
      for (let i = 0; i < 32; i += 1) {
        const bit = i === 0 ? 1 : i === 31 ? 0 : (value >> (30 - i)) & 1;
        context.fillStyle = bit ? "#fff" : "#000";
        context.fillRect(i * 20, 0, 20, 80);
      }
    };
    draw();
    setInterval(draw, 1000 / 30);
    const video = canvas.captureStream(30).getVideoTracks();
    return new MediaStream([...video, ...real.getAudioTracks()]);
  };
})();
"""


def go_live(browser, server, session_key, timeslice):
    """Go live from the real go-live page with BARCODE_CAMERA (every frame differs, so a
    viewer can tell a frozen picture from a still scene): (context, page, slug)."""
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": session_key, "url": server.url}])
    context.add_init_script(BARCODE_CAMERA)
    page = context.new_page()
    page.goto(f"{server.url}/live/?timeslice={timeslice}")
    wait_dataset(page, "[data-go-live]", "devices", "ready", 30)
    page.fill("#id_title", "Latency bench")
    page.uncheck("[name=tell_followers]")
    page.click("[data-go-button]")
    wait_dataset(page, "[data-go-live]", "connection", "live", 30)
    return context, page, page.eval_on_selector("[data-go-live]", "el => el.dataset.slug")


def wait_dataset(page, selector, key, value, timeout):
    """Poll an element's data-* attribute (across navigations) until it has `value`."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.eval_on_selector(selector, f"el => el.dataset.{key}") == value:
                return
        except Error:
            pass  # navigating
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {selector} data-{key}={value}")


# Received media, block by block: what a viewer was sent, with its timestamps.
_CLUSTER_TIMECODE = 0xE7


class Block(NamedTuple):
    kind: str  # "video" or "audio"
    time_ms: int
    keyframe: bool
    offset: int  # where it starts in the received bytes


def blocks_of(data):
    """The blocks (SimpleBlock or BlockGroup) of received WebM bytes, init segments and
    clusters as relayed, with their absolute times. Walks into Segment and Cluster and
    skips everything else."""
    from broadcast import webm

    blocks, video, cluster_time, pos = [], set(), 0, 0
    while (header := webm.read_element_header(data, pos)) is not None:
        element_id, size, header_len = header
        payload = data[pos + header_len : pos + header_len + max(size, 0)]
        if element_id in (webm.SEGMENT, webm.CLUSTER):
            pos += header_len
            continue
        if element_id == webm.TRACKS:
            video = webm.video_track_numbers(payload)
        elif element_id == _CLUSTER_TIMECODE:
            cluster_time = webm.read_uint(payload)
        elif element_id in (webm.SIMPLE_BLOCK, webm.BLOCK_GROUP):
            blocks.append(block_of(element_id, payload, video, cluster_time, pos))
        pos += header_len + size
    return blocks


def block_of(element_id, payload, video, cluster_time, offset):
    """A SimpleBlock, or the Block of a BlockGroup (a keyframe has no ReferenceBlock)."""
    from broadcast import webm

    if element_id == webm.BLOCK_GROUP:
        fields = dict(webm.iter_children(payload))
        payload, keyframe = fields[webm.BLOCK], webm.REFERENCE_BLOCK not in fields
    track, length = webm.read_vint(payload, 0, keep_marker=False)
    if element_id == webm.SIMPLE_BLOCK:
        keyframe = bool(payload[length + 2] & 0x80)
    relative = int.from_bytes(payload[length : length + 2], "big", signed=True)
    kind = "video" if track in video else "audio"
    return Block(kind, cluster_time + relative, keyframe, offset)
