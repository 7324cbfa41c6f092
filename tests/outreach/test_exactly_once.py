"""Exactly once, with real processes: two workers at once, and a worker killed mid-send.

PostgreSQL only (row locks with SKIP LOCKED); the data is committed so the worker processes see it.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.utils import timezone

from crm.models import Campaign, Creator, SocialAccount
from outreach.models import Conversation, OutreachMessage
from tests.conftest import ROOT, test_database_url
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.outreach.factories import SenderAccountFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def outbox(fake, count: int):
    """`count` due messages to creators who wrote in the last hour, on Meta and in our database."""
    sender = SenderAccountFactory(
        platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, token=IG_TOKEN, api_base_url=fake.url
    )
    campaign = Campaign.objects.create(name="Exactly once", brand="Acme", status="active")
    creators = Creator.objects.bulk_create([Creator(name=f"Creator {n}") for n in range(count)])
    SocialAccount.objects.bulk_create(
        [
            SocialAccount(creator=c, platform="instagram", handle=f"c{c.pk}", platform_user_id=f"ig{c.pk}")
            for c in creators
        ]
    )
    Conversation.objects.bulk_create(
        [Conversation(creator=c, platform="instagram", last_inbound_at=timezone.now()) for c in creators]
    )
    OutreachMessage.objects.bulk_create(
        [
            OutreachMessage(
                campaign=campaign, creator=c, sender_account=sender, platform="instagram", rendered_text=f"Hello {c.pk}"
            )
            for c in creators
        ]
    )
    for creator in creators:
        fake.user_wrote(IG_ACCOUNT, f"ig{creator.pk}")
    return sender


def start_worker(sender, *extra, env=None):
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_outbox", "--sender", str(sender.pk), "--batch", "10", *extra],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": test_database_url(), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_workers_over_the_same_500_messages_deliver_each_exactly_once(fake_meta):
    sender = outbox(fake_meta, 500)
    workers = [start_worker(sender), start_worker(sender)]
    outputs = [worker.communicate(timeout=180) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs

    delivered = Counter(message["recipient"] for message in fake_meta.sent(IG_ACCOUNT))
    assert len(delivered) == 500
    assert max(delivered.values()) == 1
    assert OutreachMessage.objects.filter(status="sent").count() == 500
    ids = set(OutreachMessage.objects.values_list("provider_message_id", flat=True))
    assert ids == {message["message_id"] for message in fake_meta.sent(IG_ACCOUNT)}
    claimed_by_each = [int(out.split(": ")[1].split(" claimed")[0]) for out, _ in outputs]
    assert sum(claimed_by_each) == 500 and min(claimed_by_each) > 0, claimed_by_each  # both really worked


def test_a_worker_killed_mid_send_sends_nothing_twice_and_leaves_nothing_stuck(fake_meta):
    sender = outbox(fake_meta, 60)
    fake_meta.delay_next(IG_ACCOUNT, 0.05, n=60)
    lease = {"OUTREACH_LEASE_SECONDS": "2", "OUTREACH_SEND_CONCURRENCY": "4"}
    victim = start_worker(sender, env=lease)
    deadline = time.monotonic() + 60
    while fake_meta.sent_count(IG_ACCOUNT) < 15 and time.monotonic() < deadline:
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert OutreachMessage.objects.filter(status="sending").exists()  # killed with a claim in hand

    time.sleep(2.2)  # the dead worker's lease runs out
    survivor = start_worker(sender, "--reap", env=lease)
    _, errors = survivor.communicate(timeout=120)
    assert survivor.returncode == 0, errors

    delivered = Counter(message["recipient"] for message in fake_meta.sent(IG_ACCOUNT))
    assert max(delivered.values()) == 1, "a message went out twice"
    statuses = Counter(OutreachMessage.objects.values_list("status", flat=True))
    assert set(statuses) <= {"sent", "needs_review"}, statuses
    assert statuses["sent"] + statuses["needs_review"] == 60
    assert statuses["needs_review"] <= 4  # at most the calls in flight when it died; the rest went out once
    sent_recipients = {
        f"ig{pk}" for pk in OutreachMessage.objects.filter(status="sent").values_list("creator_id", flat=True)
    }
    assert sent_recipients <= set(delivered)
