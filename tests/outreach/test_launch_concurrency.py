"""Two managers launching the same campaign at once, on different channels, from two processes:
each creator still gets one message for the step (PostgreSQL, real processes)."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from crm.models import CampaignMember, Creator, SocialAccount
from outreach.models import Launch, OutreachMessage
from tests.conftest import ROOT, test_database_url
from tests.factories import CampaignFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEMBERS = 400


def _launcher(campaign, actor, sender, template, start_at: float, again: bool) -> str:
    return textwrap.dedent(
        f"""
        import time
        import django
        django.setup()
        from django.contrib.auth import get_user_model
        from crm.models import Campaign
        from outreach import services
        from outreach.models import MessageTemplate, SenderAccount
        campaign = Campaign.objects.get(pk={campaign.pk})
        actor = get_user_model().objects.get(pk={actor.pk})
        sender = SenderAccount.objects.get(pk={sender.pk})
        plan = [services.Channel(sender, MessageTemplate.objects.get(pk={template.pk}))]
        time.sleep(max(0, {start_at} - time.time()))
        summary = services.launch_campaign(campaign, actor=actor, plan=plan, again={again})
        print(summary.created, summary.already_queued)
        """
    )


@pytest.mark.parametrize("again", [False, True])
def test_two_processes_launching_on_two_channels_at_once_reach_each_creator_once(alice, again):
    campaign = CampaignFactory(owner=alice)
    creators = Creator.objects.bulk_create(
        [Creator(name=f"Creator {n}", email=f"c{n}@example.com") for n in range(MEMBERS)]
    )
    SocialAccount.objects.bulk_create(
        [
            SocialAccount(creator=c, platform="instagram", handle=f"c_{c.pk}", platform_user_id=str(c.pk))
            for c in creators
        ]
    )
    CampaignMember.objects.bulk_create([CampaignMember(campaign=campaign, creator=c) for c in creators])
    instagram = SenderAccountFactory(platform="instagram")
    email = SenderAccountFactory(platform="email", variant="", account_id="partners@acme.example.com")
    dm = MessageTemplateFactory(subject="", body="Hi {{ creator.first_name }}")
    letter = MessageTemplateFactory(subject="Hello", body="Hi {{ creator.first_name }}")
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    start_at = time.time() + 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _launcher(campaign, alice, sender, template, start_at, again)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for sender, template in ((instagram, dm), (email, letter))
    ]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        outcomes.append(tuple(int(n) for n in out.split()))

    rows = OutreachMessage.objects.filter(campaign=campaign)
    assert rows.count() == MEMBERS
    assert rows.values("creator").distinct().count() == MEMBERS
    assert sorted(created for created, _ in outcomes) == [0, MEMBERS]  # one launch took everyone
    assert sum(launch.created for launch in Launch.objects.filter(campaign=campaign)) == MEMBERS
    assert Launch.objects.filter(campaign=campaign).count() == 2


def test_two_processes_writing_a_message_for_the_same_step_past_the_launch_lock_get_one_each(alice):
    """Without the launch's campaign lock (two writers straight to the outbox, each a different
    channel and reach), the database's live-message constraint still lets one row per creator in."""
    campaign = CampaignFactory(owner=alice)
    creators = Creator.objects.bulk_create(
        [Creator(name=f"Creator {n}", email=f"c{n}@example.com") for n in range(200)]
    )
    instagram = SenderAccountFactory(platform="instagram")
    email = SenderAccountFactory(platform="email", variant="", account_id="partners@acme.example.com")
    ids = [c.pk for c in creators]
    start_at = time.time() + 3
    writer = textwrap.dedent(
        f"""
        import sys, time
        import django
        django.setup()
        from django.db import IntegrityError, transaction
        from outreach.models import OutreachMessage
        reach, sender, platform = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
        time.sleep(max(0, {start_at} - time.time()))
        refused = 0
        for creator in {ids}:
            try:
                with transaction.atomic():
                    OutreachMessage.objects.create(
                        campaign_id={campaign.pk}, creator_id=creator, step=0, reach=reach,
                        sender_account_id=sender, platform=platform, rendered_text="Hi",
                    )
            except IntegrityError:
                refused += 1
        print(refused)
        """
    )
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", writer, str(reach), str(sender.pk), sender.platform],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for reach, sender in ((0, instagram), (1, email))
    ]
    refused = 0
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        refused += int(out.split()[-1])
    rows = OutreachMessage.objects.filter(campaign=campaign)
    assert rows.count() == 200 and rows.values("creator").distinct().count() == 200
    assert refused == 200
