"""The import's saved mappings and the page-side steps (web/imports.py): offered to whom, named how,
refused when."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.errors import DomainError
from crm.services import column_mappings
from web import imports
from web.models import ImportJob

pytestmark = pytest.mark.django_db
HEADERS = ["Full name", "IG"]


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def test_ones_own_mapping_comes_first_then_the_teams_and_nobody_elses_personal_one(alice, bob):
    team = column_mappings.save_mapping("Team", HEADERS, ["name", "instagram"], actor=bob, for_team=True)
    private = column_mappings.save_mapping(
        "Bob's", ["ig", "full name"], ["instagram", "name"], actor=bob, for_team=False
    )
    assert column_mappings.offered_mapping(["IG", "Full name"], alice) == team
    assert column_mappings.offered_mapping(HEADERS, bob) in {team, private}
    own = column_mappings.save_mapping("Mine", HEADERS, ["notes", "instagram"], actor=alice, for_team=False)
    assert column_mappings.offered_mapping(HEADERS, alice) == own
    job = imports.prepare_import(SimpleUploadedFile("a.csv", b"IG,Full name\n@maya,Maya\n"), actor=alice)
    assert (job.status, job.mapping) == ("mapping", ["instagram", "notes"])


def test_a_mapping_that_cannot_import_is_refused_per_column_and_a_started_import_is_not_changed(alice):
    job = imports.prepare_import(SimpleUploadedFile("a.csv", b"Who,Followers\nMaya,12k\n"), actor=alice)
    with pytest.raises(DomainError) as error:
        imports.set_mapping(job, ["name", "instagram_followers"], actor=alice)
    assert set(error.value.errors) == {"__all__", "column_1"}
    assert "Instagram handle" in error.value.errors["column_1"][0]
    ImportJob.objects.filter(pk=job.pk).update(mapping=["name", "instagram_followers"])  # bypassing the check
    job.refresh_from_db()
    with pytest.raises(DomainError, match="Match the columns first"):
        imports.confirm_import(job)
    ImportJob.objects.filter(pk=job.pk).update(mapping=["name", ""])
    job.refresh_from_db()
    with pytest.raises(DomainError):  # no way to recognise the creator: still refused
        imports.confirm_import(job)


def test_confirming_twice_queues_once_and_a_started_import_keeps_its_columns(alice, django_capture_on_commit_callbacks):
    job = imports.prepare_import(SimpleUploadedFile("a.csv", b"Who,IG\nMaya,@maya\n"), actor=alice)
    job = imports.set_mapping(job, ["name", "instagram"], actor=alice)
    with django_capture_on_commit_callbacks() as callbacks:
        assert imports.confirm_import(job).status == "queued"
        assert imports.confirm_import(job).status == "queued"
    assert len(callbacks) == 1
    with pytest.raises(DomainError, match="already started"):
        imports.set_mapping(job, ["name", "instagram"], actor=alice)


def test_renaming_keeps_names_unique_per_person_and_only_the_owner_changes_a_private_one(alice, bob):
    first = column_mappings.save_mapping("Monthly", HEADERS, ["name", "instagram"], actor=alice, for_team=False)
    column_mappings.save_mapping("Weekly", HEADERS, ["name", "instagram"], actor=alice, for_team=False)
    with pytest.raises(DomainError, match="already a mapping named “Weekly”"):
        column_mappings.rename_mapping(first, " Weekly ", actor=alice)
    with pytest.raises(DomainError, match="someone else's"):
        column_mappings.rename_mapping(first, "Mine now", actor=bob)
    assert column_mappings.rename_mapping(first, "  Every   month ", actor=alice).name == "Every month"
    column_mappings.delete_mapping(first, actor=alice)
    assert not type(first).objects.filter(pk=first.pk).exists()


def test_an_upload_that_is_not_csv_is_refused_by_the_form_and_not_kept(alice, tmp_path):
    with pytest.raises(DomainError) as error:
        imports.prepare_import(SimpleUploadedFile("photo.csv", b"\x89PNG\x00\x00"), actor=alice)
    assert "binary data" in error.value.errors["file"][0]
    assert not list(tmp_path.iterdir()) and not ImportJob.objects.exists()


def test_the_preview_says_which_rows_of_the_whole_file_repeat_an_earlier_one(alice_client, alice):
    rows = [f"Creator {n},@creator{n}" for n in range(2, 602)]
    rows[498] = "Creator 5 again,https://www.instagram.com/creator5/"  # line 500 repeats line 5
    upload = SimpleUploadedFile("long.csv", ("Name,IG\n" + "\n".join(rows) + "\n").encode())
    job = imports.set_mapping(imports.prepare_import(upload, actor=alice), ["name", "instagram"], actor=alice)
    page = alice_client.get(reverse("web:import_preview", args=[job.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert text.count('data-outcome="new"') == 10  # the first rows show no repeat...
    assert 'id="file-repeats"' in text
    assert "1 row of the file repeats an earlier row (the same email or handle): line 500." in text  # ...the file has
