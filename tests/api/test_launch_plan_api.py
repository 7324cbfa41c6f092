"""The launch API with a channel plan, launching again, the launch history and the blocked list."""

import datetime

import pytest
from django.utils import timezone

from crm.models import Campaign, SocialAccount
from outreach.models import Conversation, OutreachMessage
from tests.factories import CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(campaign):
    campaign.status = Campaign.Status.ACTIVE
    campaign.save()
    ig = SenderAccountFactory(platform="instagram")
    mail = SenderAccountFactory(platform="email", variant="", account_id="partners@acme.example.com")
    dm = MessageTemplateFactory(subject="", body="Hi {{ creator.first_name }}")
    letter = MessageTemplateFactory(subject="Hello", body="Hi {{ creator.first_name }}")
    window = CreatorFactory(name="Wendy Window", email="w@example.com")
    SocialAccount.objects.create(creator=window, platform="instagram", handle="wendy", platform_user_id="77")
    Conversation.objects.create(
        creator=window, platform="instagram", last_inbound_at=timezone.now() - datetime.timedelta(hours=1)
    )
    mail_only = CreatorFactory(name="Mia Mail", email="m@example.com")
    nobody = CreatorFactory(name="Noa Nowhere", email="")
    for creator in (window, mail_only, nobody):
        CampaignMemberFactory(campaign=campaign, creator=creator)
    plan = [{"sender_account": ig.pk, "template": dm.pk}, {"sender_account": mail.pk, "template": letter.pk}]
    return campaign, plan, ig, mail, dm, letter


def test_a_plan_launch_says_per_member_which_channel_and_why(as_alice, setup):
    campaign, plan, *_ = setup
    path = f"/api/v1/campaigns/{campaign.pk}/launch/"
    counted = as_alice.post(path, {"plan": plan, "dry_run": True}).json()
    assert counted["launch"] is None and not OutreachMessage.objects.exists()
    choices = {c["creator"]: (c["channel"], c["mode"]) for c in counted["choices"]}
    assert choices == {
        "Wendy Window": ("instagram", "api"),
        "Mia Mail": ("email", "api"),
        "Noa Nowhere": ("instagram", "blocked"),
    }
    assert {(c["channel"], c["mode"]): c["count"] for c in counted["by_channel"]} == {
        ("instagram", "api"): 1,
        ("email", "api"): 1,
        ("instagram", "blocked"): 1,
    }
    launched = as_alice.post(path, {"plan": plan}).json()
    assert (launched["number"], launched["created"]) == (1, 3)

    history = as_alice.get(f"/api/v1/campaigns/{campaign.pk}/launches/").json()
    assert [(h["number"], h["created"], h["created_by"]) for h in history] == [(1, 3, "alice")]
    assert [step["platform"] for step in history[0]["plan"]] == ["instagram", "email"]
    blocked = as_alice.get(f"/api/v1/campaigns/{campaign.pk}/blocked/").json()["results"]
    assert [(b["creator_name"], b["launch_number"]) for b in blocked] == [("Noa Nowhere", 1)]
    assert blocked[0]["reason"] == (
        "Instagram: The creator has no instagram account on file. · Email: The creator has no email address."
    )


def test_launching_again_on_another_channel_reaches_only_the_members_not_reached(as_alice, setup):
    campaign, plan, *_ = setup
    path = f"/api/v1/campaigns/{campaign.pk}/launch/"
    first = as_alice.post(path, {"plan": plan[:1], "manual_fallback": False}).json()
    assert first["by_mode"] == {"api": 1, "blocked": 2}
    plain = as_alice.post(path, {"plan": plan[1:]}).json()
    assert (plain["created"], plain["already_queued"]) == (0, 3)
    again = as_alice.post(path, {"plan": plan[1:], "again": True}).json()
    assert (again["number"], again["created"], again["already_queued"]) == (3, 2, 1)
    assert OutreachMessage.objects.filter(platform="email", status="pending").count() == 1
    assert OutreachMessage.objects.filter(campaign=campaign).count() == 5


def test_a_bad_plan_names_its_field(as_alice, as_charlie, as_viewer, setup):
    campaign, plan, ig, *_ = setup
    path = f"/api/v1/campaigns/{campaign.pk}/launch/"
    twice = as_alice.post(path, {"plan": [plan[0], plan[0]]})
    assert twice.status_code == 400 and "twice" in str(twice.json()["plan"])
    both = as_alice.post(path, {"plan": plan, "sender_account": ig.pk})
    assert both.status_code == 400 and "plan" in both.json()
    none = as_alice.post(path, {"template": plan[0]["template"]})
    assert none.status_code == 400 and "sender_account" in none.json()
    assert as_charlie.get(f"/api/v1/campaigns/{campaign.pk}/launches/").status_code == 404
    assert as_charlie.get(f"/api/v1/campaigns/{campaign.pk}/blocked/").status_code == 404
    assert as_viewer.post(path, {"plan": plan}).status_code == 403


def test_the_history_and_the_blocked_list_take_a_constant_number_of_queries(
    as_alice, setup, django_assert_max_num_queries
):
    campaign, plan, *_ = setup
    for n in range(3):
        as_alice.post(f"/api/v1/campaigns/{campaign.pk}/launch/", {"plan": plan[n % 2 :], "again": True})
    for _ in range(10):
        CampaignMemberFactory(campaign=campaign, creator=CreatorFactory(email=""))
    as_alice.post(f"/api/v1/campaigns/{campaign.pk}/launch/", {"plan": plan, "again": True})
    with django_assert_max_num_queries(8):
        assert len(as_alice.get(f"/api/v1/campaigns/{campaign.pk}/launches/").json()) == 4
    with django_assert_max_num_queries(9):
        assert len(as_alice.get(f"/api/v1/campaigns/{campaign.pk}/blocked/").json()["results"]) >= 10
