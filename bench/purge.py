"""The retention purge under load: an archive of old chat (messages and their events in
many ended broadcasts) purged on PostgreSQL while a live room posts R messages/s to N
viewers over real chat sockets (one Daphne process; Redis pub/sub when a Redis URL is
given, else the in-process hub).

    .venv/bin/python bench/purge.py [--database-url postgres://postgres@127.0.0.1:5432/postgres]
        [--redis-url URL] [--messages 1000000] [--per-broadcast 500] [--viewers 200]
        [--rate 50] [--batch-size N]

The archive is bulk-loaded with COPY into a database of its own (onair_bench_purge on the
server of --database-url, dropped at the end). Chat latency is the sender's clock at send
to the viewer's receive (same machine); `lost` counts message x viewer deliveries missing
once the room has drained (a message the server refused out loud, with an error frame,
is counted apart, not as lost). Viewers follow the protocol: a `resync` is answered with
a `sync`, so a late delivery is late, not lost.
Ends with: purge_rows_per_s chat_p99_ms_during_purge lost.
"""

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
from array import array
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Daphne, RawWebSocket, machine_times, percentile, setup_site

DB_NAME = "onair_bench_purge"
ARCHIVE_AGE_DAYS = 30
# Well under the chat socket's 20 frames/s guard (bursts of 40), even when a stalled load
# generator catches up on its schedule.
PER_SENDER_RATE = 5
WARMUP_S = 15  # the room settles (connections, first frames) before the purge starts
AFTER_S = 3
DRAIN_S = 5
COPY_ROWS = 20_000
TIMELINE_S = 10
BEFORE_S = 10
TOKEN = re.compile(r"p(\d+):(\d+\.\d+)")


# --- the database ----------------------------------------------------------------------
def database_urls(server_url):
    """(maintenance database URL, bench database URL) on the server of `server_url`."""
    parts = urlparse(server_url)
    return urlunparse(parts._replace(path="/postgres")), urlunparse(
        parts._replace(path=f"/{DB_NAME}")
    )


def recreate_database(admin_url, drop_only=False):
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def load_archive(*, messages, per_broadcast):
    """Ended broadcasts ARCHIVE_AGE_DAYS old, each with its room and per_broadcast
    messages, every message with the event that showed it: COPY, in chunks."""
    from django.db import connection, transaction

    from accounts.models import User
    from broadcast.models import Broadcast
    from chat.models import ChatRoom

    ended = datetime.now(UTC) - timedelta(days=ARCHIVE_AGE_DAYS)
    authors = User.objects.bulk_create(
        User(username=f"archive{i}", handle=f"archive{i}", display_name=f"Archive {i}")
        for i in range(50)
    )
    count = -(-messages // per_broadcast)
    broadcasts = Broadcast.objects.bulk_create(
        Broadcast(
            owner=authors[i % len(authors)],
            title=f"Archived show {i}",
            state=Broadcast.State.ENDED,
            started_at=ended - timedelta(hours=1),
            ended_at=ended,
            end_reason="owner",
        )
        for i in range(count)
    )
    ChatRoom.objects.bulk_create(ChatRoom(broadcast=b, last_seq=per_broadcast) for b in broadcasts)
    ts = ended.isoformat()
    message_sql = (
        "COPY chat_chatmessage (id, room_id, author_id, text, status, held_reason, post_to_x,"
        " seq, created_at) FROM STDIN"
    )
    event_sql = "COPY chat_chatevent (id, room_id, seq, kind, payload, created_at) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        for start in range(0, messages, COPY_ROWS):
            message_rows, event_rows = [], []
            for pk in range(start + 1, min(messages, start + COPY_ROWS) + 1):
                room = broadcasts[(pk - 1) // per_broadcast].pk
                seq = (pk - 1) % per_broadcast + 1
                author = authors[pk % len(authors)]
                text = f"archived message {pk}: nothing here should outlive the purge"
                message_rows.append(
                    f"{pk}\t{room}\t{author.pk}\t{text}\tvisible\t\tf\t{seq}\t{ts}\n"
                )
                payload = json.dumps(
                    {
                        "type": "message",
                        "id": pk,
                        "user": {"id": author.pk, "handle": author.handle, "name": "Archive"},
                        "text": text,
                        "ts": ts,
                    },
                    separators=(",", ":"),
                )
                event_rows.append(f"{pk}\t{room}\t{seq}\tmessage\t{payload}\t{ts}\n")
            with raw.copy(message_sql) as copy:
                copy.write("".join(message_rows))
            with raw.copy(event_sql) as copy:
                copy.write("".join(event_rows))
        for table in ("chat_chatmessage", "chat_chatevent"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: E501
            )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return count


# --- the live room (a child process: its own event loop and CPU) -----------------------
def load_process(conn, url, ws_url, slug, cookie, viewers, rate):
    asyncio.run(_load_main(conn, url, ws_url, slug, cookie, viewers, rate))


class Viewer:
    def __init__(self, load):
        self.load = load
        self.last_seq = 0
        self.joined = False
        self.socket = None

    def on_frame(self, opcode, payload, now):
        frame = json.loads(payload)
        kind = frame.get("type")
        if kind == "history":
            self.last_seq = frame["last_seq"]
            self.joined = True
        elif kind == "events":
            for event in frame["events"]:
                if event["seq"] <= self.last_seq:
                    continue
                self.last_seq = event["seq"]
                match = TOKEN.match(event.get("text") or "")
                if match:
                    self.load.delivered(int(match[1]), float(match[2]), now)
        elif kind == "resync":
            self.load.resyncs += 1
            self.socket.send(json.dumps({"type": "sync", "after_seq": self.last_seq}))


class Load:
    def __init__(self):
        self.sent_at = array("d")  # by message index
        self.deliveries = array("l")  # by message index
        self.lat_sent = array("d")
        self.lat_ms = array("d")
        self.acked = bytearray()  # by message index: 1 stored (ack), 2 refused (error)
        self.errors = {}
        self.resyncs = 0
        # time.monotonic() at receive -> wall clock, to compare with the sender's stamp.
        self.offset = time.time() - time.monotonic()

    def delivered(self, index, sent, now):
        self.deliveries[index] += 1
        self.lat_sent.append(sent)
        self.lat_ms.append((now + self.offset - sent) * 1000)

    def on_sender_frame(self, opcode, payload, now):
        frame = json.loads(payload)
        ref = frame.get("ref")
        if ref is None or frame.get("type") not in ("ack", "error"):
            return
        if frame["type"] == "ack":
            self.acked[int(ref)] = 1
        else:
            self.acked[int(ref)] = 2
            self.errors[frame.get("code")] = self.errors.get(frame.get("code"), 0) + 1


async def _load_main(conn, url, ws_url, slug, cookie, viewer_count, rate):
    loop = asyncio.get_running_loop()
    load = Load()
    path = f"/ws/b/{slug}/chat/"
    viewers = [Viewer(load) for _ in range(viewer_count)]
    for start in range(0, viewer_count, 20):
        group = viewers[start : start + 20]
        sockets = await asyncio.gather(
            *(RawWebSocket.connect(ws_url, path, origin=url, on_frame=v.on_frame) for v in group)
        )
        for viewer, socket in zip(group, sockets, strict=True):
            viewer.socket = socket
    deadline = time.monotonic() + 120
    while not all(v.joined for v in viewers) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    senders = [
        await RawWebSocket.connect(
            ws_url, path, origin=url, headers={"Cookie": cookie}, on_frame=load.on_sender_frame
        )
        for _ in range(max(1, -(-rate // PER_SENDER_RATE)))
    ]
    conn.send(("ready", sum(v.joined for v in viewers)))
    await loop.run_in_executor(None, conn.recv)  # start
    stop = asyncio.Event()

    async def send_all():
        began = time.monotonic()
        index = 0
        while not stop.is_set():
            delay = began + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent = time.time()
            load.sent_at.append(sent)
            load.deliveries.append(0)
            load.acked.append(0)
            token = f"p{index}:{sent:.6f}"
            frame = {"type": "send", "text": token, "ref": str(index)}
            senders[index % len(senders)].send(json.dumps(frame))
            index += 1

    lags = array("d")

    async def watch_own_loop():
        # How late this load generator's own event loop runs: its lag is in every figure.
        while not stop.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.01)
            lags.append((time.monotonic() - before - 0.01) * 1000)

    sending = asyncio.create_task(send_all())
    watching = asyncio.create_task(watch_own_loop())
    await loop.run_in_executor(None, conn.recv)  # stop
    stop.set()
    await asyncio.gather(sending, watching)
    # Drained: every answer in and every stored message delivered, or nothing new for
    # DRAIN_S seconds (what has not arrived by then counts as lost).
    last, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < DRAIN_S:
        await asyncio.sleep(0.25)
        stored = load.acked.count(1)
        done = sum(load.deliveries)
        if 0 not in load.acked and done == stored * viewer_count:
            break
        if done != last:
            last, quiet_since = done, time.monotonic()
    conn.send(
        {
            "sent_at": load.sent_at.tobytes(),
            "deliveries": load.deliveries.tobytes(),
            "lat_sent": load.lat_sent.tobytes(),
            "lat_ms": load.lat_ms.tobytes(),
            "acked": bytes(load.acked),
            "errors": load.errors,
            "resyncs": load.resyncs,
            "loadgen_lag_p99_ms": percentile(lags, 99),
            "viewers": sum(not v.socket.closed.done() for v in viewers),
        }
    )
    for socket in [*senders, *(v.socket for v in viewers)]:
        socket.close()


def unpack(report):
    arrays = {}
    for key, code in (("sent_at", "d"), ("deliveries", "l"), ("lat_sent", "d"), ("lat_ms", "d")):
        values = array(code)
        values.frombytes(report[key])
        arrays[key] = values
    return arrays


# --- the run ---------------------------------------------------------------------------
def run(args, var_dir, bench_url):
    env = {"DATABASE_URL": bench_url, "CACHE_PREFIX": f"purgebench{os.getpid()}"}
    if args.redis_url:
        env.update(REDIS_URL=args.redis_url, CHANNEL_PREFIX=f"purgebench{os.getpid()}")
    user, session_key = setup_site(var_dir, **env)
    from django.db import connection
    from django.utils import timezone

    from broadcast.models import Broadcast
    from chat.models import ChatRoom
    from safety.retention import purge_expired

    began = time.monotonic()
    broadcasts = load_archive(messages=args.messages, per_broadcast=args.per_broadcast)
    print(
        f"archive: {args.messages} messages and as many events in {broadcasts} ended "
        f"broadcasts, loaded in {time.monotonic() - began:.1f} s",
        flush=True,
    )
    live = Broadcast.objects.create(
        owner=user, title="live", state=Broadcast.State.LIVE, started_at=timezone.now()
    )
    ChatRoom.objects.create(broadcast=live)
    connection.close()

    server = Daphne(var_dir, "daphne")
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    load = context.Process(
        target=load_process,
        args=(
            child,
            server.url,
            server.ws_url,
            live.slug,
            f"sessionid={session_key}",
            args.viewers,
            args.rate,
        ),
        daemon=True,
    )
    load.start()
    try:
        _, joined = parent.recv()
        print(f"live room: {joined}/{args.viewers} viewers joined", flush=True)
        parent.send("start")
        time.sleep(WARMUP_S)
        machine_before = machine_times()
        daphne_before = server.cpu_seconds()
        purge_from = time.time()
        entry = purge_expired(batch_size=args.batch_size)
        purge_to = time.time()
        busy, total = (a - b for a, b in zip(machine_times(), machine_before, strict=True))
        daphne = 100 * (server.cpu_seconds() - daphne_before) / (purge_to - purge_from)
        time.sleep(AFTER_S)
        parent.send("stop")
        report = parent.recv()
        load.join(10)
    finally:
        server.stop()
        connection.close()
    return entry, purge_from, purge_to, report, 100 * busy / total * os.cpu_count(), daphne


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL server (its database is not touched: the bench makes its own)",
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--per-broadcast", type=int, default=500)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("needs PostgreSQL: pass --database-url postgres://...")

    admin_url, bench_url = database_urls(args.database_url)
    recreate_database(admin_url)
    try:
        with tempfile.TemporaryDirectory(prefix="onair-purge-bench-") as var_dir:
            entry, purge_from, purge_to, report, machine, daphne = run(args, var_dir, bench_url)
    finally:
        recreate_database(admin_url, drop_only=True)

    counts = entry.details["counts"]
    rows = sum(counts.values())
    seconds = purge_to - purge_from
    data = unpack(report)
    during = [
        ms
        for sent, ms in zip(data["lat_sent"], data["lat_ms"], strict=True)
        if purge_from <= sent <= purge_to
    ]
    # The same room just before, once settled: what the purge is compared with.
    before = [
        ms
        for sent, ms in zip(data["lat_sent"], data["lat_ms"], strict=True)
        if purge_from - BEFORE_S <= sent < purge_from
    ]
    sent = len(data["sent_at"])
    acked = report["acked"]
    # Refused messages were refused out loud (an error frame), not lost: counted apart.
    # Lost: deliveries missing for stored messages, and messages never answered.
    lost = sum(
        args.viewers - delivered
        for delivered, answer in zip(data["deliveries"], acked, strict=True)
        if answer != 2
    )
    refused = acked.count(2)
    transactions = sum(entry.details["batches"].values())
    print(f"purge: {counts} in {transactions} transactions, {seconds:.1f} s")
    print(
        f"chat: {sent} messages at {args.rate}/s to {args.viewers} viewers "
        f"({report['viewers']} still connected): stored {acked.count(1)}, refused {refused} "
        f"{report['errors'] or ''}, unanswered {acked.count(0)}, resyncs {report['resyncs']}; "
        f"p50/p99 in the {BEFORE_S} s before the purge "
        f"{percentile(before, 50):.1f}/{percentile(before, 99):.1f} ms, "
        f"during {percentile(during, 50):.1f}/{percentile(during, 99):.1f} ms "
        f"({len(during)} deliveries); during the purge: Daphne CPU {daphne:.0f}%, machine "
        f"busy {machine:.0f}%/{100 * os.cpu_count()}% (other work included); the load "
        f"generator's own loop lag p99 {report['loadgen_lag_p99_ms']:.0f} ms"
    )
    timeline = {}
    for sent, ms in zip(data["lat_sent"], data["lat_ms"], strict=True):
        timeline.setdefault(int((sent - purge_from) // TIMELINE_S), []).append(ms)
    print(
        f"p99 per {TIMELINE_S} s from the purge's start (ms): "
        + " ".join(
            f"{k * TIMELINE_S:+d}s:{percentile(v, 99):.0f}" for k, v in sorted(timeline.items())
        )
    )
    print(
        f"purge_rows_per_s={rows / seconds:.0f} "
        f"chat_p99_ms_during_purge={percentile(during, 99):.1f} lost={lost}"
    )


if __name__ == "__main__":
    main()
