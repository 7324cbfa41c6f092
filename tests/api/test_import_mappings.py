"""Saved import mappings as an API resource (`/api/v1/import-mappings/`): what the page offers again
for a file with the same headers, created, changed and deleted by another tool; bad columns are
refused by field. Who sees and changes which is pinned in tests/test_permission_matrix.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm import importer
from crm.errors import DomainError
from crm.models import ColumnMapping
from crm.services import column_mappings
from web import imports

pytestmark = pytest.mark.django_db
URL = "/api/v1/import-mappings/"
AGENCY = [
    {"header": "Full name", "field": "name"},
    {"header": "IG", "field": "instagram"},
    {"header": "Followers", "field": "instagram_followers"},
    {"header": "Shoe size", "field": ""},
]


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def test_a_mapping_made_by_api_is_the_one_the_import_page_applies_to_a_file_with_those_headers(as_alice, alice):
    answer = as_alice.post(URL, {"name": "Agency export", "for_team": True, "columns": AGENCY})
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert (body["name"], body["owner"], body["for_team"], body["columns"]) == ("Agency export", alice.pk, True, AGENCY)
    assert body["signature"] == importer.header_signature(["Full name", "IG", "Followers", "Shoe size"])
    assert as_alice.get(f"{URL}{body['id']}/").json() == body

    upload = SimpleUploadedFile("monthly.csv", b"shoe size,ig,FULL NAME,followers\n38,@maya,Maya,12k\n")
    job = imports.prepare_import(upload, actor=alice)
    assert job.mapping == ["", "instagram", "name", "instagram_followers"]


def test_a_field_that_is_not_the_imports_is_refused_naming_the_column_and_the_value(as_alice):
    columns = [{"header": "Full name", "field": "name"}, {"header": "IG", "field": "instagrm"}]
    answer = as_alice.post(URL, {"name": "Typo", "columns": columns})
    assert answer.status_code == 400
    errors = answer.json()["columns"]
    assert list(errors) == ["1"]  # by position in the list, as every list's item errors are
    assert "“instagrm” is not one of the import's fields" in errors["1"]["field"][0]
    assert "instagram_followers" in errors["1"]["field"][0]  # the fields it may be, listed
    assert not ColumnMapping.objects.exists()


@pytest.mark.parametrize(
    ("columns", "where", "words"),
    [
        ([{"header": "IG", "field": "instagram"}], None, "Which column holds the creator's name?"),
        ([{"header": "Who", "field": "name"}, {"header": "Notes", "field": "notes"}], None, "We recognise a creator"),
        (
            [
                {"header": "Who", "field": "name"},
                {"header": "Mail", "field": "email"},
                {"header": "E", "field": "email"},
            ],
            (2, "field"),
            "“Mail” and “E” are both matched to Email",
        ),
        (
            [{"header": "Who", "field": "name"}, {"header": "Mail", "field": "email"}, {"header": "WHO ", "field": ""}],
            (2, "header"),
            "the same header to a saved mapping",
        ),
        (
            [
                {"header": "Who", "field": "name"},
                {"header": "Mail", "field": "email"},
                {"header": "F", "field": "x_followers"},
            ],
            (2, "field"),
            "A follower count belongs to an account",
        ),
    ],
)
def test_a_mapping_that_could_not_import_is_refused_by_column_or_as_a_whole(as_alice, columns, where, words):
    answer = as_alice.post(URL, {"name": "Bad", "columns": columns})
    assert answer.status_code == 400
    errors = answer.json()["columns"]
    if where is None:
        assert words in " ".join(errors)
    else:
        position, key = where
        assert list(errors) == [str(position)] and words in errors[str(position)][key][0]


def test_names_are_one_per_owner_and_an_empty_list_of_columns_is_refused(as_alice, as_bob):
    assert as_alice.post(URL, {"name": "Monthly", "columns": AGENCY}).status_code == 201
    again = as_alice.post(URL, {"name": " Monthly ", "columns": AGENCY})
    assert again.status_code == 400 and "already a mapping named “Monthly”" in again.json()["name"][0]
    assert as_bob.post(URL, {"name": "Monthly", "columns": AGENCY}).status_code == 201  # bob's own namespace
    empty = as_alice.post(URL, {"name": "Empty", "columns": []})
    assert empty.status_code == 400 and "columns" in empty.json()


def test_patch_changes_columns_and_their_signature_and_delete_forgets_it(as_alice):
    made = as_alice.post(URL, {"name": "Agency export", "columns": AGENCY}).json()
    columns = [{"header": "Creator", "field": "name"}, {"header": "E-mail", "field": "email"}]
    changed = as_alice.patch(f"{URL}{made['id']}/", {"columns": columns})
    assert changed.status_code == 200, changed.json()
    assert changed.json()["columns"] == columns and changed.json()["name"] == "Agency export"
    assert ColumnMapping.objects.get().signature == importer.header_signature(["Creator", "E-mail"])
    assert as_alice.patch(f"{URL}{made['id']}/", {"columns": [{"header": "X", "field": "nope"}]}).status_code == 400
    assert as_alice.delete(f"{URL}{made['id']}/").status_code == 204
    assert not ColumnMapping.objects.exists()


def test_a_teammate_renames_a_team_mapping_but_only_its_owner_makes_it_private(as_alice, as_bob):
    made = as_alice.post(URL, {"name": "Team export", "for_team": True, "columns": AGENCY}).json()
    assert as_bob.patch(f"{URL}{made['id']}/", {"name": "Team export (v2)"}).status_code == 200
    refused = as_bob.patch(f"{URL}{made['id']}/", {"for_team": False})
    assert refused.status_code == 400 and "Only the mapping's owner" in refused.json()["for_team"][0]
    assert as_alice.patch(f"{URL}{made['id']}/", {"for_team": False}).status_code == 200
    assert as_bob.get(f"{URL}{made['id']}/").status_code == 404  # private again: not bob's to see


def test_the_service_checks_columns_itself_whoever_calls_it(alice):
    """The API's serializer refuses unknown fields first; the service, which the pages and commands
    call too, refuses them on its own."""
    with pytest.raises(DomainError) as error:
        column_mappings.create_mapping(actor=alice, name="Raw", columns=[["Who", "name"], ["IG", "instagrm"]])
    assert "“instagrm” is not one of the import's fields" in error.value.errors["columns"]["1"]["field"][0]
    with pytest.raises(DomainError, match="pair"):
        column_mappings.create_mapping(actor=alice, name="Raw", columns=[["Who", "name", "extra"]])
    saved = column_mappings.create_mapping(actor=alice, name="Raw", columns=[[" Who ", "name"], ["IG", "instagram"]])
    assert saved.columns == [["Who", "name"], ["IG", "instagram"]]


def test_the_list_filters_by_name_and_sharing(as_alice, alice, bob):
    column_mappings.create_mapping(actor=alice, name="Agency export", columns=[["Who", "name"], ["IG", "instagram"]])
    column_mappings.create_mapping(
        actor=bob, name="Bob's shared", for_team=True, columns=[["Who", "name"], ["Mail", "email"]]
    )
    names = lambda **query: sorted(row["name"] for row in as_alice.get(URL, **query).json()["results"])  # noqa: E731
    assert names() == ["Agency export", "Bob's shared"]
    assert names(for_team="true") == ["Bob's shared"]
    assert names(name__icontains="agency") == ["Agency export"]
