"""The shared send-rate limiter and concurrent sending, with real processes and real HTTP.

The pacing is one bucket per account in the database (or Redis) that every worker takes slots
from, so two worker processes together stay under the account's per-second limit, and a platform's
rate-limit answer to one of them pauses both.
"""

import itertools
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from outreach import limiter
from outreach.models import OutreachMessage
from tests.conftest import ROOT, test_database_url
from tests.fakes.meta import IG_ACCOUNT
from tests.outreach.test_exactly_once import outbox

REDIS_TEST_URL = "redis://127.0.0.1:6379/11"  # a database number of its own on the shared Redis


def busiest_second(times: list[float]) -> int:
    """The most calls in any sliding one-second window."""
    times = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.django_db
def test_the_database_bucket_hands_out_evenly_spaced_slots_and_a_block_moves_them_all():
    bucket = limiter.DatabaseLimiter()
    first = bucket.reserve("t-1", rate=10, n=3, now=1000.0)
    assert [first.slot(i) for i in range(3)] == pytest.approx([1000.0, 1000.1, 1000.2])
    second = bucket.reserve("t-1", rate=10, n=1, now=1000.05)  # another worker, a moment later
    assert second.first == pytest.approx(1000.3)
    assert bucket.reserve("t-1", rate=10, n=1, now=2000.0).first == pytest.approx(2000.0)  # idle: no debt
    bucket.block_until("t-1", 2100.0)  # a platform said "wait"
    assert bucket.reserve("t-1", rate=10, n=1, now=2000.5).first == pytest.approx(2100.0)
    bucket.block_until("t-1", 1.0)  # a block in the past never moves slots back
    assert bucket.reserve("t-1", rate=10, n=1, now=2000.5).first == pytest.approx(2100.1)
    assert bucket.reserve("t-2", rate=10, n=1, now=2000.5).first == pytest.approx(2000.5)  # per account


def test_the_redis_bucket_behaves_the_same():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).delete("outreach:rate:t-1")
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    bucket = limiter.RedisLimiter(REDIS_TEST_URL)
    first = bucket.reserve("t-1", rate=10, n=3, now=1000.0)
    assert first.slot(2) == pytest.approx(1000.2)
    assert bucket.reserve("t-1", rate=10, n=1, now=1000.05).first == pytest.approx(1000.3)
    bucket.block_until("t-1", 2100.0)
    assert bucket.reserve("t-1", rate=10, n=1, now=2000.5).first == pytest.approx(2100.0)


def start_worker(sender, env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_outbox", "--sender", str(sender.pk), "--batch", "20"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": test_database_url(), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["database", "redis"])
def test_two_concurrent_workers_share_one_per_second_limit(fake_meta, kind):
    env = {"OUTREACH_SEND_CONCURRENCY": "8", "OUTREACH_RATE_LIMITER": kind}
    if kind == "redis":
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).flushdb()
        except redis.ConnectionError:
            pytest.skip("no Redis on 127.0.0.1:6379")
        env["REDIS_URL"] = REDIS_TEST_URL
    fake_meta.now = time.time  # real time: the calls' arrival times are what is checked
    sender = outbox(fake_meta, 90)
    sender.rate_per_second = 30
    sender.save(update_fields=["rate_per_second"])
    fake_meta.latency = 0.1  # at 8 in flight per worker, each alone could reach 80 calls a second
    try:
        workers = [start_worker(sender, env), start_worker(sender, env)]
        outputs = [worker.communicate(timeout=120) for worker in workers]
    finally:
        fake_meta.latency = 0.0
    assert [worker.returncode for worker in workers] == [0, 0], outputs

    sent = fake_meta.sent(IG_ACCOUNT)
    assert Counter(m["recipient"] for m in sent).most_common(1)[0][1] == 1  # nothing twice
    assert OutreachMessage.objects.filter(status="sent").count() == 90
    assert busiest_second([m["at"] for m in sent]) <= 30
    claimed = [int(out.split(": ")[1].split(" claimed")[0]) for out, _ in outputs]
    assert min(claimed) > 0, claimed  # both really sent
    elapsed = max(m["at"] for m in sent) - min(m["at"] for m in sent)
    assert elapsed < 90 / 30 / 0.9 + 1.5  # and together they kept the pace, not one after the other


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rate_limit_answer_to_one_worker_pauses_the_account_on_both(fake_meta):
    fake_meta.now = time.time
    sender = outbox(fake_meta, 80)
    sender.rate_per_second = 10  # about 9 s of sending: room for a busy machine to notice the 15th send late
    sender.save(update_fields=["rate_per_second"])
    env = {"OUTREACH_SEND_CONCURRENCY": "4"}
    workers = [start_worker(sender, env), start_worker(sender, env)]
    deadline = time.monotonic() + 30
    while fake_meta.sent_count(IG_ACCOUNT) < 15 and time.monotonic() < deadline:
        time.sleep(0.005)
    fake_meta.fail_next(
        IG_ACCOUNT, status=400, code=4, message="Application request limit reached", headers={"Retry-After": "3"}
    )
    assert fake_meta.sent_count(IG_ACCOUNT) < 60  # the answer comes mid-launch
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs

    times = sorted(m["at"] for m in fake_meta.sent(IG_ACCOUNT))
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) >= 2.5, "the other worker went on sending through the account's pause"
    statuses = Counter(OutreachMessage.objects.values_list("status", flat=True))
    assert statuses == {"sent": 79, "pending": 1}, statuses  # the refused one waits for its retry
