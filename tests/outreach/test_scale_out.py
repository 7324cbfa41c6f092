"""Two "machines" (two process groups, each a `run_queue` with two workers) against one PostgreSQL
and one Redis broker: both send, and one killed whole (SIGKILL to its process group) mid-launch
sends nothing twice and loses nothing; its claims are settled within a minute."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from outreach.models import OutreachMessage
from tests.conftest import ROOT, test_database_url
from tests.fakes.meta import IG_ACCOUNT
from tests.outreach.test_exactly_once import outbox

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
REDIS_URL = "redis://127.0.0.1:6379/13"  # a database number of its own on the shared Redis


def machine(env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_queue"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the whole "machine" can be killed at once
    )


def enqueue(env, sender_id: int, runs: int) -> None:
    code = "from django_q.tasks import async_task\n" + "\n".join(
        f"async_task('outreach.tasks.send_due_messages', {sender_id})" for _ in range(runs)
    )
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, check=True, timeout=60)


def test_a_machine_killed_mid_launch_sends_nothing_twice_and_its_claims_settle_within_a_minute(fake_meta):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    fake_meta.now = time.time
    sender = outbox(fake_meta, 600)
    sender.rate_per_second = 100  # the launch takes about 7 s
    sender.save(update_fields=["rate_per_second"])
    fake_meta.latency = 0.05
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": REDIS_URL,
        "Q_WORKERS": "2",
        "OUTREACH_SEND_CONCURRENCY": "8",
        "OUTREACH_CLAIM_BATCH": "20",
        "OUTREACH_LEASE_SECONDS": "6",
        "OUTREACH_REAP_SECONDS": "2",
    }
    machines = [machine(env), machine(env)]
    try:
        enqueue(env, sender.pk, 4)
        deadline = time.monotonic() + 60
        while fake_meta.sent_count(IG_ACCOUNT) < 150 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(machines[0].pid, signal.SIGKILL)
        killed = time.monotonic()
        machines[0].wait(timeout=10)
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
    finally:
        fake_meta.latency = 0.0
        for process in machines:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
    delivered = Counter(m["recipient"] for m in fake_meta.sent(IG_ACCOUNT))
    assert max(delivered.values()) == 1, "a message went out twice"
    statuses = Counter(OutreachMessage.objects.values_list("status", flat=True))
    assert set(statuses) <= {"sent", "needs_review"}, statuses  # nothing lost, nothing stuck
    assert statuses["needs_review"] <= 2 * 8  # at most the dead machine's calls in flight
    sent = {f"ig{pk}" for pk in OutreachMessage.objects.filter(status="sent").values_list("creator_id", flat=True)}
    assert sent <= set(delivered)
    assert settled_in < 60
