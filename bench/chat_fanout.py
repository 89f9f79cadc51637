"""Chat fan-out: N viewers in one room, senders at R messages/s in total, end to end over
loopback, against OnAir's chat (/ws/b/<slug>/chat/: stored, numbered, hub fan-out with
per-room batching) and, in the same run on the same Daphne process, against the
Channels-tutorial consumer (bench/chat_baseline.py: RedisChannelLayer group_send per
message, nothing stored).

    .venv/bin/python bench/chat_fanout.py [--viewers 1000] [--seconds 8]
        [--rates 25,50,100,200,400] [--baseline-rates 0.25,0.5,1,2,5,10]
        [--load-processes 2] [--web-processes 1] [--redis-url URL]

Each step: delivered fraction (message x viewer deliveries / sent x N), p50/p99 latency
(sender's clock at send -> viewer's receive, same machine), Daphne CPU (% of one core),
the senders' ack latency (stored and committed). A rate passes when p99 < 200 ms and
>= 99.9 % is delivered; max_rate is the highest passing rate. Viewers are read by
--load-processes child processes (the generator's own event-loop lag is printed: it is
part of every latency); machine_busy is what the whole machine (other work included)
used meanwhile. Needs Redis (REDIS_URL or --redis-url): the baseline needs its channel
layer and OnAir runs in its production mode (Redis pub/sub hub). SQLite in a temporary
var dir. Ends with: p50_ms p99_ms delivered_pct (N viewers at R=100), max_rate,
baseline_max_rate, ratio.
"""

import argparse
import asyncio
import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    Daphne,
    machine_times,
    percentile,
    process_cpu_seconds,
    setup_site,
)

P99_BOUND_MS = 200
DELIVERED_BOUND = 99.9
PER_SENDER_RATE = 15  # under the chat socket's 20 frames/s guard
DRAIN_SECONDS = 2.5
TOKEN = re.compile(r"b(\d+):(\d+):(\d+\.\d+)")


def prepare_site(var_dir, redis_url):
    """A migrated SQLite site, a live broadcast and its owner's session cookie."""
    user, session_key = setup_site(
        var_dir, REDIS_URL=redis_url, CHANNEL_PREFIX=f"chatbench{os.getpid()}"
    )
    from broadcast.models import Broadcast

    broadcast = Broadcast.objects.create(owner=user, title="bench", state="live")
    return broadcast.slug, f"sessionid={session_key}"


class Cluster:
    """One or more Daphne processes serving the same site (Redis between them)."""

    def __init__(self, var_dir, processes):
        self.servers = [
            Daphne(var_dir, f"daphne{i}", app="bench.chat_baseline:application")
            for i in range(processes)
        ]
        first = self.servers[0]
        self.url, self.ws_url, self.log = first.url, first.ws_url, first.log

    def cpu_seconds(self):
        return sum(server.cpu_seconds() for server in self.servers)

    def stop(self):
        for server in self.servers:
            server.stop()


class Load:
    """Viewers and senders for one mode ("onair" or "baseline")."""

    def __init__(self, mode, server, slug, cookie):
        self.mode = mode
        self.server = server
        self.path = f"/ws/b/{slug}/chat/" if mode == "onair" else f"/ws/bench/baseline/{slug}/"
        self.cookie = cookie
        self.sockets = []
        self.readers = []
        self.deliveries = {}  # step -> count
        self.latencies = {}  # step -> [ms]
        self.acks = {}  # step -> [ms] from send to the sender's ack (storing included)
        self.joined = 0

    async def connect(self, count, *, as_owner=False, count_deliveries=True):
        import websockets

        headers = {"Cookie": self.cookie} if as_owner else {}
        opened = []

        async def one():
            ws = await websockets.connect(
                self.server.ws_url + self.path,
                origin=self.server.url,
                additional_headers=headers,
                compression=None,
                max_size=None,
                open_timeout=60,
                ping_interval=None,
            )
            opened.append(ws)
            self.readers.append(asyncio.create_task(self.read(ws, count_deliveries)))

        # Gently: the baseline's channel layer has a 100-connection Redis pool per process.
        for start in range(0, count, 10):
            await asyncio.gather(*(one() for _ in range(min(10, count - start))))
        self.sockets.extend(opened)
        if self.mode == "onair":
            # The handshake ends before the server has sent the history: wait for it,
            # so that joining is not measured as delivery latency.
            deadline = time.monotonic() + 120
            while self.joined < len(self.sockets) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        return opened

    async def read(self, ws, count_deliveries):
        import websockets

        deliveries, latencies = self.deliveries, self.latencies
        try:
            async for frame in ws:
                if frame.startswith('{"type":"history"'):
                    self.joined += 1
                    continue
                if not count_deliveries:
                    if frame.startswith('{"type":"ack"'):
                        for step, _, sent in TOKEN.findall(frame):
                            self.acks.setdefault(int(step), []).append(
                                (time.time() - float(sent)) * 1000
                            )
                    continue
                now = time.time()
                for step, _, sent in TOKEN.findall(frame):
                    step = int(step)
                    deliveries[step] = deliveries.get(step, 0) + 1
                    latencies.setdefault(step, []).append((now - float(sent)) * 1000)
        except websockets.ConnectionClosed:
            pass

    def frame(self, step, index):
        token = f"b{step}:{index}:{time.time():.6f}"
        if self.mode == "onair":
            return json.dumps({"type": "send", "text": token, "ref": token})
        return json.dumps({"message": token})

    async def close(self):
        for ws in self.sockets:
            await ws.close()
        for reader in self.readers:
            reader.cancel()


class Endpoint:
    def __init__(self, url, ws_url):
        self.url, self.ws_url = url, ws_url


def viewer_process(conn, mode, url, ws_url, slug, count):
    """One load-generator process holding `count` viewers: the viewers' reading is
    spread over processes so that the generator's own lag stays out of the figures."""
    asyncio.run(_viewer_main(conn, mode, Endpoint(url, ws_url), slug, count))


async def _viewer_main(conn, mode, endpoint, slug, count):
    loop = asyncio.get_running_loop()
    load = Load(mode, endpoint, slug, cookie=None)
    await load.connect(count)
    conn.send(("ready", count))
    while True:
        command, step = await loop.run_in_executor(None, conn.recv)
        if command == "report":
            conn.send((load.deliveries.pop(step, 0), load.latencies.pop(step, [])))
        else:
            await load.close()
            conn.send(("closed", None))
            return


class Viewers:
    """N viewers in `processes` child processes."""

    def __init__(self, mode, cluster, slug, count, processes):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipes, self.procs = [], []
        for index in range(processes):
            share = count // processes + (1 if index < count % processes else 0)
            server = cluster.servers[index % len(cluster.servers)]
            parent, child = context.Pipe()
            proc = context.Process(
                target=viewer_process,
                args=(child, mode, server.url, server.ws_url, slug, share),
                daemon=True,
            )
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    async def _ask(self, pipe, message):
        loop = asyncio.get_running_loop()
        if message is not None:
            pipe.send(message)
        return await loop.run_in_executor(None, pipe.recv)

    async def ready(self):
        await asyncio.gather(*(self._ask(pipe, None) for pipe in self.pipes))

    async def report(self, step):
        answers = await asyncio.gather(*(self._ask(p, ("report", step)) for p in self.pipes))
        return sum(a[0] for a in answers), [ms for a in answers for ms in a[1]]

    def cpu_seconds(self):
        return sum(process_cpu_seconds(proc.pid) for proc in self.procs)

    async def close(self):
        await asyncio.gather(*(self._ask(p, ("close", None)) for p in self.pipes))
        for proc in self.procs:
            proc.join(10)


async def run_step(load, viewers_group, senders, step, rate, seconds, viewers):
    per_sender = rate / len(senders)
    sent = [0]

    async def send_from(ws, offset):
        start = time.monotonic() + offset / rate
        k = 0
        while True:
            at = start + k / per_sender
            if at - start >= seconds:
                return
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(load.frame(step, sent[0]))
            sent[0] += 1
            k += 1

    lags = []
    measuring = [True]

    async def watch_own_loop():
        # How late this load generator's own event loop runs: its lag is in every figure.
        while measuring[0]:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append((time.monotonic() - before - 0.01) * 1000)

    watcher = asyncio.create_task(watch_own_loop())
    machine_before = machine_times()
    cpu_before = load.server.cpu_seconds()
    own_before = time.process_time()
    group_before = viewers_group.cpu_seconds()
    began = time.monotonic()
    await asyncio.gather(*(send_from(ws, i) for i, ws in enumerate(senders)))
    expected = sent[0] * viewers
    await asyncio.sleep(DRAIN_SECONDS)  # later than this counts as lost
    elapsed = time.monotonic() - began
    measuring[0] = False
    await watcher
    cpu = (load.server.cpu_seconds() - cpu_before) / elapsed * 100
    busy, total = (
        after - before for after, before in zip(machine_times(), machine_before, strict=True)
    )
    machine = 100 * busy / total * os.cpu_count()
    own_cpu = (
        (time.process_time() - own_before + viewers_group.cpu_seconds() - group_before)
        / elapsed
        * 100
    )
    count, latencies = await viewers_group.report(step)
    delivered = 100 * count / expected if expected else 0.0
    result = {
        "rate": rate,
        "sent": sent[0],
        "delivered_pct": min(delivered, 100.0),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "cpu_pct": cpu,
        "machine_busy_pct": machine,
        "loadgen_cpu_pct": own_cpu,
        "ack_p50_ms": percentile(load.acks.get(step, []), 50),
        "loadgen_lag_p99_ms": percentile(lags, 99),
    }
    result["ok"] = result["p99_ms"] < P99_BOUND_MS and result["delivered_pct"] >= DELIVERED_BOUND
    await asyncio.sleep(1.5)  # let the room go quiet before the next step
    return result


async def run_mode(
    mode, server, slug, cookie, viewers, rates, seconds, first_step, processes, measure_up_to=0
):
    group = Viewers(mode, server, slug, viewers, processes)
    await group.ready()
    load = Load(mode, server, slug, cookie)
    results = []
    for offset, rate in enumerate(rates):
        senders = await load.connect(
            max(1, math.ceil(rate / PER_SENDER_RATE)), as_owner=True, count_deliveries=False
        )
        await asyncio.sleep(1)
        result = await run_step(load, group, senders, first_step + offset, rate, seconds, viewers)
        for ws in senders:
            await ws.close()
        results.append(result)
        print(
            f"{mode:8} N={viewers} R={rate:g}/s sent={result['sent']:5} "
            f"delivered={result['delivered_pct']:6.2f}% p50={result['p50_ms']:8.1f} ms "
            f"p99={result['p99_ms']:8.1f} ms daphne_cpu={result['cpu_pct']:5.1f}% "
            f"loadgen_cpu={result['loadgen_cpu_pct']:5.1f}% "
            f"loadgen_lag_p99={result['loadgen_lag_p99_ms']:.0f} ms "
            f"ack_p50={result['ack_p50_ms']:.1f} ms "
            f"machine_busy={result['machine_busy_pct']:.0f}%/{100 * os.cpu_count()}% "
            f"{'ok' if result['ok'] else 'FAIL'}",
            flush=True,
        )
        # Stop at the edge (a failure after a pass, or two failures in a row), but not
        # before `measure_up_to`: the summary always reports R=100.
        failed = not result["ok"]
        passed_before = any(r["ok"] for r in results[:-1])
        two_in_a_row = len(results) >= 2 and not results[-2]["ok"]
        if failed and (passed_before or two_in_a_row) and rate >= measure_up_to:
            break
    await load.close()
    await group.close()
    return results


def max_passing(results):
    passing = [r["rate"] for r in results if r["ok"]]
    return max(passing) if passing else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rates", default="25,50,100,200,400")
    parser.add_argument("--baseline-rates", default="0.25,0.5,1,2,5,10")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--load-processes", type=int, default=2)
    parser.add_argument("--web-processes", type=int, default=1)
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("needs Redis: set REDIS_URL or pass --redis-url")
    rates = [float(r) for r in args.rates.split(",")]
    baseline_rates = [float(r) for r in args.baseline_rates.split(",")]

    with tempfile.TemporaryDirectory(prefix="onair-chat-bench-") as var_dir:
        slug, cookie = prepare_site(var_dir, args.redis_url)
        server = Cluster(var_dir, args.web_processes)
        try:
            onair = asyncio.run(
                run_mode(
                    "onair",
                    server,
                    slug,
                    cookie,
                    args.viewers,
                    rates,
                    args.seconds,
                    0,
                    args.load_processes,
                    measure_up_to=100,
                )
            )
            baseline = asyncio.run(
                run_mode(
                    "baseline",
                    server,
                    slug,
                    cookie,
                    args.viewers,
                    baseline_rates,
                    args.seconds,
                    100,
                    args.load_processes,
                )
            )
        except BaseException:
            server.log.flush()
            log = Path(server.log.name).read_text(errors="replace")
            print(
                "\n".join(x for x in log.splitlines() if "WSCONN" not in x and "WSDISC" not in x)[
                    -4000:
                ],
                file=sys.stderr,
            )
            raise
        finally:
            server.stop()

    at_100 = next((r for r in onair if r["rate"] == 100), None)
    max_rate, baseline_max = max_passing(onair), max_passing(baseline)
    ratio = max_rate / baseline_max if baseline_max else float("inf")
    # When the baseline passes at no rate tried, the ratio is at least this.
    lower_bound = max_rate / min(baseline_rates) if not baseline_max else ratio
    p50, p99, delivered = (
        (at_100["p50_ms"], at_100["p99_ms"], at_100["delivered_pct"])
        if at_100
        else (float("nan"),) * 3
    )
    print(
        f"p50_ms={p50:.1f} p99_ms={p99:.1f} delivered_pct={delivered:.2f} "
        f"max_rate={max_rate:g} baseline_max_rate={baseline_max:g} ratio={ratio:.1f} "
        f"ratio_lower_bound={lower_bound:.1f}"
    )


if __name__ == "__main__":
    main()
