"""Select all matching on the creators list: a bulk action (tag, add to a campaign, export) on the whole
filtered set, the filter run again on the server (never a list of ids), in keyset batches, after a
confirmation that shows the count; the handle beside names in pickers."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm import services
from crm.models import CampaignMember, Creator, SocialAccount, Tag
from tests.factories import CampaignFactory, CreatorFactory, SocialAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    german = [CreatorFactory(name=f"Anna {n}", country="DE") for n in range(7)]
    others = [CreatorFactory(name=f"Ben {n}", country="FR") for n in range(3)]
    return german, others


def test_batches_walk_the_whole_set_once_by_keyset(people):
    german, _ = people
    queryset = Creator.objects.filter(country="DE")
    chunks = list(services.creator_batches(queryset, size=3))
    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    assert [pk for chunk in chunks for pk in chunk] == sorted(c.pk for c in german)


def test_tagging_the_matching_set_counts_only_new_tags(people, alice):
    german, others = people
    queryset = Creator.objects.filter(country="DE")
    german[0].tags.add(services.tag_named("spring"))
    assert services.tag_matching(queryset, " spring ", actor=alice, size=2) == 6
    assert services.tag_matching(queryset, "Spring", actor=alice, size=2) == 0  # twice changes nothing
    assert Tag.objects.get().creators.count() == 7 and not others[0].tags.exists()


def test_adding_the_matching_set_to_a_campaign_checks_the_campaign(people, alice, charlie, campaign):
    german, _ = people
    CampaignMember.objects.create(campaign=campaign, creator=german[1])
    assert services.add_matching_to_campaign(campaign, Creator.objects.filter(country="DE"), actor=alice, size=4) == 6
    assert campaign.members.count() == 7
    with pytest.raises(Exception, match="No campaign you work on has this id"):
        services.add_matching_to_campaign(campaign, Creator.objects.all(), actor=charlie)


def test_the_list_offers_select_all_with_the_count_and_the_filter(alice_client, people):
    page = alice_client.get("/creators/?country=DE&sort=name").content.decode()
    assert "Select all 7 matching" in page
    assert 'name="filter" value="country=DE"' in page  # the filter, not ids


def test_select_all_asks_first_with_the_count_then_tags_the_set_run_again(alice_client, people):
    _german, others = people
    body = {"action": "tag", "tag": "germany", "scope": "all", "filter": "country=DE", "back": "/creators/?country=DE"}
    asked = alice_client.post("/creators/bulk/", body)
    assert asked.status_code == 200 and not Tag.objects.filter(name="germany").exists()
    html = asked.content.decode()
    assert "Tag 7 creators “germany”?" in html and "Country: DE" in html
    CreatorFactory(name="Late", country="DE")  # joins between the question and the answer
    done = alice_client.post("/creators/bulk/", {**body, "confirmed": "on"}, follow=True)
    assert "Tagged 8 creator(s) “germany”." in done.content.decode()
    assert Tag.objects.get(name="germany").creators.count() == 8
    assert not others[0].tags.exists()


def test_select_all_adds_to_a_campaign_in_constant_queries(alice_client, campaign):
    def add(n):
        for index in range(n):
            CreatorFactory(name=f"Cara {n}-{index}", country="IT")
        body = {"action": "campaign", "campaign": campaign.pk, "scope": "all", "filter": "country=IT",
                "confirmed": "on", "back": "/creators/"}  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            assert alice_client.post("/creators/bulk/", body).status_code == 302
        return len(queries)

    few = add(3)
    assert add(40) == few  # one batch either way: the number of queries does not grow with the set
    assert campaign.members.count() == 43


def test_select_all_export_streams_the_filtered_csv(alice_client, people):
    response = alice_client.post(
        "/creators/bulk/", {"action": "export", "scope": "all", "filter": "country=FR", "back": "/creators/"}
    )
    assert response.status_code == 302 and response["Location"] == "/creators/export.csv?country=FR"
    csv = b"".join(alice_client.get(response["Location"]).streaming_content).decode()
    assert csv.count("Ben ") == 3 and "Anna" not in csv
    ticked = alice_client.post("/creators/bulk/", {"action": "export", "creator": [people[0][0].pk]})
    body = b"".join(ticked.streaming_content).decode()
    assert "Anna 0" in body and "Anna 1" not in body


def test_an_invalid_filter_or_nothing_chosen_is_said(alice_client, people):
    body = {"action": "tag", "tag": "x", "scope": "all", "filter": "followers_min=-5", "back": "/creators/"}
    bad = alice_client.post("/creators/bulk/", body, follow=True)
    assert "it is not valid any more" in bad.content.decode()
    none = alice_client.post("/creators/bulk/", {"action": "tag", "tag": "x", "back": "/creators/"}, follow=True)
    assert "Choose at least one creator. Or select all matching." in none.content.decode()


def test_pickers_show_the_handle_beside_the_name(alice_client, campaign):
    for handle in ("maya.one", "maya.two"):
        creator = CreatorFactory(name="Maya Hart")
        SocialAccountFactory(creator=creator, platform="instagram", handle=handle)
        CampaignMember.objects.create(campaign=campaign, creator=creator)
    page = alice_client.get("/templates/new/").content.decode()
    assert "Maya Hart (@maya.one)" in page and "Maya Hart (@maya.two)" in page
    assert SocialAccount.objects.count() == 2


def test_another_teams_campaign_is_refused_for_the_whole_set(client, charlie, people):
    theirs = CampaignFactory()
    client.force_login(charlie)
    body = {"action": "campaign", "campaign": theirs.pk, "scope": "all", "filter": "", "confirmed": "on",
            "back": "/creators/"}  # fmt: skip
    client.post("/creators/bulk/", body)
    assert not theirs.members.exists()


def test_members_added_in_bulk_read_back_like_any_other(campaign, alice, people):
    services.add_matching_to_campaign(campaign, Creator.objects.filter(country="FR"), actor=alice)
    member = campaign.members.select_related("creator").first()
    assert member.stage == CampaignMember.Stage.PROSPECT and member.created_at.tzinfo is not None
    assert member.stage_changed_at == member.created_at


def test_the_export_of_a_campaign_filter_holds_its_members(alice_client, campaign, people):
    german, _ = people
    CampaignMember.objects.create(campaign=campaign, creator=german[0])
    csv = b"".join(alice_client.get(f"/creators/export.csv?campaign={campaign.pk}").streaming_content).decode()
    assert "Anna 0" in csv and "Anna 1" not in csv  # campaign conditions are read as the signed-in person
