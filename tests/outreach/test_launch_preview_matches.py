"""The preview (a dry run) says exactly what the launch then does: the same counts by mode, reason and
channel, the same member-by-member choices, the same already-queued count; over more members than
one chunk, with members already queued (counted in SQL, never loaded), a template that cannot be
rendered for some members, and a second launch with `again`."""

import datetime

import pytest
from django.utils import timezone

from crm.models import SocialAccount
from outreach import services
from outreach.models import Conversation, OutreachMessage
from outreach.services import launch as launch_module
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db
Channel = services.Channel


def _same(preview, launched):
    assert preview.members == launched.members
    assert preview.already_queued == launched.already_queued
    assert preview.created == launched.created
    assert preview.by_mode == launched.by_mode
    assert preview.by_reason == launched.by_reason
    assert preview.by_channel == launched.by_channel
    assert preview.choices == launched.choices
    assert preview.preview == launched.preview


def test_the_preview_counts_are_the_launch_counts(alice, monkeypatch):
    monkeypatch.setattr(launch_module, "CHUNK", 7)  # several chunks, a range of ids each
    now = timezone.now()
    ig = SenderAccountFactory(name="Acme IG", platform="instagram")
    mail = SenderAccountFactory(name="Acme mail", platform="email", variant="", account_id="p@acme.example.com")
    dm = MessageTemplateFactory(name="DM", subject="", body="Hi {{ creator.handle }}!")  # no handle: not rendered
    letter = MessageTemplateFactory(name="Mail", subject="Acme x {{ creator.first_name }}", body="Hello")
    campaign = CampaignFactory(owner=alice, brand="Acme")
    other = CampaignFactory(owner=alice, brand="Acme")
    for number in range(40):
        creator = CreatorFactory(name=f"Person {number}", email=f"p{number}@example.com" if number % 3 else "")
        if number % 2:
            SocialAccount.objects.create(
                creator=creator, platform="instagram", handle=f"p{number}", platform_user_id=f"9{number}"
            )
        if number % 4 == 1:
            Conversation.objects.create(
                creator=creator, platform="instagram", last_inbound_at=now - datetime.timedelta(hours=2)
            )
        if number % 10 == 0:  # contacted by another campaign lately: blocked by the cool-down
            OutreachMessage.objects.create(
                campaign=other, creator=creator, sender_account=mail, platform="email", status="sent",
                sent_at=now, due_at=now,
            )  # fmt: skip
        CampaignMemberFactory(campaign=campaign, creator=creator)
    plan = [Channel(ig, template=dm), Channel(mail, template=letter)]

    # Some members are queued already by a first, Instagram-only launch; the others were blocked.
    services.launch_campaign(campaign, actor=alice, plan=[plan[0]], manual_fallback=False, now=now)
    for again in (False, True):
        for fallback in (False, True):
            preview = services.launch_campaign(
                campaign, actor=alice, plan=plan, manual_fallback=fallback, again=again, dry_run=True, now=now
            )
            before = OutreachMessage.objects.count()
            with pytest.raises(_Rollback):
                _launch_then_undo(campaign, alice, plan, fallback, again, now, preview)
            assert OutreachMessage.objects.count() == before
    preview = services.launch_campaign(campaign, actor=alice, plan=plan, again=True, dry_run=True, now=now)
    launched = services.launch_campaign(campaign, actor=alice, plan=plan, again=True, now=now)
    _same(preview, launched)
    assert preview.already_queued > 0 and preview.by_mode["blocked"] > 0 and preview.by_mode["api"] > 0
    assert launched.launch.created == OutreachMessage.objects.filter(launch=launched.launch).count()
    assert launched.launch.counts["by_mode"] == dict(preview.by_mode)
    assert any(reason.startswith("Instagram: Cannot render") for _, reason in preview.by_reason)


class _Rollback(Exception):
    pass


def _launch_then_undo(campaign, actor, plan, fallback, again, now, preview):
    from django.db import transaction

    with transaction.atomic():
        launched = services.launch_campaign(
            campaign, actor=actor, plan=plan, manual_fallback=fallback, again=again, now=now
        )
        _same(preview, launched)
        written = OutreachMessage.objects.filter(launch=launched.launch)
        assert written.count() == launched.created
        assert written.filter(delivery_mode="blocked").count() == launched.by_mode.get("blocked", 0)
        raise _Rollback
