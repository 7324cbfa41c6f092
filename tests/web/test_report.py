"""A campaign's report: funnel, reply rates by template, platform and sender, median time to a first
reply, rights by status; the same numbers as CSV; constant queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outreach.models import Conversation, ConversationMessage, OutreachMessage
from tests.factories import CampaignFactory, CampaignMemberFactory, PermissionRequestFactory, UserFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db


def sent_to(campaign, member, sender, template, *, reply_after_hours=None):
    sent_at = timezone.now() - datetime.timedelta(days=2)
    OutreachMessage.objects.create(
        campaign=campaign, creator=member.creator, sender_account=sender, platform=sender.platform, template=template,
        rendered_text="Hi", status="sent", sent_at=sent_at,
    )  # fmt: skip
    if reply_after_hours is not None:
        conversation = Conversation.objects.create(creator=member.creator, platform=sender.platform)
        ConversationMessage.objects.create(
            conversation=conversation, platform=sender.platform, direction="in", text="Hello!",
            at=sent_at + datetime.timedelta(hours=reply_after_hours),
        )  # fmt: skip


def test_the_report_counts_replies_by_template_and_the_median_wait(alice_client, campaign):
    sender = SenderAccountFactory(name="Acme IG")
    warm, cold = MessageTemplateFactory(name="Warm"), MessageTemplateFactory(name="Cold")
    members = [CampaignMemberFactory(campaign=campaign, stage="contacted") for _ in range(4)]
    sent_to(campaign, members[0], sender, warm, reply_after_hours=2)
    sent_to(campaign, members[1], sender, warm, reply_after_hours=6)
    sent_to(campaign, members[2], sender, cold, reply_after_hours=10)
    sent_to(campaign, members[3], sender, cold)
    PermissionRequestFactory(campaign=campaign, requested=True)
    response = alice_client.get(f"/campaigns/{campaign.pk}/report/")
    report = response.context["report"]
    assert (report.sent, report.replied, report.reply_percent, report.median_hours) == (4, 3, 75, 6.0)
    assert [(r.label, r.sent, r.replied) for r in report.by["template"]] == [("Cold", 2, 1), ("Warm", 2, 2)]
    assert dict(report.stages)["Contacted"] == 4 and dict(report.rights)["Requested"] == 1
    assert "<svg" in response.content.decode()
    csv = b"".join(alice_client.get(f"/campaigns/{campaign.pk}/report.csv").streaming_content).decode("utf-8-sig")
    assert "reply_rate_by_template,Warm,,2,2,100" in csv and "first_reply,median hours,6.0" in csv
    with CaptureQueriesContext(connection) as few:
        alice_client.get(f"/campaigns/{campaign.pk}/report/")
    for _ in range(5):
        sent_to(campaign, CampaignMemberFactory(campaign=campaign), sender, warm, reply_after_hours=1)
    with CaptureQueriesContext(connection) as more:
        alice_client.get(f"/campaigns/{campaign.pk}/report/")
    assert len(more) == len(few)


def test_another_teams_report_is_not_there(client, campaign):
    client.force_login(UserFactory(username="mallory"))
    assert client.get(f"/campaigns/{campaign.pk}/report/").status_code == 404


def test_who_was_blocked_and_why_stays_on_the_campaign_page(alice_client, campaign):
    member = CampaignMemberFactory(campaign=campaign)
    OutreachMessage.objects.create(
        campaign=campaign, creator=member.creator, sender_account=SenderAccountFactory(), platform="instagram",
        rendered_text="Hi", status="blocked", delivery_mode="blocked", reason="The creator opted out on 3 May.",
    )  # fmt: skip
    html = alice_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Not sent: who and why" in html and "The creator opted out on 3 May." in html
    assert member.creator.name in html


def test_the_dashboard_shows_active_campaigns_first_and_links_its_tiles(alice_client, alice):
    active = CampaignFactory(owner=alice, status="active", name="Running")
    CampaignFactory(owner=alice, status="draft", name="Later")  # newer, but not running
    response = alice_client.get("/")
    html = response.content.decode()
    assert html.index("Running") < html.index("Later")
    assert f"/campaigns/{active.pk}/report/" in html and "?show=failed" in html
