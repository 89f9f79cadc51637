"""From the go-live request to the post existing on the X emulator, over N broadcasts,
with a real Celery worker process and the emulator in its own process.

    .venv/bin/python bench/x_post.py [--broadcasts 30]

Starts its own emulator and worker on free ports with a temporary var dir (SQLite and
the embedded broker, as `make run`); set DATABASE_URL / REDIS_URL to measure on
PostgreSQL and Redis instead (the database must exist; it is migrated). Ends with:
post_p50_ms=... post_p95_ms=... posts=... duplicates=... post_calls=...

`duplicates`: posts beyond the first carrying the same watch URL (deleted ones included),
read from the emulator's timeline; `post_calls`: POST /2/tweets requests the emulator
served (its access log), refused ones included: more than `posts` means retries, or
second attempts that X's duplicate check stopped.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, free_port, percentile, wait


def start(args, log_path):
    log = open(log_path, "wb")  # noqa: SIM115 (lives as long as the process)
    return subprocess.Popen(
        args, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broadcasts", type=int, default=30)
    options = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="onair-bench-xpost-"))
    port = free_port()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "onair.settings",
            "ONAIR_VAR_DIR": str(var_dir),
            "X_EMULATOR_PORT": str(port),
            "X_AUTH_BASE": f"http://127.0.0.1:{port}",
            "X_API_BASE": f"http://127.0.0.1:{port}",
            "PUBLIC_URL": "http://127.0.0.1:8000",
            # One benchmark user goes live N times: lift the per-user hourly cap.
            "X_USER_POSTS_PER_HOUR": str(options.broadcasts + 1),
            "PYTHONUNBUFFERED": "1",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from allauth.socialaccount.models import SocialAccount, SocialToken
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import User
    from broadcast import posting
    from broadcast.models import Broadcast, XPost
    from xemulator.control import EmulatorControl

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    python = sys.executable
    emulator = start(
        [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "xemulator.asgi:application"],
        var_dir / "xemulator.log",
    )
    worker = start(
        [python, "-m", "celery", "-A", "onair", "worker", "--loglevel", "INFO",
         "--concurrency", "1", "--without-gossip", "--without-mingle",
         "--hostname", f"bench-{os.getpid()}@%h"],
        var_dir / "worker.log",
    )  # fmt: skip
    try:
        x = EmulatorControl(settings.X_API_BASE, settings.X_CLIENT_ID, settings.X_CLIENT_SECRET)
        wait(lambda: _up(x), 30, "the emulator")
        wait(lambda: b"ready." in (var_dir / "worker.log").read_bytes(), 60, "the worker")

        # A database of its own: start clean on a rerun (PostgreSQL keeps its rows).
        x.reset()
        User.objects.filter(username__startswith="x", handle="benchcaster").delete()
        x_user = x.create_user("benchcaster", name="Bench Caster")
        token = x.issue_token(x_user["id"])
        user = User.objects.create(
            username=f"x{x_user['id']}",
            x_id=x_user["id"],
            handle="benchcaster",
            display_name="Bench Caster",
            birth_date=date(1990, 1, 1),
        )
        account = SocialAccount.objects.create(
            user=user, provider="twitter_oauth2", uid=x_user["id"], extra_data=x_user
        )
        SocialToken.objects.create(
            account=account,
            token=token["access_token"],
            token_secret=token["refresh_token"],
            expires_at=timezone.now() + timedelta(hours=2),
        )

        latencies, markers = [], []
        for n in range(options.broadcasts):
            broadcast = Broadcast.objects.create(
                owner=user, title=f"Bench broadcast {n}", state=Broadcast.State.LIVE
            )
            marker = posting.watch_url(broadcast)
            markers.append(marker)
            started = time.perf_counter()
            posting.request_go_live_post(broadcast=broadcast)
            wait(
                lambda marker=marker: any(marker in p["text"] for p in x.tweets(x_user["id"])),
                30,
                f"post {n}",
            )
            latencies.append((time.perf_counter() - started) * 1000)

        wait(
            lambda: XPost.objects.filter(state=XPost.State.POSTED).count() == options.broadcasts,
            30,
            "every record to be marked posted",
        )
        made = x.tweets(x_user["id"])
        texts = [p["text"] for p in made if not p["deleted"]]
        duplicates = sum(max(0, count - 1) for count in _posts_per_marker(made, markers))
        post_calls = _post_calls(var_dir / "xemulator.log")
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        print(
            f"broadcasts: {options.broadcasts}, database: {settings.DATABASES['default']['ENGINE']}"
        )
        print(f"broker: {settings.CELERY_BROKER_URL.split(':')[0]}")
        print(f"go-live request -> post on the emulator: min {min(latencies):.0f} ms, "
              f"mean {statistics.mean(latencies):.0f} ms, max {max(latencies):.0f} ms")  # fmt: skip
        print(
            f"post_p50_ms={p50:.0f} post_p95_ms={p95:.0f} "
            f"posts={len(texts)} duplicates={duplicates} post_calls={post_calls}"
        )
    finally:
        for process in (worker, emulator):
            process.terminate()
        for process in (worker, emulator):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(var_dir, ignore_errors=True)


def _posts_per_marker(posts, markers):
    """How many posts (deleted ones included) carry each broadcast's watch URL, in the
    text or in a link X shortened."""

    def carries(post, marker):
        urls = (post.get("entities") or {}).get("urls") or []
        return marker in (post.get("text") or "") or any(
            marker in (url.get("expanded_url") or "") for url in urls
        )

    return [sum(carries(post, marker) for post in posts) for marker in markers]


def _post_calls(log_path):
    """POST /2/tweets requests in the emulator's (Daphne's) access log."""
    return sum(
        '"POST /2/tweets' in line for line in log_path.read_text(errors="replace").splitlines()
    )


def _up(x):
    try:
        x.tweets("0")
    except Exception as exc:  # connection refused until it listens; 404 once it does
        return "404" in str(exc) or "Not Found" in str(exc)
    return True


if __name__ == "__main__":
    main()
