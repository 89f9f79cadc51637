"""Takedown: from the moderation desk's takedown (an admin POST) to the removal message at
the last of N viewers, in-process (one Daphne) and in Redis mode (two Daphne processes,
viewers split between them, the desk's request on the first).

    .venv/bin/python bench/takedown.py [--viewers 200] [--trials 20]
        [--redis-url redis://127.0.0.1:6379/0] [--modes inproc,redis]

Each trial: a live broadcast with a publisher replaying a recorded stream, N viewer
sockets receiving it, then staff POST the live wall's "Take down" form (the admin view,
which calls safety.takedown.take_down and settles the reports) and the clock runs until
every viewer has read {"type": "ended", "reason": "removed"}. Starts its own servers on
free ports with a temporary var dir (SQLite). Redis mode needs --redis-url or REDIS_URL.
Ends with: takedown_p50_ms=... takedown_p99_ms=... (Redis mode, the production shape)
takedown_p50_ms_inproc=... takedown_p99_ms_inproc=... (target p99 < 500 ms).
"""

import argparse
import asyncio
import json
import os
import resource
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Daphne, RawWebSocket, percentile, setup_site

FAKE_CAMERA = Path(__file__).resolve().parent.parent / "tests/media/fixtures/fake-camera-250ms.webm"
CSRF = "b" * 32  # any 32 letters: the same value in the cookie and the form
REMOVED = b'"reason": "removed"'
SETTLE_TIMEOUT = 20.0


def staff_session():
    """A superuser and its session key: the desk's pages check permissions."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    staff, _ = User.objects.get_or_create(
        username="bench-staff",
        defaults={"handle": "bench_staff", "is_staff": True, "is_superuser": True},
    )
    session = SessionStore()
    session[SESSION_KEY] = str(staff.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
    session.create()
    return session.session_key


def take_down_request(server, slug, staff_key):
    """The live wall's takedown form, as a browser posts it."""
    from django.urls import reverse

    path = reverse("admin:safety_live_take_down", kwargs={"slug": slug})
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": CSRF,
            f"{slug}-rule": "crime",
            f"{slug}-reason": "bench",
            f"{slug}-days": "30",
        }
    ).encode()
    return urllib.request.Request(
        server.url + path,
        data=body,
        headers={
            "Cookie": f"sessionid={staff_key}; csrftoken={CSRF}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(request):
    """The desk answers with a redirect to the wall: that is success."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


async def one_trial(servers, slug, owner_cookie, staff_key, chunks, viewers):
    import websockets

    removed_at = {}
    ready = set()

    def viewer_frames(index):
        def on_frame(opcode, payload, now):
            if opcode != 0x1:
                return
            if index not in ready and payload.startswith(b'{"type": "state"'):
                ready.add(index)
            elif REMOVED in payload and index not in removed_at:
                removed_at[index] = now

        return on_frame

    publisher_server = servers[0]
    async with websockets.connect(
        f"{publisher_server.ws_url}/ws/b/{slug}/publish/?session=bench",
        origin=publisher_server.url,
        additional_headers={"Cookie": f"sessionid={owner_cookie}"},
        max_size=None,
    ) as publisher:
        assert json.loads(await publisher.recv())["type"] == "ready"
        stop = asyncio.Event()

        async def publish():
            """The recording, looped at its own pace (250 ms a chunk)."""
            await publisher.send(chunks[0])
            index = 1
            while not stop.is_set():
                try:
                    await publisher.send(chunks[index])
                except websockets.ConnectionClosed:
                    return  # the takedown closed the ingest
                index = index + 1 if index + 1 < len(chunks) else 1
                await asyncio.sleep(0.25)

        publishing = asyncio.ensure_future(publish())
        sockets = []
        for index in range(viewers):
            server = servers[index % len(servers)]
            sockets.append(
                await RawWebSocket.connect(
                    server.ws_url,
                    f"/ws/b/{slug}/watch/",
                    origin=server.url,
                    on_frame=viewer_frames(index),
                )
            )
        deadline = time.monotonic() + 30
        while len(ready) < viewers and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # media flowing to everyone
        request = take_down_request(publisher_server, slug, staff_key)
        started = time.monotonic()
        status = await asyncio.to_thread(post, request)
        answered = time.monotonic()
        deadline = started + SETTLE_TIMEOUT
        while len(removed_at) < viewers and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await publishing
        for socket in sockets:
            socket.close()
    if status != 302:
        raise SystemExit(f"the takedown request answered {status}")
    if len(removed_at) < viewers:
        return None, len(removed_at)
    return {
        "last": (max(removed_at.values()) - started) * 1000,
        "first": (min(removed_at.values()) - started) * 1000,
        "answered": (answered - started) * 1000,
    }, viewers


def run_mode(mode, var_dir, user, owner_cookie, staff_key, chunks, options):
    from broadcast import services

    env = {"REDIS_URL": options.redis_url} if mode == "redis" else {}
    servers = [Daphne(var_dir, f"{mode}-{i}", **env) for i in range(2 if mode == "redis" else 1)]
    results, missed = [], 0
    try:
        for trial in range(options.trials):
            broadcast = services.start_broadcast(
                owner=user,
                title=f"bench takedown {mode} {trial}",
                visibility="unlisted",
                tell_followers=False,
            )
            result, reached = asyncio.run(
                one_trial(servers, broadcast.slug, owner_cookie, staff_key, chunks, options.viewers)
            )
            if result is None:
                missed += 1
                print(
                    f"{mode:6} trial {trial}: only {reached}/{options.viewers} saw it", flush=True
                )
                continue
            results.append(result)
    finally:
        for server in servers:
            server.stop()
    times = [r["last"] for r in results]
    p50, p99 = percentile(times, 50), percentile(times, 99)
    first = percentile([r["first"] for r in results], 50)
    answered = percentile([r["answered"] for r in results], 50)
    print(
        f"{mode:6} viewers={options.viewers} over {len(servers)} process(es) "
        f"trials={len(times)} missed={missed} takedown -> last viewer "
        f"p50/p99/max={p50:.0f}/{p99:.0f}/{max(times, default=0):.0f} ms "
        f"(p50: first viewer {first:.0f} ms, the desk's answer {answered:.0f} ms)",
        flush=True,
    )
    return p50, p99


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--modes", default="inproc,redis")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    var_dir = Path(tempfile.mkdtemp(prefix="onair-bench-takedown-"))
    user, owner_cookie = setup_site(
        var_dir,
        MEDIA_MAX_WATCH_PER_IP="100000",
        # Media pub/sub channels are shared by every database of a Redis server.
        MEDIA_REDIS_PREFIX=f"onair-bench-{uuid.uuid4().hex[:8]}",
    )
    staff_key = staff_session()
    from tests.media.sockets import recorded_chunks

    chunks = recorded_chunks(FAKE_CAMERA.read_bytes())
    summary = {}
    for mode in options.modes.split(","):
        suffix = "" if mode == "redis" else f"_{mode}"
        if mode == "redis" and not options.redis_url:
            print("redis mode skipped: no --redis-url / REDIS_URL")
            summary.update({"takedown_p50_ms": "nan", "takedown_p99_ms": "nan"})
            continue
        p50, p99 = run_mode(mode, var_dir, user, owner_cookie, staff_key, chunks, options)
        summary[f"takedown_p50_ms{suffix}"] = f"{p50:.0f}"
        summary[f"takedown_p99_ms{suffix}"] = f"{p99:.0f}"
    keys = [
        "takedown_p50_ms",
        "takedown_p99_ms",
        "takedown_p50_ms_inproc",
        "takedown_p99_ms_inproc",
    ]
    print(" ".join(f"{key}={summary.get(key, 'nan')}" for key in keys))


if __name__ == "__main__":
    main()
