"""The queue: tasks enqueued after commit, settings that keep retries ours, and real qcluster workers
on the ORM broker and on Redis."""

import json
import os
import time

import pytest
from django.conf import settings
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule

from outreach import services
from outreach.models import Conversation, OutreachMessage
from tests.conftest import redis_test_url, run_manage, test_database_url
from tests.factories import CampaignFactory, CampaignMemberFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory
from tests.queue_process import enqueue, start_queue, stop_queue


def ready_campaign(fake, size=3):
    sender = SenderAccountFactory(
        platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, token=IG_TOKEN, api_base_url=fake.url
    )
    campaign = CampaignFactory()
    for n in range(size):
        member = CampaignMemberFactory(campaign=campaign)
        account = SocialAccountFactory(creator=member.creator, platform="instagram", platform_user_id=f"q{n}")
        Conversation.objects.create(
            creator=member.creator, platform="instagram", social_account=account, last_inbound_at=timezone.now()
        )
        fake.user_wrote(IG_ACCOUNT, f"q{n}")
    return sender, campaign


@pytest.mark.django_db
def test_launching_enqueues_sending_only_after_the_commit(fake_meta, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 reads its settings once: patch Conf, not settings
    sender, campaign = ready_campaign(fake_meta)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.launch_campaign(campaign, actor=None, sender_account=sender, template=MessageTemplateFactory())
    assert len(callbacks) == 1
    assert fake_meta.sent_count(IG_ACCOUNT) == 0  # nothing goes out before the rows are committed
    callbacks[0]()
    assert fake_meta.sent_count(IG_ACCOUNT) == 3
    assert set(OutreachMessage.objects.values_list("status", flat=True)) == {"sent"}


def test_queue_settings_keep_retries_ours_and_skip_missed_schedules():
    cluster = settings.Q_CLUSTER
    assert cluster["timeout"] < cluster["retry"]
    assert cluster["max_attempts"] == 1
    assert cluster["catch_up"] is False
    # A sending run hands back well before django-q2 would kill it; its claim is a renewed lease.
    assert cluster["timeout"] > settings.OUTREACH_TASK_BUDGET_SECONDS + 30
    assert settings.OUTREACH_LEASE_SECONDS + settings.OUTREACH_REAP_SECONDS <= 60


def test_redis_url_selects_the_redis_broker():
    script = "from django_q.conf import Conf; import json; print(json.dumps([Conf.REDIS, Conf.ORM]))"
    default = run_manage("shell", "-c", script, env={"REDIS_URL": ""})
    assert json.loads(default.stdout.strip().splitlines()[-1]) == [{}, "default"]
    redis = run_manage("shell", "-c", script, env={"REDIS_URL": "redis://127.0.0.1:6379/15"})
    assert json.loads(redis.stdout.strip().splitlines()[-1]) == ["redis://127.0.0.1:6379/15", None]


@pytest.mark.django_db
def test_periodic_work_is_scheduled_by_a_migration():
    names = set(Schedule.objects.values_list("name", flat=True))
    assert names >= {
        "outreach: dispatch due messages",
        "outreach: reap stale leases",
        "outreach: create follow-ups",
        "crm: expire permission requests",
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_real_qcluster_sends_what_is_enqueued(fake_meta, broker, tmp_path):
    if broker == "redis":
        redis = pytest.importorskip("redis")
        try:
            redis.Redis.from_url(redis_test_url(), socket_connect_timeout=2).flushdb()
        except redis.ConnectionError:
            pytest.skip("no Redis on 127.0.0.1:6379")
    sender, campaign = ready_campaign(fake_meta, size=5)
    OutreachMessage.objects.bulk_create(
        [
            OutreachMessage(
                campaign=campaign, creator=m.creator, sender_account=sender, platform="instagram", rendered_text="hi"
            )
            for m in campaign.members.all()
        ]
    )
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": redis_test_url() if broker == "redis" else "",
        "Q_WORKERS": "1",
    }
    cluster = start_queue("qcluster", env, tmp_path / "cluster.log")
    try:
        enqueue(env, "outreach.tasks.send_due_messages", sender.pk)
        deadline = time.monotonic() + 60
        while fake_meta.sent_count(IG_ACCOUNT) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop_queue(cluster)
    assert fake_meta.sent_count(IG_ACCOUNT) == 5
    assert OutreachMessage.objects.filter(status="sent").count() == 5
