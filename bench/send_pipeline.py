"""Benchmark the send pipeline: N messages through django-q2 workers and PostgreSQL to a loopback
fake Instagram API, against a bare requests.Session.post loop to the same server in the same run.

    .venv/bin/python bench/send_pipeline.py [--messages 2000] [--workers 2]
    .venv/bin/python bench/send_pipeline.py --latency 0.15 --messages 1000 --workers 1

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); it creates and drops its own database.
Without latency the account's per-second limit is lifted (it measures our overhead, not Meta's
limit) and the target is 0.7 of the bare loop. With `--latency S` the fake answers every send S
seconds late, the account keeps Instagram's limit (300/s), the bare loop sends with the same number
of calls in flight, the target is 150 msg/s, and the platform must never see more calls in any one
second than the limit.
"""

import argparse
import cProfile
import os
import pstats
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import requests
import requests.adapters

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
IG_ACCOUNT, TOKEN = "17841400000000001", "IGAA-bench-token"


def bare_loop(url: str, count: int, in_flight: int = 1) -> float:
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=in_flight)
    session.mount("http://", adapter)

    def post(n: int) -> None:
        response = session.post(
            f"{url}/v25.0/{IG_ACCOUNT}/messages",
            json={"recipient": {"id": f"bare{n}"}, "message": {"text": f"Hello {n}"}, "messaging_type": "RESPONSE"},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=(3.05, 15),
        )
        response.raise_for_status()

    started = time.perf_counter()
    if in_flight == 1:
        for n in range(count):
            post(n)
    else:
        with ThreadPoolExecutor(in_flight) as pool:
            list(pool.map(post, range(count)))
    return time.perf_counter() - started


def busiest_second(times: list[float]) -> int:
    """The most calls the platform saw in any sliding one-second window."""
    times, most, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def cpu_seconds(pids) -> dict[int, float]:
    """User and system CPU seconds of each living process among `pids` (Linux /proc)."""
    tick, seconds = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick
    return seconds


def session_pids(session: int) -> list[int]:
    """The processes of a session (the queue cluster and the workers it forked)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[3]) == session:
                    pids.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return pids


def used_between(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.0, help="the fake answers every send this late (s)")
    parser.add_argument("--concurrency", type=int, default=64, help="calls in flight per sending run")
    args = parser.parse_args()

    name = f"bench_send_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    database_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="config.settings",
        Q_WORKERS=str(args.workers),
        OUTREACH_SEND_CONCURRENCY=str(args.concurrency),
    )
    os.environ["ALLOW_INSECURE_PLATFORM_URLS"] = "true"  # the fake platform is on loopback (core.netguard)
    cluster = None
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
        fake = FakeMeta().start()
        fake.add_instagram_account(IG_ACCOUNT, TOKEN)
        for n in range(args.messages):
            fake.user_wrote(IG_ACCOUNT, f"bare{n}")

        bare_in_flight = args.concurrency * args.workers if args.latency else 1
        fake.latency = args.latency
        bare_cpu = time.process_time()
        bare_seconds = bare_loop(fake.url, args.messages, bare_in_flight)
        bare_cpu = time.process_time() - bare_cpu  # this process: the loop and the fake together

        sender = SenderAccount(
            name="bench", platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, api_base_url=fake.url
        )
        sender.set_access_token(TOKEN)
        if not args.latency:
            sender.rate_per_second = 1_000_000  # our overhead, not Meta's 300/s, is measured here
        sender.save()
        campaign = Campaign.objects.create(name="bench", brand="Acme", status="active")
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
        if os.environ.get("BENCH_PROFILE"):  # in this process, under cProfile: where the time goes
            from outreach.worker import send_due

            profile = cProfile.Profile()
            started = time.perf_counter()
            profile.runcall(send_due, sender.pk, budget_seconds=600)
            print(f"send_due under cProfile: {time.perf_counter() - started:.2f} s for {args.messages} messages")
            if os.environ.get("BENCH_PROFILE_OUT"):  # a file for pstats (e.g. sorted by tottime)
                profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
            return
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "run_queue"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=open("/tmp/bench_qcluster.log", "w"),  # noqa: SIM115
            start_new_session=True,
        )
        time.sleep(3)  # let the cluster start before the clock runs
        backends = [row[0] for row in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])]
        queue_before, db_before = cpu_seconds(session_pids(cluster.pid)), cpu_seconds(backends)
        started, fake_cpu = time.perf_counter(), time.process_time()
        for _ in range(args.workers):
            async_task("outreach.tasks.send_due_messages", sender.pk)
        while OutreachMessage.objects.filter(status="sent").count() < args.messages:
            if time.perf_counter() - started > 600:
                raise SystemExit("the pipeline did not finish in 10 minutes")
            time.sleep(0.05)
        pipeline_seconds = time.perf_counter() - started
        fake_cpu = time.process_time() - fake_cpu  # this process: the fake (and this polling loop)
        queue_cpu = used_between(queue_before, cpu_seconds(session_pids(cluster.pid)))
        backends = [row[0] for row in admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])]
        db_cpu = used_between(db_before, cpu_seconds(backends))
        delivered = fake.sent_count(IG_ACCOUNT) - args.messages
        ours = [m for m in fake.sent(IG_ACCOUNT) if not m["recipient"].startswith("bare")]
        duplicates = delivered - len({m["recipient"] for m in ours})
        limit = sender.limits()[0]
        busiest = busiest_second([m["at"] for m in ours])
    finally:
        if cluster:
            os.killpg(cluster.pid, signal.SIGTERM)
            try:
                cluster.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(cluster.pid, signal.SIGKILL)
        from django.db import connections

        connections.close_all()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    bare_rate, pipeline_rate = args.messages / bare_seconds, args.messages / pipeline_seconds
    print(
        f"messages: {args.messages:,}; queue workers: {args.workers}; calls in flight per run: {args.concurrency}; "
        f"latency: {args.latency * 1000:.0f} ms; database: PostgreSQL; platform: loopback FakeMeta"
    )
    print(f"bare requests loop ({bare_in_flight} in flight):  {bare_seconds:6.2f} s  {bare_rate:8.0f} msg/s")
    print(f"pipeline (django-q2 + claims + limiter): {pipeline_seconds:6.2f} s  {pipeline_rate:8.0f} msg/s")
    per_message = {"fake": fake_cpu, "queue processes": queue_cpu, "PostgreSQL": db_cpu}
    print(
        f"CPU per message: bare loop {bare_cpu * 1000 / args.messages:.2f} ms (client and fake in this process); "
        "pipeline "
        + ", ".join(f"{part} {seconds * 1000 / args.messages:.2f} ms" for part, seconds in per_message.items())
        + f"; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"busiest second at the platform: {busiest} calls (account limit {limit:.0f}/s)")
    target = "rate >= 150 msg/s" if args.latency else "ratio >= 0.7"
    print(
        f"ratio pipeline/bare: {pipeline_rate / bare_rate:.2f} (target {target}); "
        f"delivered {delivered}, duplicates {duplicates}"
    )
    if duplicates or busiest > limit:
        raise SystemExit("FAILED: a message went out twice or the platform saw more than the limit in a second")


if __name__ == "__main__":
    main()
