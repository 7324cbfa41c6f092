"""`manage.py run_queue`: a real cluster that stops within seconds on SIGTERM in the middle of a long
sending run (plain qcluster waits for the run to end), and that settles a dead worker's claims fast."""

import datetime
import os
import signal
import time
from collections import Counter

import pytest
from django.utils import timezone

from outreach.models import OutreachMessage
from tests.conftest import test_database_url
from tests.fakes.meta import IG_ACCOUNT
from tests.outreach.test_exactly_once import outbox
from tests.queue_process import enqueue, kill_group, start_queue

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_sigterm_stops_the_cluster_mid_run_in_seconds_and_a_dead_claim_is_settled(fake_meta, tmp_path):
    fake_meta.now = time.time
    sender = outbox(fake_meta, 400)
    sender.rate_per_second = 10  # a run of 400 would take 40 s
    sender.save(update_fields=["rate_per_second"])
    # A message claimed by a worker that died after calling the platform: its lease ran out.
    dead = OutreachMessage.objects.order_by("-id").first()
    past = timezone.now() - datetime.timedelta(seconds=5)
    OutreachMessage.objects.filter(pk=dead.pk).update(
        status="sending", claim_token="dead", claimed_at=past, send_started_at=past, lease_expires_at=past
    )
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": "",
        "Q_WORKERS": "1",
        "OUTREACH_REAP_SECONDS": "1",
        "OUTREACH_TASK_BUDGET_SECONDS": "120",  # longer than the test: only the signal can end the run
    }
    cluster = start_queue("run_queue", env, tmp_path / "cluster.log")
    try:
        enqueue(env, "outreach.tasks.send_due_messages", sender.pk)
        deadline = time.monotonic() + 60
        while fake_meta.sent_count(IG_ACCOUNT) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake_meta.sent_count(IG_ACCOUNT) >= 20, "the cluster did not start sending"
        dead.refresh_from_db()
        assert dead.status == "needs_review"  # settled by the reaper thread, not a minute later

        os.kill(cluster.pid, signal.SIGTERM)  # the main process only, as systemd's KillMode=mixed does
        signalled = time.monotonic()
        cluster.wait(timeout=30)
        stopped_in = time.monotonic() - signalled
    finally:
        kill_group(cluster)
    said = (tmp_path / "cluster.log").read_text()[-3000:]
    assert stopped_in < 10, f"SIGTERM took {stopped_in:.1f} s; the cluster said:\n{said}"
    delivered = Counter(m["recipient"] for m in fake_meta.sent(IG_ACCOUNT))
    assert max(delivered.values()) == 1
    statuses = Counter(OutreachMessage.objects.values_list("status", flat=True))
    assert "sending" not in statuses, statuses  # unstarted claims went back to the queue
    assert statuses["sent"] == len(delivered) and statuses["pending"] == 399 - len(delivered), statuses
