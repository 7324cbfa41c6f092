"""Launching a campaign step: rendered rows, once each, with counts per mode and reason."""

import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import CampaignMember, Creator, SocialAccount
from outreach import services
from outreach.models import OutreachMessage
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_sender():
    return SenderAccountFactory(platform="email", variant="", account_id="partners@acme.example.com")


def test_launch_creates_one_rendered_row_per_member_and_says_how_each_will_go(alice, email_sender):
    campaign = CampaignFactory(owner=alice, brand="Acme")
    reachable = CampaignMemberFactory(
        campaign=campaign, creator=CreatorFactory(name="Maya Hart", email="m@example.com")
    )
    CampaignMemberFactory(campaign=campaign, creator=CreatorFactory(name="No Mail", email=""))
    opted_out = CampaignMemberFactory(campaign=campaign)
    Creator.objects.filter(pk=opted_out.creator_id).update(opted_out_at="2026-01-01T00:00:00Z")
    template = MessageTemplateFactory(
        subject="Hello {{ creator.first_name }}", body="{{ campaign.brand }} loves your work"
    )

    summary = services.launch_campaign(campaign, actor=alice, sender_account=email_sender, template=template)

    assert (summary.members, summary.created, summary.already_queued) == (3, 3, 0)
    assert summary.by_mode == {"api": 1, "blocked": 2}
    reasons = {reason: count for (mode, reason), count in summary.by_reason.items()}
    assert reasons["The creator has no email address."] == 1
    assert reasons["The creator opted out on 2026-01-01."] == 1
    row = OutreachMessage.objects.get(creator=reachable.creator)
    assert (row.rendered_subject, row.rendered_text) == ("Hello Maya", "Acme loves your work")
    assert (row.status, row.step, row.created_by) == ("pending", 0, alice)
    assert summary.preview["text"] == "Acme loves your work"


def test_launching_twice_creates_nothing_new(alice, email_sender):
    campaign = CampaignFactory(owner=alice)
    CampaignMemberFactory.create_batch(3, campaign=campaign)
    template = MessageTemplateFactory()
    services.launch_campaign(campaign, actor=alice, sender_account=email_sender, template=template)
    again = services.launch_campaign(campaign, actor=alice, sender_account=email_sender, template=template)
    assert (again.created, again.already_queued) == (0, 3)
    assert OutreachMessage.objects.count() == 3


def test_a_subset_of_members_and_a_dry_run(alice, email_sender):
    campaign = CampaignFactory(owner=alice)
    members = CampaignMemberFactory.create_batch(3, campaign=campaign)
    template = MessageTemplateFactory()
    preview = services.launch_campaign(
        campaign, actor=alice, sender_account=email_sender, template=template, member_ids=[members[0].pk], dry_run=True
    )
    assert (preview.members, preview.created) == (1, 1)
    assert not OutreachMessage.objects.exists()


def test_a_member_the_template_cannot_be_rendered_for_is_blocked_with_the_reason(alice):
    campaign = CampaignFactory(owner=alice)
    sender = SenderAccountFactory(platform="instagram")
    member = CampaignMemberFactory(campaign=campaign)
    template = MessageTemplateFactory(body="Loved {{ content.url }}")
    summary = services.launch_campaign(campaign, actor=alice, sender_account=sender, template=template)
    row = OutreachMessage.objects.get(creator=member.creator)
    assert (row.status, row.delivery_mode) == ("blocked", "blocked")
    assert row.reason == "Cannot render the template: No value for content.url (the post's address)."
    assert summary.by_mode == {"blocked": 1}


def test_a_sequence_launches_its_first_step_and_follows_up_only_without_a_reply(alice, email_sender):
    import datetime

    from django.utils import timezone

    from outreach.models import Conversation

    campaign = CampaignFactory(owner=alice)
    quiet, chatty = CampaignMemberFactory.create_batch(2, campaign=campaign)
    first = SequenceStepFactory(position=0)
    SequenceStepFactory(sequence=first.sequence, position=1, delay_days=3, template__body="Just following up!")
    services.launch_campaign(campaign, actor=alice, sender_account=email_sender, sequence=first.sequence)
    sent_at = timezone.now() - datetime.timedelta(days=4)
    OutreachMessage.objects.update(status="sent", sent_at=sent_at)
    Conversation.objects.create(
        creator=chatty.creator, platform="email", last_inbound_at=sent_at + datetime.timedelta(hours=2)
    )

    assert services.create_due_follow_ups() == 1
    follow_up = OutreachMessage.objects.get(step=1)
    assert (follow_up.creator, follow_up.rendered_text, follow_up.status) == (
        quiet.creator,
        "Just following up!",
        "pending",
    )
    assert services.create_due_follow_ups() == 0
    assert services.stop_sequences(quiet.creator) == 1
    follow_up.refresh_from_db()
    assert follow_up.status == "cancelled"


def test_template_and_platform_must_fit(alice, email_sender):
    campaign = CampaignFactory(owner=alice)
    with pytest.raises(ValidationError, match="template or a sequence"):
        services.launch_campaign(campaign, actor=alice, sender_account=email_sender)
    with pytest.raises(ValidationError, match="written for x"):
        services.launch_campaign(
            campaign, actor=alice, sender_account=email_sender, template=MessageTemplateFactory(platforms=["x"])
        )


def test_the_launch_uses_a_constant_number_of_queries(alice, email_sender):
    template = MessageTemplateFactory()

    def queries_for(count):
        campaign = CampaignFactory(owner=alice)
        CampaignMemberFactory.create_batch(count, campaign=campaign)
        with CaptureQueriesContext(connection) as captured:
            services.launch_campaign(campaign, actor=alice, sender_account=email_sender, template=template)
        return len(captured)

    # 20 rows stay under SQLite's 999 parameters per INSERT; PostgreSQL has no such split.
    assert queries_for(20) == queries_for(3)


@pytest.mark.postgres
@pytest.mark.slow
def test_ten_thousand_members_launch_in_under_ten_seconds(alice):
    campaign = CampaignFactory(owner=alice)
    creators = Creator.objects.bulk_create(
        [Creator(name=f"Creator {n}", email=f"c{n}@example.com") for n in range(10_000)]
    )
    SocialAccount.objects.bulk_create(
        [
            SocialAccount(creator=c, platform="instagram", handle=f"c_{c.pk}", platform_user_id=str(c.pk))
            for c in creators
        ]
    )
    CampaignMember.objects.bulk_create([CampaignMember(campaign=campaign, creator=c) for c in creators])
    sender = SenderAccountFactory(platform="instagram")
    template = MessageTemplateFactory(body="Hi {{ creator.first_name }} (@{{ creator.handle }})")
    started = time.perf_counter()
    summary = services.launch_campaign(campaign, actor=alice, sender_account=sender, template=template)
    elapsed = time.perf_counter() - started
    assert summary.created == 10_000
    assert OutreachMessage.objects.filter(campaign=campaign).count() == 10_000
    assert elapsed < 10, f"{elapsed:.1f} s"
    print(f"launch of 10,000 members: {elapsed:.2f} s")


def test_a_message_another_worker_is_sending_counts_for_the_cooldown(alice, email_sender):
    from django.utils import timezone

    first, second = CampaignFactory(owner=alice), CampaignFactory(owner=alice)
    creator = CreatorFactory(email="maya@example.com")
    CampaignMemberFactory(campaign=first, creator=creator)
    CampaignMemberFactory(campaign=second, creator=creator)
    OutreachMessage.objects.create(
        campaign=first, creator=creator, sender_account=email_sender, platform="email", rendered_text="hi",
        status="sending", send_started_at=timezone.now(),
    )  # fmt: skip
    summary = services.launch_campaign(
        second, actor=alice, sender_account=email_sender, template=MessageTemplateFactory(), dry_run=True
    )
    [(mode, reason)] = summary.by_reason
    assert mode == "blocked" and reason.startswith("Contacted by another campaign")
