"""Benchmark the creators list of the API: 100,000 creators, pages of 100 with their accounts and tags,
through the real server (gunicorn, PostgreSQL, token, DRF, cursor pages) against a bare Django view
that returns the same rows with `values()` in three queries, in the same run.

    .venv/bin/python bench/api_list.py [--creators 100000] [--pages 200] [--first-pages 50] [--no-fail]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); it creates and drops its own database,
crm_bench_api. Pages are fetched one at a time, the API's and the bare view's alternately, so both
see the same load. Target: the API serves at least half the bare view's pages per second, with a
median under 50 ms per page; below that the script exits 1 (unless --no-fail).
"""

import argparse
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "crm_bench_api"
PLATFORMS = ["instagram", "tiktok", "x", "youtube"]
TAGS = ["beauty", "skincare", "fitness", "travel", "food", "gaming", "parenting", "fashion", "tech", "wellness"]
PAGE_SIZE = 100
TARGET_RATIO, TARGET_MEDIAN_MS = 0.5, 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(creators: int) -> str:
    """Creators with two or three accounts and one or two tags each, by COPY; returns an API key."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from crm import services
    from crm.importer import insert_rows
    from crm.models import Creator, SocialAccount, Tag

    rng = random.Random(7)
    tag_ids = [tag.pk for tag in Tag.objects.bulk_create([Tag(name=name) for name in TAGS])]
    through = Creator.tags.through
    batch = 10_000
    for start in range(0, creators, batch):
        with transaction.atomic():
            people = [
                Creator(name=f"Creator {n}", email=f"creator{n}@example.com", country=rng.choice(["GB", "US", "DE"]),
                        language="en", status=rng.choice(["prospect", "active", "partner"]))
                for n in range(start, min(start + batch, creators))
            ]  # fmt: skip
            insert_rows(Creator, people)
            accounts, links = [], []
            for person in people:
                for platform in rng.sample(PLATFORMS, k=rng.choice([2, 3])):
                    handle = f"c{person.pk}_{platform}"
                    accounts.append(
                        SocialAccount(creator_id=person.pk, platform=platform, handle=handle,
                                      follower_count=rng.randint(1_000, 2_000_000),
                                      profile_url=f"https://example.com/{platform}/{handle}")
                    )  # fmt: skip
                for tag_id in rng.sample(tag_ids, k=rng.choice([1, 2])):
                    links.append(through(creator_id=person.pk, tag_id=tag_id))
            insert_rows(SocialAccount, accounts)
            insert_rows(through, links)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    return services.create_api_token(user, name="bench", role="admin")[1]


def timed_get(session, url, **kwargs) -> tuple[float, dict]:
    started = time.perf_counter()
    response = session.get(url, timeout=30, **kwargs)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()


def same_rows(api: dict, bare: dict) -> bool:
    def rows(page):
        return [(r["id"], sorted(a["id"] for a in r["accounts"]), sorted(r["tags"])) for r in page["results"]]

    return rows(api) == rows(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=200, help="pages walked through the `next` cursors")
    parser.add_argument("--first-pages", type=int, default=50, help="times the first page is fetched again")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even below the target")
    args = parser.parse_args()

    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{DATABASE}"')
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{DATABASE}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_ROOT_URLCONF": "bench.urls",
        "LOG_LEVEL": "WARNING",
        "API_RATE_LIMIT": "1000000/min",  # throttling counted, never refusing
    }
    os.environ.update(env)
    server = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        started = time.perf_counter()
        key = seed(args.creators)
        seed_seconds = time.perf_counter() - started
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
             "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # until the server answers (slowly, on a busy machine)
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        session = requests.Session()
        auth = {"Authorization": f"Token {key}"}
        first_api = f"{base}/api/v1/creators/?page_size={PAGE_SIZE}"
        first_bare = f"{base}/bench/bare/creators/?page_size={PAGE_SIZE}"
        for _ in range(10):  # warm up both paths in both workers
            timed_get(session, first_api, headers=auth)
            timed_get(session, first_bare)
        api, bare, mismatches = [], [], 0
        for _ in range(args.first_pages):
            api.append(timed_get(session, first_api, headers=auth)[0])
            bare.append(timed_get(session, first_bare)[0])
        api_url, bare_url = first_api, first_bare
        for _ in range(args.pages):
            api_seconds, api_page = timed_get(session, api_url, headers=auth)
            bare_seconds, bare_page = timed_get(session, bare_url)
            api.append(api_seconds)
            bare.append(bare_seconds)
            mismatches += not same_rows(api_page, bare_page)
            if not api_page["next"] or not bare_page["next"]:
                break
            api_url, bare_url = api_page["next"], urljoin(base, bare_page["next"])
    finally:
        if server:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')

    def summary(latencies):
        ordered = sorted(latencies)
        return (
            len(latencies) / sum(latencies),
            1000 * statistics.median(latencies),
            1000 * ordered[len(ordered) * 95 // 100],
        )

    api_rate, api_median, api_p95 = summary(api)
    bare_rate, bare_median, bare_p95 = summary(bare)
    ratio = api_rate / bare_rate
    print(
        f"creators: {args.creators:,} (seeded in {seed_seconds:.0f} s); {len(api)} pages of {PAGE_SIZE} each "
        f"({args.first_pages} first pages, then the cursors); gunicorn -w {args.workers}; PostgreSQL; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"API GET /api/v1/creators/:  {api_rate:6.1f} pages/s  median {api_median:6.2f} ms  p95 {api_p95:6.2f} ms")
    print(f"bare view with values():    {bare_rate:6.1f} pages/s  median {bare_median:6.2f} ms  p95 {bare_p95:6.2f} ms")
    print(
        f"ratio API/bare: {ratio:.2f} (target >= {TARGET_RATIO}); pages with other rows than the bare view: {mismatches}"
    )
    below = ratio < TARGET_RATIO or api_median >= TARGET_MEDIAN_MS or mismatches
    if below:
        print(f"BELOW TARGET: ratio >= {TARGET_RATIO}, median < {TARGET_MEDIAN_MS} ms and the same rows")
    sys.exit(1 if below and not args.no_fail else 0)


if __name__ == "__main__":
    main()
