"""Benchmark webhook ingestion: signed Instagram deliveries through the real server (gunicorn,
PostgreSQL, verification, storage, enqueueing) against a bare Django view answering 200.

    .venv/bin/python bench/webhook_ingest.py [--deliveries 2000] [--workers 2]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); it creates and drops its own database.
Target: a signed webhook is verified, stored and answered in under 20 ms on average.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-app-secret"
WARM_UP = 50  # requests on each path before the clock starts


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def delivery(n: int) -> bytes:
    now = int(time.time() * 1000)
    return json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": "17841400000000001",
                    "time": now,
                    "messaging": [
                        {
                            "sender": {"id": f"9000{n}"},
                            "recipient": {"id": "17841400000000001"},
                            "timestamp": now,
                            "message": {"mid": f"bench-mid-{n}", "text": "Hi! #YesAcme"},
                        }
                    ],
                }
            ],
        }
    ).encode()


def timed_posts(session, url, bodies, headers_of) -> list[float]:
    """The latency of each POST, from sending to the answer read (the headers, such as a delivery's
    signature, are made before the clock starts: the server is measured, not the client)."""
    latencies = []
    for body in bodies:
        headers = headers_of(body)
        started = time.perf_counter()
        response = session.post(url, data=body, headers=headers, timeout=10)
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    return latencies


def durable_commit_ms(url: str, rounds: int = 200) -> float:
    """The mean time of one small committed insert on this PostgreSQL: the disk flush every stored
    delivery must wait for before it is answered (the floor under the webhook's figure)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_flush_probe (id serial, b bytea)")  # not TEMP: those skip the WAL
        started = time.perf_counter()
        for _ in range(rounds):
            conn.execute("INSERT INTO bench_flush_probe (b) VALUES ('x')")
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_flush_probe")
    return 1000 * elapsed / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--burst", type=int, default=50, help="then this many deliveries at once")
    args = parser.parse_args()
    from outreach.webhooks.meta import sign

    name = f"bench_webhook_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ROOT_URLCONF": "bench.urls",
        "META_APP_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
             "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:  # not listening yet, or its first answer is slow
                time.sleep(0.1)
        session = requests.Session()
        bodies = [delivery(n) for n in range(args.deliveries)]

        def signed(body):
            return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)}

        # Warm up both paths alike: each worker's first delivery opens its database connection and
        # imports what only the receiver uses, which the bare view never pays.
        warm_up = [delivery(args.deliveries + args.burst + n) for n in range(WARM_UP)]
        timed_posts(session, f"{base}/webhooks/meta/", warm_up, signed)
        timed_posts(session, f"{base}/bench/bare/", warm_up, lambda body: {"Content-Type": "application/json"})
        # Interleaved in chunks, so both paths see the same load from whoever else shares the cores.
        webhook, bare = [], []
        for start in range(0, len(bodies), 100):
            chunk = bodies[start : start + 100]
            webhook += timed_posts(session, f"{base}/webhooks/meta/", chunk, signed)
            bare += timed_posts(
                session, f"{base}/bench/bare/", chunk, lambda body: {"Content-Type": "application/json"}
            )
        commit_ms = durable_commit_ms(env["DATABASE_URL"])
        burst_bodies = [delivery(args.deliveries + n) for n in range(args.burst)]

        def one(body):  # a connection of its own, as separate platform servers would
            with requests.Session() as own:
                return timed_posts(own, f"{base}/webhooks/meta/", [body], signed)[0]

        burst_started = time.perf_counter()
        with ThreadPoolExecutor(args.burst) as pool:
            burst = list(pool.map(one, burst_bodies))
        burst_seconds = time.perf_counter() - burst_started
        stored = (
            psycopg.connect(env["DATABASE_URL"]).execute("SELECT count(*) FROM outreach_inboundevent").fetchone()[0]
        )
    finally:
        if server:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def summary(latencies):
        ordered = sorted(latencies)
        return (
            len(latencies) / sum(latencies),
            1000 * sum(latencies) / len(latencies),
            1000 * ordered[len(ordered) * 95 // 100],
        )

    webhook_rate, webhook_mean, webhook_p95 = summary(webhook)
    bare_rate, bare_mean, bare_p95 = summary(bare)
    print(
        f"deliveries: {args.deliveries:,} signed Instagram webhooks, one at a time; gunicorn -w {args.workers}; PostgreSQL"
    )
    print(
        f"webhook (verify + store + enqueue): {webhook_rate:7.0f}/s  mean {webhook_mean:5.2f} ms  p95 {webhook_p95:5.2f} ms"
    )
    print(f"bare Django view answering 200:     {bare_rate:7.0f}/s  mean {bare_mean:5.2f} ms  p95 {bare_p95:5.2f} ms")
    ordered = sorted(burst)
    print(
        f"burst of {args.burst} at once: all answered in {burst_seconds * 1000:.0f} ms; "
        f"p50 {1000 * ordered[len(ordered) // 2]:.0f} ms  p99 {1000 * ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)]:.0f} ms"
    )
    print(f"one durable commit on this PostgreSQL (the floor of a stored delivery): {commit_ms:.2f} ms")
    print(f"ratio webhook/bare: {webhook_rate / bare_rate:.2f}; stored {stored} events (target ratio >= 0.5)")


if __name__ == "__main__":
    main()
