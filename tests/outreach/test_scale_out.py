"""Two "machines" against one PostgreSQL and one Redis broker, each a process group with a loopback
address of its own (127.0.0.2 and 127.0.0.3, bench/machines.py): its web server is bound there, its
connections to Redis and the platform leave from there, and PostgreSQL sees each by its name (the
shared server trusts 127.0.0.1 only). Both serve and send; one
killed whole (SIGKILL to its group, connections and all) mid-launch sends nothing twice and loses
nothing, and its claims are settled within a minute."""

import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import psycopg
import pytest
import requests

from bench.machines import Machine, own_redis
from outreach.models import OutreachMessage
from tests.conftest import ROOT, test_database_url
from tests.fakes.meta import IG_ACCOUNT
from tests.outreach.test_exactly_once import outbox

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def enqueue(env, sender_id: int, runs: int) -> None:
    code = "from django_q.tasks import async_task\n" + "\n".join(
        f"async_task('outreach.tasks.send_due_messages', {sender_id})" for _ in range(runs)
    )
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, timeout=60)


ADDRESSES = ("127.0.0.2", "127.0.0.3")


def healthy(url: str) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.2)
    return False


def database_clients(url: str) -> set[str]:
    """The machines PostgreSQL sees connected to this database (each names itself)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database()"
        ).fetchall()
    return {row[0].removeprefix("machine-") for row in rows if row[0].startswith("machine-")}


def redis_clients(url: str) -> set[str]:
    """The addresses Redis sees its clients connect from."""
    import redis

    return {client["addr"].rsplit(":", 1)[0] for client in redis.Redis.from_url(url).client_list()}


def test_a_machine_killed_mid_launch_sends_nothing_twice_and_its_claims_settle_within_a_minute(fake_meta):
    if not shutil.which("redis-server"):
        pytest.skip("no redis-server to run")
    with own_redis() as redis_url:
        launch_and_kill_a_machine(fake_meta, redis_url)


def launch_and_kill_a_machine(fake_meta, redis_url: str) -> None:
    fake_meta.now = time.time
    sender = outbox(fake_meta, 600)
    sender.rate_per_second = 100  # the launch takes about 7 s
    sender.save(update_fields=["rate_per_second"])
    fake_meta.latency = 0.05
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_url,
        "Q_WORKERS": "2",
        "OUTREACH_SEND_CONCURRENCY": "8",
        "OUTREACH_CLAIM_BATCH": "20",
        "OUTREACH_LEASE_SECONDS": "6",
        "OUTREACH_REAP_SECONDS": "2",
    }
    machines = [Machine(address, env, web=True).start() for address in ADDRESSES]
    try:
        for machine in machines:  # each machine's web server answers on its own address
            assert healthy(machine.url), f"{machine.url}/healthz did not answer"
        enqueue(env, sender.pk, 4)
        deadline = time.monotonic() + 60
        while fake_meta.sent_count(IG_ACCOUNT) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        clients = database_clients(env["DATABASE_URL"])
        redis_addresses = redis_clients(redis_url)
        machines[0].kill()
        killed = time.monotonic()
        assert OutreachMessage.objects.filter(status="sending").exists()  # it died with claims in hand

        while OutreachMessage.objects.filter(status="sending").exists() and time.monotonic() - killed < 60:
            time.sleep(0.2)
        settled_in = time.monotonic() - killed
        assert not OutreachMessage.objects.filter(status="sending").exists(), "claims not settled in 60 s"
        # The survivor (or the next minute's dispatcher, standing in here) sends what went back to the queue.
        enqueue(env, sender.pk, 2)
        deadline = time.monotonic() + 60
        # Until the launch is over: nothing waiting and nothing in flight (the survivor's last calls).
        unfinished = OutreachMessage.objects.filter(status__in=["pending", "sending"])
        while unfinished.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        survivor_clients = database_clients(env["DATABASE_URL"])
    finally:
        fake_meta.latency = 0.0
        for machine in machines:
            machine.stop()
    # Really two clients: PostgreSQL saw both addresses, and only the survivor's after the kill; the
    # platform was called from both.
    assert set(ADDRESSES) <= clients, clients
    assert set(ADDRESSES) <= redis_addresses, redis_addresses
    assert ADDRESSES[0] not in survivor_clients and ADDRESSES[1] in survivor_clients, survivor_clients
    callers = Counter(r.client for r in fake_meta.requests_to(r"/messages$"))
    assert set(callers) == set(ADDRESSES), callers
    delivered = Counter(m["recipient"] for m in fake_meta.sent(IG_ACCOUNT))
    assert max(delivered.values()) == 1, "a message went out twice"
    statuses = Counter(OutreachMessage.objects.values_list("status", flat=True))
    assert set(statuses) <= {"sent", "needs_review"}, statuses  # nothing lost, nothing stuck
    assert statuses["needs_review"] <= 2 * 8  # at most the dead machine's calls in flight
    sent = {f"ig{pk}" for pk in OutreachMessage.objects.filter(status="sent").values_list("creator_id", flat=True)}
    assert sent <= set(delivered)
    assert settled_in < 60
