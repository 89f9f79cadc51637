"""Media fan-out: a synthetic publisher replays a recorded WebM stream at ~1.5 Mbit/s to N
WebSocket viewers on loopback, in-process (one Daphne) and in Redis mode (two Daphne
processes, viewers split between them, the publisher on the first).

    .venv/bin/python bench/media_fanout.py [--viewers 100,300,1000] [--seconds 12]
        [--redis-url redis://127.0.0.1:6379/0] [--modes inproc,redis]

Per run: delivered fraction (pieces received / pieces published, for viewers that keep
up by acknowledging like the player does), p50/p99 lag (publisher send -> viewer
receive, one clock), and the Daphne processes' CPU (% of one core). Starts its own
servers on free ports with a temporary var dir (SQLite). Redis mode needs --redis-url or
REDIS_URL. Ends with: max_viewers_inproc=... max_viewers_redis=... p99_lag_ms_inproc=...
p99_lag_ms_redis=...
"""

import argparse
import asyncio
import hashlib
import os
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Daphne, RawWebSocket, percentile, setup_site

LAG_BOUND_MS = 250
BITRATE = 1_500_000
RECORD_SECONDS = 10.0


def prepare_site(var_dir, **env):
    """A migrated SQLite site and a signed-in adult: (user, session key). Every load
    viewer comes from 127.0.0.1, so the per-address cap on watch sockets is lifted."""
    return setup_site(var_dir, MEDIA_MAX_WATCH_PER_IP="100000", **env)


def record_stream(path, seconds=RECORD_SECONDS):
    """A recording at ~1.5 Mbit/s (busy pictures, camera audio), 100 ms timeslice."""
    from tests.media.record_fixture import record

    record(path, seconds=seconds, timeslice=100, bitrate=BITRATE, noise=True)


def replay_plan(data):
    """The recording as the publisher's messages (init, then whole-element runs per
    cluster), and for each message the pieces the server will relay, by digest."""
    from broadcast.webm import InitSegment, Segmenter

    messages = []
    segmenter = Segmenter()
    events = []
    for start in range(0, len(data), 65536):
        events += segmenter.feed(data[start : start + 65536])
    for event in events:
        if isinstance(event, InitSegment) or event.cluster_start or not messages:
            messages.append(event.data)
        else:
            messages[-1] += event.data
    segmenter = Segmenter()
    piece_owner = {}  # first 64 bytes -> [(length, digest, message index)]
    pieces_per_message = []
    for index, message in enumerate(messages):
        produced = [e for e in segmenter.feed(message) if not isinstance(e, InitSegment)]
        pieces_per_message.append(len(produced))
        for piece in produced:
            digest = hashlib.blake2b(piece.data, digest_size=8).digest()
            piece_owner.setdefault(piece.data[:64], []).append((len(piece.data), digest, index))
    return messages, piece_owner, pieces_per_message


def pieces_in(frame, piece_owner):
    """Message indexes of the pieces in a frame (the hub may join several in one). A
    piece is found by its first 64 bytes and its length; a digest settles the rare case
    of two pieces that start alike."""
    offset, found = 0, []
    while offset < len(frame):
        candidates = piece_owner.get(frame[offset : offset + 64], ())
        for length, digest, index in candidates:
            if len(candidates) > 1:
                chunk = frame[offset : offset + length]
                if hashlib.blake2b(chunk, digest_size=8).digest() != digest:
                    continue
            found.append(index)
            offset += length
            break
        else:
            return found  # the init segment, or bytes from another loop of the recording
    return found


async def run_once(servers, slug, cookie, plan, viewers, seconds):
    import websockets

    messages, piece_owner, pieces_per_message = plan
    interval = RECORD_SECONDS / (len(messages) - 1)
    sent_at = {}
    counted = {}  # message index -> sent during the measurement
    lags = []
    received = [0] * viewers
    stop = asyncio.Event()
    ready = []
    state = {"measuring": False, "collect": False, "published": 0}

    async def viewer(index):
        server = servers[index % len(servers)]
        counters = {"bytes": 0, "last_ack": time.monotonic(), "socket": None}

        def on_frame(opcode, frame, now):
            if opcode != 0x2:
                return
            counters["bytes"] += len(frame)
            if state["collect"]:
                for owner in pieces_in(frame, piece_owner):
                    if counted.get(owner):
                        received[index] += 1
                        lags.append((now - sent_at[owner]) * 1000)
            if now - counters["last_ack"] > 1.0 and counters["socket"]:  # as the player does
                counters["last_ack"] = now
                counters["socket"].send(f'{{"type": "ack", "bytes": {counters["bytes"]}}}')

        for _attempt in range(5):
            try:
                socket = counters["socket"] = await RawWebSocket.connect(
                    server.ws_url, f"/ws/b/{slug}/watch/", origin=server.url, on_frame=on_frame
                )
                break
            except (OSError, ConnectionError, TimeoutError):
                await asyncio.sleep(0.5)
        else:
            return
        ready.append(index)
        try:
            await socket.closed
        finally:
            socket.close()

    async def publish(publisher):
        """Replays the recording in a loop at its own pace, for the whole run."""
        await publisher.send(messages[0])
        index, next_send = 1, time.monotonic()
        while not stop.is_set():
            sent_at[index] = time.monotonic()
            counted[index] = state["measuring"]
            await publisher.send(messages[index])
            if state["measuring"]:
                state["published"] += pieces_per_message[index]
            index = index + 1 if index + 1 < len(messages) else 1
            next_send += interval
            await asyncio.sleep(max(0, next_send - time.monotonic()))

    publisher_server = servers[0]
    async with websockets.connect(
        f"{publisher_server.ws_url}/ws/b/{slug}/publish/?session=bench&takeover=1",
        origin=publisher_server.url,
        additional_headers={"Cookie": f"sessionid={cookie}"},
        max_size=None,
    ) as publisher:
        await publisher.recv()  # ready
        publishing = asyncio.ensure_future(publish(publisher))
        tasks = []
        for index in range(viewers):
            tasks.append(asyncio.ensure_future(viewer(index)))
            if index % 25 == 24:
                # Don't overflow the listen backlog: let this batch finish its handshakes.
                deadline = time.monotonic() + 10
                while len(ready) < index + 1 and time.monotonic() < deadline:
                    await asyncio.sleep(0.02)
        deadline = time.monotonic() + 90
        while len(ready) < viewers and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        connected = len(ready)
        await asyncio.sleep(3.0)  # warm up
        cpu_before = [s.cpu_seconds() for s in servers]
        client_before = time.process_time()
        started = time.monotonic()
        state["measuring"] = state["collect"] = True
        await asyncio.sleep(seconds)
        state["measuring"] = False
        measured = time.monotonic() - started
        cpu = [(s.cpu_seconds() - b) / measured * 100 for s, b in zip(servers, cpu_before)]  # noqa: B905
        client_cpu = (time.process_time() - client_before) / measured * 100
        await asyncio.sleep(1.5)  # let the last measured pieces arrive
        state["collect"] = False
        stop.set()
        await publishing
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    expected = state["published"] * connected
    return {
        "viewers": viewers,
        "connected": connected,
        "delivered": sum(received) / expected if expected else 0.0,
        "p50_ms": percentile(lags, 50),
        "p99_ms": percentile(lags, 99),
        "cpu": cpu,
        "client_cpu": client_cpu,
    }


def run_mode(mode, var_dir, cookie, user, plan, counts, seconds, redis_url):
    from broadcast import services

    env = {"REDIS_URL": redis_url} if mode == "redis" else {}
    servers = [Daphne(var_dir, f"{mode}-{i}", **env) for i in range(2 if mode == "redis" else 1)]
    results = []
    try:
        for count in counts:
            broadcast = services.start_broadcast(
                owner=user,
                title=f"bench {mode} {count}",
                visibility="unlisted",
                tell_followers=False,
            )
            result = asyncio.run(run_once(servers, broadcast.slug, cookie, plan, count, seconds))
            services.end_broadcast(broadcast=broadcast, reason="owner")
            cpu = " + ".join(f"{c:.0f}%" for c in result["cpu"])
            print(
                f"{mode:6} N={count:5} connected={result['connected']:5} "
                f"delivered={result['delivered'] * 100:6.2f}% "
                f"lag p50/p99={result['p50_ms']:.0f}/{result['p99_ms']:.0f} ms "
                f"daphne cpu={cpu} (load client {result['client_cpu']:.0f}%)",
                flush=True,
            )
            results.append(result)
    finally:
        for server in servers:
            server.stop()
    return results


def best(results):
    good = [
        r
        for r in results
        if r["connected"] == r["viewers"] and r["delivered"] >= 0.999 and r["p99_ms"] < LAG_BOUND_MS
    ]
    if not good:
        return 0, float("nan")
    top = max(good, key=lambda r: r["viewers"])
    return top["viewers"], top["p99_ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="100,300,1000")
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--modes", default="inproc,redis")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--recording", help="a WebM file to replay (default: record one)")
    options = parser.parse_args()
    # Stopped with SIGTERM: still stop the servers (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    var_dir = Path(tempfile.mkdtemp(prefix="onair-bench-fanout-"))
    user, cookie = prepare_site(var_dir)
    recording = Path(options.recording) if options.recording else var_dir / "stream.webm"
    if not options.recording:
        record_stream(recording)
    data = recording.read_bytes()
    plan = replay_plan(data)
    print(
        f"replaying {len(data) / 1024:.0f} KiB in {len(plan[0]) - 1} messages "
        f"over {RECORD_SECONDS:.0f} s "
        f"({len(data) * 8 / RECORD_SECONDS / 1e6:.2f} Mbit/s), {sum(plan[2])} pieces per loop",
        flush=True,
    )
    counts = [int(n) for n in options.viewers.split(",")]
    summary = {}
    for mode in options.modes.split(","):
        if mode == "redis" and not options.redis_url:
            print("redis mode skipped: no --redis-url / REDIS_URL")
            summary.update({"max_viewers_redis": "nan", "p99_lag_ms_redis": "nan"})
            continue
        results = run_mode(
            mode, var_dir, cookie, user, plan, counts, options.seconds, options.redis_url
        )
        top, p99 = best(results)
        summary[f"max_viewers_{mode}"] = top
        summary[f"p99_lag_ms_{mode}"] = f"{p99:.0f}"
    keys = ["max_viewers_inproc", "max_viewers_redis", "p99_lag_ms_inproc", "p99_lag_ms_redis"]
    print(" ".join(f"{key}={summary.get(key, 'nan')}" for key in keys))


if __name__ == "__main__":
    main()
