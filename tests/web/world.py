"""A small world for the page tests: campaigns with members in every stage, permission requests,
outbox rows waiting for people, a reply to review, rights about to end and a paused sender."""

import datetime

from django.utils import timezone

from crm import services
from crm.models import CampaignMember, Tag
from outreach.models import Conversation, ConversationMessage, OutreachMessage, SenderAccount
from tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ContentFactory,
    CreatorFactory,
    PermissionRequestFactory,
    SocialAccountFactory,
    TagFactory,
)
from tests.outreach.factories import SenderAccountFactory

# For the pages' 300 ms budget "with demo-sized data": the demo's three campaigns of 20 members (its
# creators are in several; here each member is a creator of their own, 60, more than a page of 50, so
# the pager shows). bench/pages.py measures the pages at 100,000 creators.
DEMO_SIZED = {"campaigns": 3, "members": 20}


def build(owner, *, campaigns: int = 1, members: int = 3, team=()):
    """`campaigns` campaigns owned by `owner`, each with `members` members and their traffic."""
    sender = SenderAccountFactory(owner=owner)
    SenderAccountFactory(
        breaker_state=SenderAccount.Breaker.OPEN, breaker_reason="401 from the platform: the token was revoked."
    )
    tag = Tag.objects.filter(name="beauty").first() or TagFactory(name="beauty")
    made = []
    for _ in range(campaigns):
        campaign = CampaignFactory(owner=owner)
        campaign.team.add(*team)
        for index in range(members):
            creator = CreatorFactory(name=f"Creator {campaign.pk}-{index}")
            creator.tags.add(tag)
            SocialAccountFactory(creator=creator, follower_count=1000 * (index + 1))
            stage = CampaignMember.Stage.values[index % len(CampaignMember.Stage.values)]
            CampaignMemberFactory(campaign=campaign, creator=creator, stage=stage)
            OutreachMessage.objects.create(
                campaign=campaign,
                creator=creator,
                sender_account=sender,
                platform=sender.platform,
                rendered_text=f"Hi {creator.first_name}",
                status=[OutreachMessage.Status.MANUAL, OutreachMessage.Status.FAILED][index % 2],
                error_message="500 from the platform" if index % 2 else "",
            )
            conversation = Conversation.objects.create(creator=creator, platform=sender.platform, sender_account=sender)
            ConversationMessage.objects.create(
                conversation=conversation,
                platform=sender.platform,
                direction=ConversationMessage.Direction.IN,
                text="Maybe? What would you pay?",
                at=timezone.now(),
                classification=ConversationMessage.Classification.NEEDS_REVIEW,
            )
            request = PermissionRequestFactory(
                content=ContentFactory(creator=creator, campaign=campaign),
                campaign=campaign,
                requested=True,
                duration_days=7,
            )
            if index % 2 == 0:
                services.grant_rights(
                    request,
                    actor=owner,
                    evidence=services.Evidence(
                        channel="instagram", text="#YesAcme", rule="a person read it",
                        occurred_at=timezone.now() - datetime.timedelta(days=1),
                    ),
                )  # fmt: skip
        made.append(campaign)
    return made
