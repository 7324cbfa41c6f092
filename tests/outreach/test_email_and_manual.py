"""Email outreach end to end (SMTP sink, unsubscribe link that opts out), and the manual queue."""

import re

import pytest
from django.urls import reverse

from crm.models import Creator
from outreach import services, worker
from outreach.models import OutreachMessage
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db


def test_an_email_campaign_goes_out_with_a_working_one_click_unsubscribe(smtp_sink, alice, client):
    sender = SenderAccountFactory(
        platform="email", variant="", account_id="partners@acme.example.com", api_base_url=smtp_sink.url
    )
    campaign = CampaignFactory(owner=alice, brand="Acme")
    member = CampaignMemberFactory(
        campaign=campaign, creator=CreatorFactory(name="Maya Hart", email="maya@example.com")
    )
    template = MessageTemplateFactory(subject="{{ campaign.brand }} x {{ creator.first_name }}", body="Hi!")
    services.launch_campaign(campaign, actor=alice, sender_account=sender, template=template)

    assert worker.send_due(sender.pk).outcomes == {"sent": 1}

    [mail] = smtp_sink.messages
    assert mail.rcpt_tos == ("maya@example.com",)
    assert mail["Subject"] == "Acme x Maya"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.fullmatch(r"<(.+)>", "".join(str(mail["List-Unsubscribe"]).split())).group(1)
    assert link in mail.message.get_body(("plain",)).get_content()
    message = OutreachMessage.objects.get()
    assert message.provider_message_id == str(mail["Message-ID"]).strip()

    path = link.split("127.0.0.1:8000", 1)[1]
    assert client.get(path).status_code == 200  # a confirmation page; a GET changes nothing
    assert Creator.objects.get(pk=member.creator_id).opted_out_at is None
    answer = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    creator = Creator.objects.get(pk=member.creator_id)
    assert creator.opted_out_at is not None
    event = creator.consent_events.get()
    assert (event.kind, event.channel, event.rule) == ("opted_out", "email", "email unsubscribe link (RFC 8058)")


def test_a_forged_unsubscribe_link_changes_nothing(client):
    creator = CreatorFactory()
    response = client.post(reverse("unsubscribe", args=[f"{creator.pk}:forged"]))
    assert response.status_code == 404
    assert not creator.consent_events.exists()


def test_the_manual_queue_marks_sent_by_a_person_and_cancels(alice):
    sender = SenderAccountFactory(platform="linkedin", variant="")
    campaign = CampaignFactory(owner=alice)
    first, second = CampaignMemberFactory.create_batch(2, campaign=campaign)
    for member in (first, second):
        member.creator.accounts.create(platform="linkedin", handle=f"member-{member.pk}")
    services.launch_campaign(campaign, actor=alice, sender_account=sender, template=MessageTemplateFactory())
    worker.send_due(sender.pk)
    queued = list(OutreachMessage.objects.order_by("id"))
    assert {m.status for m in queued} == {"manual"}
    assert "LinkedIn has no open messaging API" in queued[0].reason

    sent = services.mark_sent_manually(queued[0], actor=alice)
    assert (sent.status, sent.sent_by) == ("sent", alice)
    first.refresh_from_db()
    assert first.stage == "contacted"
    with pytest.raises(Exception, match="Only a message in the manual queue"):
        services.mark_sent_manually(sent, actor=alice)
    cancelled = services.cancel_message(queued[1], actor=alice)
    assert cancelled.status == "cancelled"
    with pytest.raises(Exception, match="cannot be cancelled"):
        services.cancel_message(sent, actor=alice)


def test_a_template_preview_for_a_real_creator(alice):
    campaign = CampaignFactory(brand="Acme")
    creator = CreatorFactory(name="Leo Hart")
    template = MessageTemplateFactory(body="Hi {{ creator.first_name }} from {{ campaign.brand }}")
    _, text = services.render_for(template, creator, platform="instagram", campaign=campaign)
    assert text == "Hi Leo from Acme"
