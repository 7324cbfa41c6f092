"""Finding people: accent-insensitive search (PostgreSQL's unaccent, a Python function on SQLite), a
pasted profile link, and the CSV export of any filtered list (safe against CSV injection)."""

import csv
import io

import pytest

from crm.search import fold
from tests.factories import CampaignMemberFactory, CreatorFactory, SocialAccountFactory

pytestmark = pytest.mark.django_db


def names(client, **query):
    return [creator.name for creator in client.get("/creators/", query).context["page"].rows]


def test_search_ignores_accents_and_case(alice_client):
    CreatorFactory(name="Jürgen Müller", email="jm@example.com")
    CreatorFactory(name="Zoë Ørsted")
    CreatorFactory(name="Mike Miller")
    assert fold("Ørsted Straße") == "orsted strasse"
    assert names(alice_client, q="muller") == ["Jürgen Müller"]
    assert names(alice_client, q="MÜLL") == ["Jürgen Müller"]
    assert names(alice_client, q="zoe") == ["Zoë Ørsted"]


def test_a_pasted_profile_link_finds_its_creator(alice_client):
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="maya.hart")
    other = CreatorFactory(name="Maya Hartley")
    SocialAccountFactory(creator=other, platform="tiktok", handle="maya.hart")
    assert names(alice_client, q="https://www.instagram.com/maya.hart/?hl=en") == ["Maya Hart"]
    assert names(alice_client, q="https://www.tiktok.com/@maya.hart") == ["Maya Hartley"]


def test_the_filtered_list_exports_as_csv_without_formulas(alice_client):
    evil = CreatorFactory(name='=HYPERLINK("http://evil.example")', email="a@example.com")
    SocialAccountFactory(creator=evil, platform="instagram", handle="evil", follower_count=23_400)
    CreatorFactory(name="-2+3 Müller")
    CreatorFactory(name="Someone Else")
    response = alice_client.get("/creators/export.csv", {"q": "e", "sort": "name"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "name", "email"]
    by_name = {row[1]: row for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil.example")' in by_name
    assert "'-2+3 Müller" in by_name
    assert by_name['\'=HYPERLINK("http://evil.example")'][6] == "instagram:@evil (23400)"
    only = b"".join(alice_client.get("/creators/export.csv", {"q": "muller"}).streaming_content).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(only)))) == 2  # the header and Müller


def test_results_are_counted_and_sorted_by_followers(alice_client):
    for name, followers in [("Small", 900), ("Big", 23_400), ("Middle", 5_000)]:
        SocialAccountFactory(creator=CreatorFactory(name=f"{name} Creator"), follower_count=followers)
    CreatorFactory(name="No Account Creator")
    response = alice_client.get("/creators/", {"q": "creator", "sort": "followers"})
    assert response.context["matching"] == 4 and "4 creators match." in response.content.decode()
    assert [c.name for c in response.context["page"].rows] == [
        "Big Creator", "Middle Creator", "Small Creator", "No Account Creator",
    ]  # fmt: skip
    assert alice_client.get("/creators/").context["matching"] is None  # the whole table is never counted


def test_the_launch_preview_picker_searches_and_shows_handles(alice_client, campaign):
    for name, handle in [("Jürgen Müller", "jm.official"), ("Anna Berg", "anna.b"), ("Anna Berg", "anna.other")]:
        creator = CreatorFactory(name=name)
        SocialAccountFactory(creator=creator, platform="instagram", handle=handle)
        CampaignMemberFactory(campaign=campaign, creator=creator)
    form = alice_client.get(f"/campaigns/{campaign.pk}/launch/", {"find": "muller"}).context["form"]
    assert [label for _, label in form.fields["member"].choices][1:] == ["Jürgen Müller (@jm.official)"]
    form = alice_client.get(f"/campaigns/{campaign.pk}/launch/", {"find": "anna"}).context["form"]
    assert sorted(label for _, label in form.fields["member"].choices[1:]) == [
        "Anna Berg (@anna.b)", "Anna Berg (@anna.other)",
    ]  # fmt: skip
