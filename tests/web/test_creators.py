"""The creators pages: filters, keyset pages, bulk actions, the creator's timeline and the CSV import."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf

from crm import services
from crm.models import CampaignMember, Creator, Tag
from tests.factories import CampaignFactory, CreatorFactory, SocialAccountFactory, TagFactory
from tests.web import world
from web.models import ImportJob

pytestmark = pytest.mark.django_db


def names(response):
    return [creator.name for creator in response.context["page"].rows]


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_it_filters_by_platform_tag_followers_stage_and_consent(alice_client, alice):
    maya = CreatorFactory(name="Maya Hart", country="GB")
    SocialAccountFactory(creator=maya, platform="tiktok", handle="mayahart", follower_count=150_000)
    maya.tags.add(TagFactory(name="Beauty"))
    liam = CreatorFactory(name="Liam Stone", country="US")
    SocialAccountFactory(creator=liam, platform="instagram", handle="liamstone", follower_count=150_000)
    campaign = CampaignFactory(owner=alice)
    CampaignMember.objects.create(campaign=campaign, creator=liam, stage="replied")
    services.opt_out(liam, actor=alice, evidence=services.Evidence(channel="email", rule="asked by phone"))

    assert names(alice_client.get("/creators/?platform=tiktok")) == ["Maya Hart"]
    assert names(alice_client.get("/creators/?tag=beauty")) == ["Maya Hart"]
    assert names(alice_client.get("/creators/?platform=instagram&followers_min=100000&followers_max=200000")) == [
        "Liam Stone"
    ]
    assert names(alice_client.get("/creators/?followers_min=200000")) == []
    assert names(alice_client.get("/creators/?stage=replied")) == ["Liam Stone"]
    assert names(alice_client.get("/creators/?consent=opted_out")) == ["Liam Stone"]
    assert names(alice_client.get("/creators/?consent=contactable")) == ["Maya Hart"]
    assert names(alice_client.get("/creators/?q=@mayah")) == ["Maya Hart"]
    assert names(alice_client.get("/creators/?country=US")) == ["Liam Stone"]


def test_it_walks_every_creator_once_through_keyset_pages(alice_client):
    for number in range(120):
        CreatorFactory(name=f"Creator {number:03d}")
    for sort in ["name", "newest", "oldest"]:
        seen, url = [], f"/creators/?sort={sort}"
        while url:
            response = alice_client.get(url)
            seen += names(response)
            cursor = response.context["page"].next_cursor
            url = f"/creators/?sort={sort}&after={cursor}" if cursor else ""
        assert len(seen) == 120 and len(set(seen)) == 120
    assert names(alice_client.get("/creators/?sort=newest"))[0] == "Creator 119"


def test_it_starts_again_from_the_top_with_a_forged_cursor(alice_client):
    CreatorFactory(name="Ann")
    assert names(alice_client.get("/creators/?after=not-a-cursor")) == ["Ann"]


def test_it_names_the_field_of_bad_filter_input(alice_client):
    response = alice_client.get("/creators/?followers_min=lots&stage=nowhere&sort=sideways")
    assert response.status_code == 200
    errors = response.context["filter_form"].errors
    assert "followers_min" in errors and "stage" in errors
    assert b"Enter a number." in response.content


def test_it_lists_creators_in_a_constant_number_of_queries(alice_client, alice):
    world.build(alice, members=1)
    few = queries_for(alice_client, "/creators/?tag=beauty")
    world.build(alice, campaigns=2, members=30)
    assert queries_for(alice_client, "/creators/?tag=beauty") == few


def test_it_tags_and_adds_ticked_creators_to_a_campaign(alice_client, alice):
    one, two = CreatorFactory(), CreatorFactory()
    campaign = CampaignFactory(owner=alice, name="Summer")
    response = alice_client.post(
        "/creators/bulk/", {"creator": [one.pk, two.pk], "action": "tag", "tag": "VIP", "back": "/creators/?q=x"}
    )
    assert response.status_code == 302 and response["Location"] == "/creators/?q=x"
    assert set(Tag.objects.get(name="VIP").creators.all()) == {one, two}
    alice_client.post("/creators/bulk/", {"creator": [one.pk], "action": "campaign", "campaign": campaign.pk})
    alice_client.post("/creators/bulk/", {"creator": [one.pk, two.pk], "action": "campaign", "campaign": campaign.pk})
    assert campaign.members.count() == 2


def test_it_names_what_is_missing_in_a_bulk_action(alice_client, alice, charlie):
    theirs = CampaignFactory(owner=charlie)
    creator = CreatorFactory()
    response = alice_client.post("/creators/bulk/", {"action": "tag", "tag": ""}, follow=True)
    text = response.content.decode()
    assert "Choose at least one creator." in text
    response = alice_client.post(
        "/creators/bulk/", {"creator": [creator.pk], "action": "campaign", "campaign": theirs.pk}, follow=True
    )
    assert "Campaign: Select a valid choice" in response.content.decode()
    assert not theirs.members.exists()


def test_it_gives_viewers_no_bulk_controls_and_refuses_their_writes(viewer_client):
    creator = CreatorFactory()
    response = viewer_client.get("/creators/")
    assert b'name="action"' not in response.content and b'type="checkbox"' not in response.content
    assert b"Import a CSV file" not in response.content
    assert (
        viewer_client.post("/creators/bulk/", {"creator": [creator.pk], "action": "tag", "tag": "x"}).status_code == 403
    )
    assert viewer_client.post("/creators/import/").status_code == 403
    assert not Tag.objects.filter(name="x").exists()


def test_it_shows_a_creators_timeline_in_a_constant_number_of_queries(alice_client, alice):
    world.build(alice, members=1)
    creator = Creator.objects.get()
    few = queries_for(alice_client, f"/creators/{creator.pk}/")
    response = alice_client.get(f"/creators/{creator.pk}/")
    kinds = [entry.kind for entry in response.context["timeline"]]
    assert {"in", "outbox", "consent"} <= set(kinds)
    assert "Maybe? What would you pay?" in response.content.decode()
    world.build(alice, campaigns=3, members=1)  # other creators: the page must not grow with them
    assert queries_for(alice_client, f"/creators/{creator.pk}/") == few


def test_it_answers_404_for_an_unknown_creator(alice_client):
    assert alice_client.get("/creators/999999/").status_code == 404


FILES = "django.core.files.storage.FileSystemStorage"
CSV = (
    "name,instagram,instagram_followers,tags,country\n"
    "Maya Hart,@mayahart,12.5k,beauty;skincare,GB\n"
    "No Handle,,,,\n"
    "Bad Country,@badcountry,100,,Britain\n"
)


def test_it_imports_a_csv_file_in_the_queue_and_reports_rejected_rows(
    alice_client, monkeypatch, tmp_path, settings, django_capture_on_commit_callbacks
):
    """Upload, match the columns (the guess), preview, import; then the rejected rows, fixed in a
    spreadsheet, are uploaded again with the saved mapping offered for the same headers."""
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": FILES, "OPTIONS": {"location": str(tmp_path / "imports")}},
    }
    upload = SimpleUploadedFile("creators.csv", CSV.encode(), content_type="text/csv")
    response = alice_client.post("/creators/import/", {"file": upload, "encoding": "utf-8"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/creators/import/{job.pk}/columns/"
    assert job.status == "mapping" and job.mapping == ["name", "instagram", "instagram_followers", "tags", "country"]
    columns = {f"column_{n}": target for n, target in enumerate(job.mapping)}
    response = alice_client.post(response["Location"], {**columns, "save_as": "Monthly export"})
    assert response["Location"] == f"/creators/import/{job.pk}/preview/"
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(response["Location"])
    assert response["Location"] == f"/creators/import/{job.pk}/"
    page = alice_client.get(response["Location"])
    job.refresh_from_db()
    assert job.status == "done" and job.created >= 1 and job.rejected >= 1
    text = page.content.decode()
    assert "not imported" in text and '<td data-label="Line">4</td>' in text
    assert Creator.objects.filter(name="Maya Hart").exists()
    assert not list(tmp_path.glob("imports/*.csv"))  # the upload is deleted when done
    report = b"".join(alice_client.get(f"/creators/import/{job.pk}/rejected.csv").streaming_content)
    lines = report.decode("utf-8-sig").splitlines()
    assert lines[0] == "name,instagram,instagram_followers,tags,country,rejected_line,rejected_reason"
    assert lines[2].startswith("Bad Country,'@badcountry,100,,Britain,4,\"country: write the country as its two-letter")
    fixed = "\n".join([lines[0], lines[2].replace("Britain", "GB")]).encode()  # fixed in a spreadsheet
    again = alice_client.post("/creators/import/", {"file": SimpleUploadedFile("fixed.csv", fixed)})
    assert "saved mapping <strong>Monthly export</strong>" in alice_client.get(again["Location"]).content.decode()
    second = ImportJob.objects.exclude(pk=job.pk).get()
    assert second.mapping == [*job.mapping, "", ""]  # the two added columns are skipped
    preview = alice_client.get(f"/creators/import/{second.pk}/preview/").content.decode()
    assert 'data-outcome="new"' in preview
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(f"/creators/import/{second.pk}/preview/")
    assert Creator.objects.get(name="Bad Country").accounts.get().handle == "badcountry"


def test_it_refuses_a_binary_file_whole_and_says_why(alice_client, tmp_path, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": FILES, "OPTIONS": {"location": str(tmp_path / "imports")}},
    }
    upload = SimpleUploadedFile("photo.csv", b"\x89PNG\x00\x00binary", content_type="text/csv")
    response = alice_client.post("/creators/import/", {"file": upload})
    assert response.status_code == 200 and "it contains binary data" in response.content.decode()
    assert not ImportJob.objects.exists() and not list(tmp_path.glob("imports/*"))


def test_it_names_the_field_when_the_upload_is_missing_or_the_encoding_unknown(alice_client):
    response = alice_client.post("/creators/import/", {"encoding": "klingon"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"file", "encoding"}
    assert b"Unknown encoding" in response.content


def test_it_hides_someone_elses_import(client, alice, charlie):
    job = ImportJob.objects.create(created_by=alice, file_name="a.csv", stored_path="/nonexistent")
    client.force_login(charlie)
    assert client.get(f"/creators/import/{job.pk}/").status_code == 404
