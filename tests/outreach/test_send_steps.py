"""The send loop's writes: few commits per message, the batch's bookkeeping in set statements, and a
group marked started only when its slot of the shared limiter comes (outreach/worker.py)."""

import datetime
import sys
import time

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import CampaignMember
from outreach import limiter, worker
from outreach.models import Conversation, ConversationMessage, OutreachMessage
from tests.factories import CampaignFactory, CampaignMemberFactory
from tests.fakes.meta import IG_ACCOUNT
from tests.outreach.factories import SenderAccountFactory
from tests.outreach.test_exactly_once import outbox

Status = OutreachMessage.Status


@pytest.mark.django_db
def test_the_batchs_bookkeeping_fills_timelines_conversations_and_stages(alice):
    campaign, sender = CampaignFactory(owner=alice), SenderAccountFactory(platform="instagram")
    now = timezone.now()
    sent_at = now - datetime.timedelta(seconds=5)
    talking, new, echoed = (CampaignMemberFactory(campaign=campaign) for _ in range(3))
    Conversation.objects.create(creator=talking.creator, platform="instagram", outbound_since_inbound=1)
    echo_thread = Conversation.objects.create(creator=echoed.creator, platform="instagram")

    def sent(member, step, provider_id):
        return OutreachMessage.objects.create(
            campaign=campaign,
            creator=member.creator,
            sender_account=sender,
            platform="instagram",
            step=step,
            rendered_text=f"Hello {provider_id}",
            status=Status.SENT,
            delivery_mode="api",
            provider_message_id=provider_id,
            sent_at=sent_at,
        )

    messages = [sent(talking, 0, "m1"), sent(new, 0, "m2"), sent(new, 1, "m3"), sent(echoed, 0, "m4")]
    # The platform's echo of m4 came first and is on the timeline already.
    ConversationMessage.objects.create(
        conversation=echo_thread, platform="instagram", direction="out", platform_message_id="m4", at=sent_at
    )

    worker.after_sent(messages, now)

    talking_thread = Conversation.objects.get(creator=talking.creator)
    assert (talking_thread.outbound_since_inbound, talking_thread.last_outbound_at) == (2, now)
    new_thread = Conversation.objects.get(creator=new.creator, platform="instagram")
    assert new_thread.outbound_since_inbound == 2  # both messages of the batch count
    entries = list(ConversationMessage.objects.filter(outreach_message__in=messages[:3]).order_by("id"))
    assert [(e.conversation_id, e.platform_message_id, e.text) for e in entries] == [
        (talking_thread.pk, "m1", "Hello m1"),
        (new_thread.pk, "m2", "Hello m2"),
        (new_thread.pk, "m3", "Hello m3"),
    ]
    entry = entries[0]
    assert (entry.direction, entry.at, entry.platform) == ("out", sent_at, "instagram")
    # Every other column as a new ConversationMessage would have it.
    assert (entry.kind, entry.attachments, entry.reactions, entry.version, entry.classification) == (
        "message",
        [],
        {},
        0,
        "",
    )
    assert entry.created_at is not None and entry.read_at is None and entry.inbound_event_id is None
    assert ConversationMessage.objects.filter(platform_message_id="m4").count() == 1  # the echo's, not doubled
    assert set(CampaignMember.objects.values_list("stage", flat=True)) == {"contacted"}


def worker_function() -> str:
    """The send loop's function that committed (for the failure message)."""
    frame = sys._getframe(2)
    while frame and not frame.f_code.co_filename.endswith("worker.py"):
        frame = frame.f_back
    return frame.f_code.co_name if frame else "?"


def count_commits(monkeypatch):
    """Commits that reach PostgreSQL: those of transactions that wrote or read something, and every
    write made outside a transaction (it commits alone)."""
    import psycopg

    commits = []
    original = psycopg.Connection.commit

    def commit(self):
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            commits.append(worker_function())
        return original(self)

    def autocommitted(execute, sql, params, many, context):
        if not connection.in_atomic_block and sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE"}:
            commits.append(sql[:40])
        return execute(sql, params, many, context)

    monkeypatch.setattr(psycopg.Connection, "commit", commit)
    return commits, autocommitted


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_commits_a_few_times_per_group_of_calls_not_per_kind_of_write(fake_meta, monkeypatch, settings):
    settings.OUTREACH_SEND_CONCURRENCY = 16
    monkeypatch.setattr(worker, "_last_reap", [time.monotonic()])  # the reaper's own statements aside
    # The last calls' answers are gathered together however slowly a loaded machine sends them back
    # (20 ms in production; CI once saw them trickle in over three commits).
    monkeypatch.setattr(worker.Batch, "GATHER_SECONDS", 1.0)
    sender = outbox(fake_meta, 60)
    commits, autocommitted = count_commits(monkeypatch)
    with connection.execute_wrapper(autocommitted):
        report = worker.send_due(sender.pk, batch=60)
    assert report.outcomes == {"sent": 60}
    assert fake_meta.sent_count(IG_ACCOUNT) == 60
    # At most: the claim and the empty claim that ends the run (2); one step per group: the first call
    # alone, a full group of 16, then groups of at least half of it (8), each step recording the
    # answers that came back, taking the next group's slots and marking it started (2 + ceil(43/8)
    # = 8); the last answers (1-2); the bookkeeping after the batch and after the drain (2). A quiet
    # machine makes 10, a loaded one up to 11-14 (fewer answers per step).
    # It was 67: a group's slots, its mark and its answers, each answer between two slots and each
    # answer of the last group committed apart, and the bookkeeping's three statements.
    assert len(commits) <= 14, ", ".join(commits)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_group_is_marked_started_when_its_slot_comes_not_while_it_waits(fake_meta, settings):
    settings.OUTREACH_RATE_LIMITER = "database"
    limiter._limiters.clear()
    fake_meta.now = time.time  # real time: when the call reached the platform is what is checked
    sender = outbox(fake_meta, 1)
    until = time.time() + 1.5  # another worker was told to wait: the account's next slot is later
    limiter.get_limiter().block_until(limiter.sender_key(sender.pk), until)

    assert worker.send_due(sender.pk).outcomes == {"sent": 1}

    message = OutreachMessage.objects.get()
    assert message.send_started_at.timestamp() >= until - 0.05  # not 1.5 s before its call
    assert message.send_started_at < message.sent_at
    [call] = fake_meta.sent(IG_ACCOUNT)
    assert call["at"] >= until - 0.01
