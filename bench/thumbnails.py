"""Live thumbnails: what one picture costs, and what thumbnailing costs a web process.

    .venv/bin/python bench/thumbnails.py [--broadcasts 20] [--seconds 60] [--every 10]

1. thumb_ms_p50: decoding a 720p VP8 keyframe and making the 320-px JPEG
   (broadcast.thumbnails.render_thumbnail), over every keyframe of a 720p recording
   made at run time with PyAV's libvpx encoder (in memory, never committed).
2. web_cpu_pct: the CPU of one Daphne process (% of one core) while N publishers send
   that 720p recording in real time, thumbnailed every --every seconds; the same with
   thumbnails off (THUMBNAIL_EVERY_S=0) for comparison; and how many of the N broadcasts
   served a picture at the end.

Starts its own Daphne on a free port with a temporary var dir (SQLite). Ends with:
thumb_ms_p50=... web_cpu_pct=... web_cpu_pct_off=... thumbnails_served=.../N
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Daphne, percentile, setup_site

WIDTH, HEIGHT = 1280, 720
RECORD_SECONDS = 10
BITRATE = "2000k"
TIMESLICE = 0.1  # the publisher page sends a chunk every 100 ms or so
WARM_UP = 12.0  # every broadcast gets its first picture within a period and a tick


def recording():
    from tests.media.synthetic_webm import synthetic_webm

    return synthetic_webm(WIDTH, HEIGHT, seconds=RECORD_SECONDS, bitrate=BITRATE)


def keyframes(data):
    from broadcast.webm import InitSegment, Segmenter

    events = Segmenter().feed(data)
    init = next(e.data for e in events if isinstance(e, InitSegment))
    return init, [e.data for e in events if not isinstance(e, InitSegment) and e.keyframe]


def decode_times(data, rounds=5):
    from broadcast.thumbnails import render_thumbnail

    init, pieces = keyframes(data)
    times = []
    for _ in range(rounds):
        for piece in pieces:
            started = time.perf_counter()
            rendered = render_thumbnail(init, piece)
            times.append((time.perf_counter() - started) * 1000)
            if rendered is None or rendered[1:] != (320, 180):
                raise SystemExit(f"unexpected thumbnail: {rendered and rendered[1:]}")
    return times


def publishers(count):
    """`count` adult broadcasters, each with a session: [(user, session key)]."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.models import User

    people = []
    for index in range(count):
        user, _ = User.objects.get_or_create(
            username=f"thumbs-bench-{index}",
            defaults={"handle": f"thumbs{index}", "birth_date": date(1990, 1, 1)},
        )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        people.append((user, session.session_key))
    return people


async def publish(server, slug, cookie, data, stop, sent):
    """Send the recording in a loop, in 100-ms chunks, at its own pace; count the bytes
    in `sent` (a publisher that falls behind its pace would make the server look idle)."""
    import websockets

    chunk = max(1, int(len(data) / RECORD_SECONDS * TIMESLICE))
    async with websockets.connect(
        f"{server.ws_url}/ws/b/{slug}/publish/?session=bench",
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={cookie}"},
        max_size=None,
        ping_interval=None,  # a loaded machine must not end the run; the server is measured
    ) as socket:
        await socket.recv()  # ready
        next_send = time.monotonic()
        while not stop.is_set():
            for start in range(0, len(data), chunk):
                if stop.is_set():
                    break
                await socket.send(data[start : start + chunk])
                sent[0] += min(chunk, len(data) - start)
                next_send += TIMESLICE
                await asyncio.sleep(max(0.0, next_send - time.monotonic()))


def served(server, slug):
    try:
        with urllib.request.urlopen(f"{server.url}/b/{slug}/thumbnail.jpg", timeout=10) as r:
            return r.status == 200 and r.headers["Content-Type"] == "image/jpeg"
    except urllib.error.HTTPError:
        return False


def run(var_dir, people, data, *, every, seconds):
    """CPU of one Daphne (% of one core) with len(people) live publishers, and how many
    of their broadcasts served a picture at the end."""
    from broadcast import services
    from broadcast.models import Broadcast

    server = Daphne(var_dir, f"web-every-{every:g}", THUMBNAIL_EVERY_S=str(every))
    broadcasts = [
        Broadcast.objects.create(
            owner=user, title="thumbnail bench", tell_followers=False, show_picture=True
        )
        for user, _ in people
    ]

    async def scenario():
        stop, sent = asyncio.Event(), [0]
        tasks = [
            asyncio.ensure_future(publish(server, b.slug, cookie, data, stop, sent))
            for b, (_, cookie) in zip(broadcasts, people, strict=True)
        ]
        await asyncio.sleep(WARM_UP)
        before, sent_before, started = server.cpu_seconds(), sent[0], time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - started
        cpu = (server.cpu_seconds() - before) / elapsed * 100
        pace = (sent[0] - sent_before) / elapsed / (len(data) / RECORD_SECONDS * len(people))
        count = sum([await asyncio.to_thread(served, server, b.slug) for b in broadcasts])
        stop.set()
        await asyncio.gather(*tasks)
        return cpu, count, pace

    try:
        return asyncio.run(scenario())
    finally:
        for broadcast in broadcasts:
            services.end_broadcast(broadcast=broadcast, reason=services.EndReason.OWNER)
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broadcasts", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=10.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="onair-bench-thumbs-") as var_dir:
        setup_site(var_dir, MEDIA_MAX_WATCH_PER_IP="100000")
        data = recording()
        times = decode_times(data)
        print(
            f"720p keyframe -> 320x180 JPEG: p50={percentile(times, 50):.1f} ms "
            f"p95={percentile(times, 95):.1f} ms mean={statistics.mean(times):.1f} ms "
            f"({len(times)} decodes)",
            flush=True,
        )
        people = publishers(args.broadcasts)
        cpu_on, count, pace = run(var_dir, people, data, every=args.every, seconds=args.seconds)
        print(
            f"{args.broadcasts} live 720p broadcasts, thumbnails every {args.every:g} s: "
            f"web cpu={cpu_on:.1f}% of a core, pictures served {count}/{args.broadcasts} "
            f"(publishers at {pace * 100:.0f}% of real time)",
            flush=True,
        )
        cpu_off, _, pace = run(var_dir, people, data, every=0, seconds=args.seconds)
        print(
            f"same, thumbnails off: web cpu={cpu_off:.1f}% of a core "
            f"(publishers at {pace * 100:.0f}% of real time)",
            flush=True,
        )
    print(
        f"thumb_ms_p50={percentile(times, 50):.1f} web_cpu_pct={cpu_on:.1f} "
        f"web_cpu_pct_off={cpu_off:.1f} thumbnails_served={count}/{args.broadcasts}"
    )


if __name__ == "__main__":
    main()
