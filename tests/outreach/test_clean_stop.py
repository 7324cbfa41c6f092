"""A clean stop settles its own claims: SIGTERM in the middle of a sending run whose calls are in
flight (the platform answers 0.4 s late), to `run_queue`'s main process (systemd KillMode=mixed)
or to the whole process group (KillMode=control-group, `docker stop` with an init, plain
`qcluster`). The calls in flight finish and their outcome is written, unstarted claims go back to
the queue, the processes exit within seconds, and no message is left `sending`."""

import os
import signal
import time
from collections import Counter

import pytest

from outreach.models import OutreachMessage
from tests.conftest import test_database_url
from tests.fakes.meta import IG_ACCOUNT
from tests.outreach.test_exactly_once import outbox
from tests.queue_process import enqueue, kill_group, start_queue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("command", "target"), [("run_queue", "main"), ("run_queue", "group"), ("qcluster", "group")])
def test_sigterm_mid_send_settles_every_claim_of_the_stopping_workers(fake_meta, tmp_path, command, target):
    fake_meta.now = time.time
    fake_meta.latency = 0.4  # so calls are out at the platform when the signal comes
    sender = outbox(fake_meta, 300)
    sender.rate_per_second = 20  # a run of 300 would take 15 s: only the signal ends it
    sender.save(update_fields=["rate_per_second"])
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": "",
        "Q_WORKERS": "2",
        "OUTREACH_TASK_BUDGET_SECONDS": "120",
        "OUTREACH_REAP_SECONDS": "600",  # nothing of this stop may be left to the reaper
    }
    cluster = start_queue(command, env, tmp_path / "cluster.log")
    try:
        enqueue(env, "outreach.tasks.send_due_messages", sender.pk)
        deadline = time.monotonic() + 60
        while fake_meta.sent_count(IG_ACCOUNT) < 15 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake_meta.sent_count(IG_ACCOUNT) >= 15, "the cluster did not start sending"
        in_flight = OutreachMessage.objects.filter(status="sending", send_started_at__isnull=False).count()
        if target == "main":
            os.kill(cluster.pid, signal.SIGTERM)
        else:
            os.killpg(cluster.pid, signal.SIGTERM)
        signalled = time.monotonic()
        if command == "run_queue":
            cluster.wait(timeout=30)
        # Plain qcluster's own main process can hang in django-q2's stop after a group SIGTERM (it did
        # before this change too); what is ours, its workers, must be gone and settled.
        leftovers = alive_in_group(cluster.pid, 30, besides=cluster.pid if command == "qcluster" else None)
        stopped_in = time.monotonic() - signalled
    finally:
        kill_group(cluster)  # whatever of the group is left
    said = (tmp_path / "cluster.log").read_text()[-3000:]
    assert stopped_in < 12, f"SIGTERM took {stopped_in:.1f} s; the cluster said:\n{said}"
    assert not leftovers, f"processes still running after the stop: {leftovers}; the cluster said:\n{said}"
    assert in_flight > 0, "no call was in flight at the signal: the test proves nothing"
    delivered = Counter(m["recipient"] for m in fake_meta.sent(IG_ACCOUNT))
    assert max(delivered.values()) == 1
    statuses = Counter(OutreachMessage.objects.values_list("status", flat=True))
    assert "sending" not in statuses, statuses
    # Every call that reached the platform was recorded as sent (none left for the reaper to guess).
    assert statuses["sent"] == len(delivered), (statuses, len(delivered))
    assert statuses["pending"] == 300 - len(delivered), statuses


def alive_in_group(pgid: int, seconds: float, besides: int | None = None) -> list[int]:
    """The processes of group `pgid` (but `besides`) still alive after up to `seconds` (Linux /proc)."""
    end = time.monotonic() + seconds
    while True:
        alive = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as stat:
                        fields = stat.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == pgid and fields[0] != "Z" and int(entry) != besides:
                    alive.append(int(entry))
        if not alive or time.monotonic() >= end:
            return alive
        time.sleep(0.1)
