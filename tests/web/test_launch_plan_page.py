"""The launch page with a channel plan: per member the channel and why, counts per channel, errors by
field; the campaign page's launch history and blocked list in a constant number of queries; the CSV."""

import pytest

from crm.models import Campaign, SocialAccount
from outreach import services
from outreach.models import Launch, OutreachMessage
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(alice):
    campaign = CampaignFactory(owner=alice, brand="Acme", status=Campaign.Status.ACTIVE)
    ig = SenderAccountFactory(name="Acme IG", platform="instagram")
    mail = SenderAccountFactory(name="Acme mail", platform="email", variant="", account_id="p@acme.example.com")
    dm = MessageTemplateFactory(subject="", body="Hi {{ creator.first_name }}")
    letter = MessageTemplateFactory(subject="Hello {{ creator.first_name }}", body="Hi")
    return campaign, ig, mail, dm, letter


def _members(campaign, count, start=0):
    for n in range(start, start + count):
        creator = CreatorFactory(name=f"Person {n}", email=f"p{n}@example.com" if n % 3 else "")
        if n % 2:
            SocialAccount.objects.create(creator=creator, platform="instagram", handle=f"person{n}")
        CampaignMemberFactory(campaign=campaign, creator=creator)


def _body(ig, mail, dm, letter, **extra):
    return {
        "sender_account": ig.pk, "template": dm.pk, "sender_account_2": mail.pk, "template_2": letter.pk,
        "if_none": "skip", "confirm": "preview", **extra,
    }  # fmt: skip


def test_the_preview_lists_each_member_with_the_channel_and_the_policys_reason(alice_client, plan):
    campaign, ig, mail, dm, letter = plan
    _members(campaign, 3)
    response = alice_client.post(f"/campaigns/{campaign.pk}/launch/", _body(ig, mail, dm, letter))
    assert response.status_code == 200
    html = response.content.decode()
    choices = {c["creator"]: (c["channel"], c["mode"]) for c in response.context["summary"].choices}
    # Person 0: no IG, no email; Person 1: IG (closed) and email; Person 2: email only.
    assert choices == {
        "Person 0": ("instagram", "blocked"),
        "Person 1": ("email", "api"),
        "Person 2": ("email", "api"),
    }
    assert response.context["channels"] == [
        {"channel": "email", "api": 2, "manual": 0, "blocked": 0},
        {"channel": "instagram", "api": 0, "manual": 0, "blocked": 1},
    ]
    assert "Instagram: The creator has no instagram account on file. · Email: The creator has no email address." in html
    assert not OutreachMessage.objects.exists() and not Launch.objects.exists()


def test_a_plan_problem_is_shown_by_its_field(alice_client, plan):
    campaign, ig, mail, dm, letter = plan
    response = alice_client.post(
        f"/campaigns/{campaign.pk}/launch/", _body(ig, mail, dm, letter, sender_account_2=ig.pk, template_2=dm.pk)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["sender_account_2"] == ["Instagram is in the plan twice; each channel once."]
    response = alice_client.post(f"/campaigns/{campaign.pk}/launch/", _body(ig, mail, dm, letter, sender_account_2=""))
    assert "Choose the account to send from" in response.context["form"].errors["sender_account_2"][0]


def test_the_preview_takes_a_constant_number_of_queries(alice_client, plan):
    campaign, ig, mail, dm, letter = plan

    def queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert (
                alice_client.post(f"/campaigns/{campaign.pk}/launch/", _body(ig, mail, dm, letter)).status_code == 200
            )
        return len(captured)

    _members(campaign, 3)
    few = queries()
    _members(campaign, 20, start=3)
    assert queries() == few


def test_the_campaign_page_keeps_the_launches_and_who_was_blocked(alice, alice_client, plan):
    campaign, ig, mail, dm, letter = plan
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def page_queries():
        with CaptureQueriesContext(connection) as captured:
            page = alice_client.get(f"/campaigns/{campaign.pk}/")
        return page, len(captured)

    _members(campaign, 3)
    channels = [services.Channel(ig, dm), services.Channel(mail, letter)]
    services.launch_campaign(campaign, actor=alice, plan=channels, manual_fallback=False)
    page, few = page_queries()
    html = page.content.decode()
    assert 'id="launch-1"' in html and "Instagram (Acme IG) → Email (Acme mail)" in html
    assert "Person 0" in html and "#1" in html

    _members(campaign, 12, start=3)
    services.launch_campaign(campaign, actor=alice, plan=channels[1:], again=True)
    services.launch_campaign(campaign, actor=alice, plan=channels[:1], again=True)
    page, more = page_queries()
    assert 'id="launch-3"' in page.content.decode()
    assert more == few

    csv = alice_client.get(f"/campaigns/{campaign.pk}/blocked.csv")
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "launch,creator_id,creator,email,channel,sender_account,why,queued_at"
    assert len(lines) - 1 == OutreachMessage.objects.filter(campaign=campaign, status="blocked").count() > 3


def _queries(client, url, data) -> tuple[object, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, data)
    assert response.status_code == 200
    return response, len(captured)


def test_the_preview_for_a_chosen_member_takes_a_constant_number_of_queries(alice_client, plan):
    campaign, ig, mail, dm, letter = plan
    url = f"/campaigns/{campaign.pk}/launch/"
    _members(campaign, 3)
    chosen = campaign.members.get(creator__name="Person 1")
    response, few = _queries(alice_client, url, _body(ig, mail, dm, letter, member=chosen.pk))
    # Person 1 has an Instagram account whose window is closed: the plan chooses email for them.
    assert response.context["preview"] == {"creator": "Person 1", "subject": "Hello Person", "text": "Hi"}
    _members(campaign, 40, start=3)
    response, more = _queries(alice_client, url, _body(ig, mail, dm, letter, member=chosen.pk))
    assert response.context["preview"]["creator"] == "Person 1"
    assert more == few
    # Without a chosen member, no more queries than with one.
    assert _queries(alice_client, url, _body(ig, mail, dm, letter))[1] <= few


def test_the_preview_for_a_member_already_sent_to_is_on_the_first_channel(alice, alice_client, plan):
    campaign, ig, mail, dm, letter = plan
    _members(campaign, 3)
    services.launch_campaign(campaign, actor=alice, plan=[services.Channel(mail, letter)])
    chosen = campaign.members.get(creator__name="Person 1")
    response = alice_client.post(f"/campaigns/{campaign.pk}/launch/", _body(ig, mail, dm, letter, member=chosen.pk))
    assert response.context["summary"].already_queued == 3
    assert response.context["preview"] == {"creator": "Person 1", "subject": "", "text": "Hi Person"}


def test_a_preview_read_in_several_chunks_says_the_same(alice_client, plan, monkeypatch):
    from outreach.services import launch

    campaign, ig, mail, dm, letter = plan
    _members(campaign, 11)
    url = f"/campaigns/{campaign.pk}/launch/"
    whole = alice_client.post(url, _body(ig, mail, dm, letter)).context["summary"]
    monkeypatch.setattr(launch, "PREVIEW_CHUNK", 4)
    chunked = alice_client.post(url, _body(ig, mail, dm, letter)).context["summary"]
    assert chunked.as_dict() == whole.as_dict()
    assert whole.members == 11 and len(whole.choices) == 11
