"""Edit and undo: a creator's details and tags, a campaign's details and team, and a cancel in the
manual queue that can be undone."""

import pytest

from crm.models import Creator
from outreach.models import MessageTemplate, OutreachMessage, Sequence, SequenceStep
from tests.factories import CampaignMemberFactory, CreatorFactory, UserFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db


def test_a_creator_is_edited_with_errors_by_field(alice_client):
    creator = CreatorFactory(name="Maya Hart")
    url = f"/creators/{creator.pk}/edit/"
    assert alice_client.get(url).status_code == 200
    bad = alice_client.post(url, {"name": "", "email": "not-an-email", "country": "GB"})
    assert {"name", "email"} <= set(bad.context["form"].errors)
    done = alice_client.post(url, {"name": "Maya Hart-Lee", "email": "maya@example.com", "country": "gb",
                                   "notes": "Prefers email", "tags": "beauty, skincare, beauty"})  # fmt: skip
    assert done.status_code == 302
    creator.refresh_from_db()
    assert (creator.name, creator.country, creator.notes) == ("Maya Hart-Lee", "GB", "Prefers email")
    assert sorted(creator.tags.values_list("name", flat=True)) == ["beauty", "skincare"]


def test_a_campaign_is_edited_with_its_team(alice_client, campaign, bob, charlie):
    url = f"/campaigns/{campaign.pk}/edit/"
    form = alice_client.get(url).context["form"]
    assert form.initial["team"] == [bob.pk]
    data = {"name": "Autumn Glow", "brand": campaign.brand, "status": campaign.status, "team": [charlie.pk],
            "approval_hashtag": "#YesAutumn"}  # fmt: skip
    assert alice_client.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Autumn Glow" and list(campaign.team.all()) == [charlie]
    bad = alice_client.post(url, {**data, "approval_hashtag": "no spaces allowed", "starts_on": "2027-06-01",
                                  "ends_on": "2027-05-01"})  # fmt: skip
    assert bad.status_code == 200 and bad.context["form"].errors


def test_someone_off_the_team_cannot_edit(client, campaign):
    client.force_login(UserFactory(username="mallory"))
    assert client.get(f"/campaigns/{campaign.pk}/edit/").status_code in (403, 404)


def test_a_cancel_can_be_undone(alice_client, campaign):
    member = CampaignMemberFactory(campaign=campaign)
    message = OutreachMessage.objects.create(
        campaign=campaign, creator=member.creator, sender_account=SenderAccountFactory(), platform="instagram",
        rendered_text="Hi", status="manual",
    )  # fmt: skip
    page = alice_client.get("/manual-queue/").content.decode()
    assert f"Cancel the message to {member.creator.name}? You can undo it right after." in page
    alice_client.post(f"/manual-queue/{message.pk}/cancel/")
    message.refresh_from_db()
    assert message.status == "cancelled"
    page = alice_client.get("/manual-queue/")
    assert page.context["undo"]["pk"] == message.pk and "Undo: put it back in the queue" in page.content.decode()
    alice_client.post(f"/manual-queue/{message.pk}/requeue/")
    message.refresh_from_db()
    assert message.status == "pending" and "Put back" in message.reason
    again = alice_client.post(f"/manual-queue/{message.pk}/requeue/", follow=True)
    assert "Only a cancelled message can be put back" in again.content.decode()


def test_a_member_is_removed_and_the_creator_stays(alice_client, campaign):
    member = CampaignMemberFactory(campaign=campaign)
    html = alice_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert f"Take {member.creator.name} off {campaign.name}?" in html
    response = alice_client.post(f"/campaigns/{campaign.pk}/members/{member.pk}/remove/")
    assert response.status_code == 302
    assert not campaign.members.exists() and Creator.objects.filter(pk=member.creator_id).exists()


def test_a_template_nothing_uses_is_deleted_and_one_in_use_is_kept(alice_client):
    unused, used = MessageTemplateFactory(name="Old"), MessageTemplateFactory(name="Live")
    sequence = Sequence.objects.create(name="Spring")
    SequenceStep.objects.create(sequence=sequence, position=0, template=used, delay_days=0)
    assert alice_client.post(f"/templates/{unused.pk}/delete/").status_code == 302
    assert not MessageTemplate.objects.filter(pk=unused.pk).exists()
    kept = alice_client.post(f"/templates/{used.pk}/delete/", follow=True).content.decode()
    assert (
        "was used by sequence “Spring”: archive it instead" in kept
        and MessageTemplate.objects.filter(pk=used.pk).exists()
    )
