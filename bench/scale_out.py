"""Benchmark scaling out: the same launch sent by one "machine" and then by two, against one
PostgreSQL and one Redis broker. A machine is a process group on a loopback address of its own
(127.0.0.2, 127.0.0.3; bench/machines.py) running `manage.py run_queue`, its Redis and platform
connections leaving from that address and its PostgreSQL connections named after it.

    .venv/bin/python bench/scale_out.py [--messages 2000] [--latency 0.15] [--concurrency 16]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres; it creates and drops its own database) and
redis-server (it runs its own on a free port). The account's per-second limit is lifted so
the machines' capacity, not the platform's limit, is measured; every send is answered `--latency`
late. Prints messages per second for one and for two machines and their ratio (ideal 2.0).
"""

import argparse
import contextlib
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machines import Machine, own_redis  # noqa: E402

IG_ACCOUNT, TOKEN = "17841400000000001", "IGAA-bench-token"
ADDRESSES = ("127.0.0.2", "127.0.0.3")


def wait_for_queues(redis_url: str, addresses, timeout: float = 120) -> None:
    """Until every machine's cluster is waiting on the Redis queue (a client from its address blocked
    in BRPOP), so the launch's tasks are shared between the machines rather than taken by the first."""
    import redis

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        blocked = {c["addr"].rsplit(":", 1)[0] for c in client.client_list() if "b" in c["flags"]}
        if set(addresses) <= blocked:
            return
        time.sleep(0.2)
    raise SystemExit(f"the machines' queues did not start in {timeout:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--workers", type=int, default=2, help="queue workers per machine")
    parser.add_argument("--concurrency", type=int, default=16, help="calls in flight per sending run")
    args = parser.parse_args()

    name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    redis_server = contextlib.ExitStack()
    redis_url = redis_server.enter_context(own_redis())
    os.environ.update(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}",
        DJANGO_SETTINGS_MODULE="config.settings",
        REDIS_URL=redis_url,
        ALLOW_INSECURE_PLATFORM_URLS="1",  # the fake platform is on loopback
        LOG_LEVEL="WARNING",
    )
    rates, platform_saw = {}, {}
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone
        from django_q.tasks import async_task

        from crm.models import Campaign, Creator, SocialAccount
        from outreach.models import Conversation, OutreachMessage, SenderAccount
        from outreach.sandbox.meta import FakeMeta

        call_command("migrate", verbosity=0)
        fake = FakeMeta(latency=args.latency).start()
        fake.add_instagram_account(IG_ACCOUNT, TOKEN)
        sender = SenderAccount(
            name="bench", platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, api_base_url=fake.url
        )
        sender.set_access_token(TOKEN)
        sender.rate_per_second = 100_000
        sender.save()
        for machines in (1, 2):
            campaign = Campaign.objects.create(name=f"bench {machines}", brand="Acme", status="active")
            creators = Creator.objects.bulk_create([Creator(name=f"Creator {n}") for n in range(args.messages)])
            SocialAccount.objects.bulk_create(
                [
                    SocialAccount(creator=c, platform="instagram", handle=f"c{c.pk}", platform_user_id=f"ig{c.pk}")
                    for c in creators
                ]
            )
            Conversation.objects.bulk_create(
                [Conversation(creator=c, platform="instagram", last_inbound_at=timezone.now()) for c in creators]
            )
            for creator in creators:
                fake.user_wrote(IG_ACCOUNT, f"ig{creator.pk}")
            OutreachMessage.objects.bulk_create(
                [
                    OutreachMessage(
                        campaign=campaign, creator=c, sender_account=sender, platform="instagram", rendered_text="Hi"
                    )
                    for c in creators
                ]
            )
            env = {**os.environ, "OUTREACH_SEND_CONCURRENCY": str(args.concurrency)}
            group = [Machine(address, env, workers=args.workers).start() for address in ADDRESSES[:machines]]
            try:
                wait_for_queues(redis_url, ADDRESSES[:machines])  # every machine ready to take tasks
                before = len(fake.received)
                started = time.perf_counter()
                for _ in range(args.workers * machines):
                    async_task("outreach.tasks.send_due_messages", sender.pk)
                while OutreachMessage.objects.filter(campaign=campaign, status="sent").count() < args.messages:
                    if time.perf_counter() - started > 600:
                        raise SystemExit("the launch did not finish in 10 minutes")
                    if not OutreachMessage.objects.filter(
                        campaign=campaign, status__in=["pending", "sending"]
                    ).exists():
                        failed = OutreachMessage.objects.filter(campaign=campaign).exclude(status="sent").first()
                        raise SystemExit(
                            f"FAILED: not sent: {failed.status} {failed.error_code} {failed.error_message}"
                        )
                    time.sleep(0.05)
                rates[machines] = args.messages / (time.perf_counter() - started)
                with fake.lock:
                    callers = {r.client for r in fake.received[before:] if r.path.endswith("/messages")}
                platform_saw[machines] = sorted(callers)
            finally:
                for member in group:
                    member.stop(timeout=60)
        delivered = Counter(m["recipient"] for m in fake.sent(IG_ACCOUNT))
        duplicates = sum(n - 1 for n in delivered.values())
    finally:
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis_server.close()

    print(
        f"messages: {args.messages:,} per launch; latency {args.latency * 1000:.0f} ms; per machine: "
        f"{args.workers} queue workers x {args.concurrency} calls in flight; PostgreSQL + Redis broker"
    )
    print(f"one machine:  {rates[1]:7.0f} msg/s  (the platform saw calls from {', '.join(platform_saw[1])})")
    print(f"two machines: {rates[2]:7.0f} msg/s  (the platform saw calls from {', '.join(platform_saw[2])})")
    print(f"ratio two/one machines: {rates[2] / rates[1]:.2f} (ideal 2.0); duplicates {duplicates}")
    if duplicates:
        raise SystemExit("FAILED: a message went out twice")


if __name__ == "__main__":
    main()
