"""Every list endpoint answers with the same number of queries for 1 item as for 100 (a page of 100)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.services import column_mappings
from outreach.models import Conversation, ConversationMessage, OutreachMessage
from tests.api.conftest import api_for
from tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ConsentEventFactory,
    ContentFactory,
    CreatorFactory,
    PermissionRequestFactory,
    SocialAccountFactory,
    UserFactory,
)
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory, SequenceStepFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/creators/",
    "/api/v1/social-accounts/",
    "/api/v1/tags/",
    "/api/v1/campaigns/",
    "/api/v1/campaigns/{campaign}/members/",
    "/api/v1/content/",
    "/api/v1/permission-requests/",
    "/api/v1/consent-events/",
    "/api/v1/templates/",
    "/api/v1/sequences/",
    "/api/v1/sender-accounts/",
    "/api/v1/outreach-messages/",
    "/api/v1/conversations/",
    "/api/v1/conversations/{conversation}/messages/",
    "/api/v1/import-mappings/",
]


def add_one_of_each(user, campaign, conversation, sender):
    creator = CreatorFactory()
    SocialAccountFactory(creator=creator)
    creator.tags.create(name=f"tag {creator.pk}")
    other = CampaignFactory(owner=user)
    other.team.add(UserFactory())
    CampaignMemberFactory(campaign=campaign, creator=creator)
    request = PermissionRequestFactory(content=ContentFactory(creator=creator), creator=creator)
    ConsentEventFactory(kind="opted_out", creator=creator, actor=user, text="stop")
    SequenceStepFactory(sequence__name=f"seq {creator.pk}", template=MessageTemplateFactory())
    SenderAccountFactory(owner=user)
    OutreachMessage.objects.create(
        campaign=campaign, creator=creator, sender_account=sender, platform="instagram", rendered_text="Hi"
    )
    Conversation.objects.create(creator=creator, platform="instagram", sender_account=sender)
    ConversationMessage.objects.create(
        conversation=conversation, platform="instagram", direction="in", text="hello", at=request.created_at
    )
    column_mappings.create_mapping(
        actor=UserFactory(), name=f"Export {creator.pk}", for_team=True, columns=[["Who", "name"], ["IG", "instagram"]]
    )


@pytest.mark.slow(seconds=6)
def test_every_list_costs_the_same_queries_for_1_item_as_for_100(alice):
    api = api_for(alice, role="admin")
    campaign = CampaignFactory(owner=alice)
    sender = SenderAccountFactory(owner=alice)
    conversation = Conversation.objects.create(creator=CreatorFactory(), platform="x")
    urls = [url.format(campaign=campaign.pk, conversation=conversation.pk) for url in LISTS]

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            answer = api.get(url, page_size=100)
            assert answer.status_code == 200, (url, answer.content[:300])
        return len(captured), len(answer.json()["results"])

    add_one_of_each(alice, campaign, conversation, sender)
    queries("/api/v1/tags/")  # the token's first use records last_used_at once
    few = {url: queries(url) for url in urls}
    for _ in range(99):
        add_one_of_each(alice, campaign, conversation, sender)
    for url in urls:
        count, shown = queries(url)
        assert shown >= 100, url
        assert count == few[url][0], f"{url}: {few[url][0]} queries for {few[url][1]} items, {count} for {shown}"
