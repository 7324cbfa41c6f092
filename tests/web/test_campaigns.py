"""The campaign pages: list, create, the member board, the launch flow and roles."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Campaign
from outreach.models import OutreachMessage
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory
from tests.web import world

pytestmark = pytest.mark.django_db


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_it_lists_only_campaigns_one_owns_or_is_on_the_team_of(client, alice, bob, charlie, campaign):
    CampaignFactory(owner=charlie, name="Charlie's own")
    for user, expected in [(alice, [campaign.name]), (bob, [campaign.name]), (charlie, ["Charlie's own"])]:
        client.force_login(user)
        assert [c.name for c in client.get("/campaigns/").context["campaigns"]] == expected


def test_it_hides_anothers_campaign_with_404(client, charlie, campaign):
    client.force_login(charlie)
    assert client.get(f"/campaigns/{campaign.pk}/").status_code == 404
    assert client.get(f"/campaigns/{campaign.pk}/launch/").status_code == 404
    member = CampaignMemberFactory(campaign=campaign)
    assert client.post(f"/campaigns/{campaign.pk}/members/{member.pk}/move/", {"stage": "replied"}).status_code == 404


def test_it_creates_a_campaign_owned_by_its_creator(alice_client, alice):
    response = alice_client.post(
        "/campaigns/new/",
        {"name": "Autumn", "brand": "Acme", "status": "active", "approval_hashtag": "YesAcme", "terms_url": ""},
    )
    campaign = Campaign.objects.get(name="Autumn")
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert campaign.owner == alice and campaign.approval_hashtag == "#YesAcme"


def test_it_names_the_fields_of_a_bad_campaign(alice_client):
    response = alice_client.post(
        "/campaigns/new/",
        {"name": "", "brand": "Acme", "status": "draft", "approval_hashtag": "# no", "starts_on": "2026-05-02",
         "ends_on": "2026-05-01", "terms_url": "not a url"},
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"name", "approval_hashtag", "terms_url"} <= errors.keys()
    assert not Campaign.objects.exists()
    response = alice_client.post(
        "/campaigns/new/",
        {"name": "X", "brand": "Acme", "status": "draft", "starts_on": "2026-05-02", "ends_on": "2026-05-01"},
    )
    assert "ends_on" in response.context["form"].errors


def test_it_moves_a_member_with_one_action(alice_client, campaign):
    member = CampaignMemberFactory(campaign=campaign, creator=CreatorFactory(name="Maya Hart"))
    response = alice_client.post(
        f"/campaigns/{campaign.pk}/members/{member.pk}/move/", {"stage": "confirmed"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.stage == "confirmed"
    confirmed = next(column for column in response.context["board"] if column["stage"] == "confirmed")
    assert [m.creator.name for m in confirmed["members"]] == ["Maya Hart"] and confirmed["count"] == 1
    alice_client.post(f"/campaigns/{campaign.pk}/members/{member.pk}/move/", {"stage": "nowhere"})
    member.refresh_from_db()
    assert member.stage == "confirmed"


def test_it_gives_viewers_and_outsiders_to_the_team_no_board_controls(client, viewer, campaign, admin_user_persona):
    campaign.team.add(viewer)
    member = CampaignMemberFactory(campaign=campaign)
    client.force_login(viewer)
    page = client.get(f"/campaigns/{campaign.pk}/")
    assert b"Move</button>" not in page.content and b"Launch outreach" not in page.content
    assert client.post(f"/campaigns/{campaign.pk}/members/{member.pk}/move/", {"stage": "replied"}).status_code == 403
    assert client.post(f"/campaigns/{campaign.pk}/launch/", {}).status_code == 403
    assert client.post("/campaigns/new/", {"name": "x", "brand": "y", "status": "draft"}).status_code == 403
    member.refresh_from_db()
    assert member.stage == "prospect"
    client.force_login(admin_user_persona)
    assert b"Move</button>" in client.get(f"/campaigns/{campaign.pk}/").content


def test_it_shows_the_board_in_a_constant_number_of_queries(alice_client, alice):
    campaign = world.build(alice, members=1)[0]
    few = queries_for(alice_client, f"/campaigns/{campaign.pk}/")
    for creator in CreatorFactory.create_batch(40):
        CampaignMemberFactory(campaign=campaign, creator=creator, stage="contacted")
    assert queries_for(alice_client, f"/campaigns/{campaign.pk}/") == few
    assert queries_for(alice_client, "/campaigns/") == queries_for(alice_client, "/campaigns/")


@pytest.fixture
def launchable(alice):
    campaign = CampaignFactory(owner=alice, brand="Acme")
    maya = CampaignMemberFactory(campaign=campaign, creator=CreatorFactory(name="Maya Hart", email="maya@example.com"))
    CampaignMemberFactory(campaign=campaign, creator=CreatorFactory(name="No Mail", email=""))
    email = SenderAccountFactory(platform="email", variant="", account_id="partners@acme.example.com")
    template = MessageTemplateFactory(
        subject="Hello {{ creator.first_name }}", body="{{ campaign.brand }} loves your work"
    )
    return campaign, maya, email, template


def test_it_previews_a_launch_with_counts_and_reasons_before_sending(alice_client, launchable):
    campaign, maya, email, template = launchable
    response = alice_client.post(
        f"/campaigns/{campaign.pk}/launch/",
        {"sender_account": email.pk, "template": template.pk, "member": maya.pk, "confirm": "preview"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["preview"] == {
        "creator": "Maya Hart",
        "subject": "Hello Maya",
        "text": "Acme loves your work",
    }
    assert response.context["summary"].by_mode == {"api": 1, "blocked": 1}
    assert "The creator has no email address." in html
    assert not OutreachMessage.objects.exists()


def test_it_launches_after_the_preview(alice_client, launchable):
    campaign, _, email, template = launchable
    response = alice_client.post(
        f"/campaigns/{campaign.pk}/launch/", {"sender_account": email.pk, "template": template.pk, "confirm": "launch"}
    )
    assert response.status_code == 302
    assert OutreachMessage.objects.filter(campaign=campaign).count() == 2
    page = alice_client.get(response["Location"])
    assert "Launch 1: 1 by API, 0 to the manual queue, 1 blocked" in page.content.decode()


def test_it_names_the_problem_when_a_launch_cannot_go(alice_client, launchable):
    campaign, _, email, template = launchable
    Campaign.objects.filter(pk=campaign.pk).update(status="draft")
    response = alice_client.post(
        f"/campaigns/{campaign.pk}/launch/", {"sender_account": email.pk, "template": template.pk, "confirm": "launch"}
    )
    assert response.status_code == 200 and "activate it to send" in response.content.decode()
    response = alice_client.post(f"/campaigns/{campaign.pk}/launch/", {"sender_account": "nope", "confirm": "preview"})
    assert response.status_code == 200
    assert {"sender_account", "template"} <= response.context["form"].errors.keys()
    assert not OutreachMessage.objects.exists()


def test_it_refuses_a_launch_by_a_manager_outside_the_team(client, launchable, charlie):
    campaign, _, email, template = launchable
    client.force_login(charlie)
    response = client.post(f"/campaigns/{campaign.pk}/launch/", {"sender_account": email.pk, "template": template.pk})
    assert response.status_code == 404
    assert not OutreachMessage.objects.exists()


def test_it_refuses_a_launch_by_a_teammate_who_is_a_viewer_and_one_by_a_manager_not_on_the_team(
    client, launchable, viewer, admin_user_persona
):
    campaign, _, email, template = launchable
    campaign.team.add(viewer)
    client.force_login(viewer)
    data = {"sender_account": email.pk, "template": template.pk, "confirm": "launch"}
    assert client.post(f"/campaigns/{campaign.pk}/launch/", data).status_code == 403
    assert not OutreachMessage.objects.exists()
    client.force_login(admin_user_persona)
    assert client.post(f"/campaigns/{campaign.pk}/launch/", data).status_code == 302


def test_each_board_card_links_as_reverse_would_with_its_stage_picked(alice_client, alice):
    # The board makes its links and stage pickers once per board, not per card: the same HTML as before.
    from django.urls import reverse

    campaign = world.build(alice, members=9)[0]
    html = alice_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    for member in campaign.members.all():
        assert f'<a href="{reverse("web:creator", args=[member.creator_id])}">' in html
        move = reverse("web:member_move", args=[campaign.pk, member.pk])
        assert f'action="{move}" hx-post="{move}"' in html
        assert f'action="{reverse("web:member_remove", args=[campaign.pk, member.pk])}"' in html
        picker = html.split(f'id="move-{member.pk}">')[1].split("</select>")[0]
        assert f'<option value="{member.stage}" selected>' in picker and picker.count(" selected") == 1
