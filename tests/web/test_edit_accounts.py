"""Editing a creator's social accounts: add, change and remove them on the edit page (and by the API),
handles normalised as crm/handles.py does, and every problem shown on the row and field it is about."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from crm import services
from crm.errors import DomainError
from crm.models import SocialAccount
from tests.factories import CreatorFactory, SocialAccountFactory

pytestmark = pytest.mark.django_db


def handles_of(creator):
    return sorted(creator.accounts.values_list("platform", "handle"))


def test_accounts_are_added_changed_and_removed_in_one_save(alice):
    creator = CreatorFactory(name="Maya Hart")
    keep = SocialAccountFactory(creator=creator, platform="instagram", handle="maya.old", platform_user_id="IGSID-9",
                                follower_count=1200)  # fmt: skip
    drop = SocialAccountFactory(creator=creator, platform="x", handle="mayah")
    services.save_accounts(creator, actor=alice, accounts=[
        {"id": keep.pk, "platform": "instagram", "handle": "https://www.instagram.com/Maya.Hart/?hl=en"},
        {"id": drop.pk, "platform": "x", "handle": "mayah", "delete": True},
        {"platform": "tiktok", "handle": "@Maya.Makes"},
    ])  # fmt: skip
    assert handles_of(creator) == [("instagram", "maya.hart"), ("tiktok", "maya.makes")]
    keep.refresh_from_db()
    assert keep.platform_user_id is None and keep.follower_count is None  # another handle: another account
    assert keep.profile_url == "https://www.instagram.com/maya.hart/"


def test_problems_come_back_by_row_and_nothing_is_saved(alice):
    creator, other = CreatorFactory(), CreatorFactory()
    SocialAccountFactory(creator=other, platform="instagram", handle="taken.one")
    mine = SocialAccountFactory(creator=creator, platform="instagram", handle="mine")
    with pytest.raises(ValidationError) as caught:
        services.save_accounts(creator, actor=alice, accounts=[
            {"id": mine.pk, "platform": "instagram", "handle": "taken.one"},
            {"platform": "tiktok", "handle": "x"},
            {"platform": "x", "handle": "dup"},
            {"platform": "x", "handle": "@DUP"},
            {"platform": "", "handle": "someone"},
        ])  # fmt: skip
    rows = DomainError(caught.value).errors["accounts"]
    assert rows[0]["handle"] == [f"instagram @taken.one already belongs to creator {other.pk}."]
    assert "not a valid tiktok handle" in rows[1]["handle"][0]
    assert rows[2] == {} and "listed twice (also in row 3)" in rows[3]["handle"][0]
    assert rows[4] == {"platform": ["Choose the platform."]}
    assert handles_of(creator) == [("instagram", "mine")]


def test_two_accounts_of_one_creator_can_swap_handles(alice):
    creator = CreatorFactory()
    a = SocialAccountFactory(creator=creator, platform="instagram", handle="first")
    b = SocialAccountFactory(creator=creator, platform="instagram", handle="second")
    services.save_accounts(creator, actor=alice, accounts=[
        {"id": a.pk, "platform": "instagram", "handle": "second"},
        {"id": b.pk, "platform": "instagram", "handle": "first"},
    ])  # fmt: skip
    assert (
        SocialAccount.objects.get(pk=a.pk).handle == "second" and SocialAccount.objects.get(pk=b.pk).handle == "first"
    )


def test_adding_a_handle_the_creator_already_has_is_named(alice):
    creator = CreatorFactory()
    SocialAccountFactory(creator=creator, platform="instagram", handle="maya")
    with pytest.raises(ValidationError, match="already belongs to this creator"):
        services.save_accounts(creator, actor=alice, accounts=[{"platform": "instagram", "handle": "@maya"}])


def _form(creator, rows, **fields):
    data = {"name": creator.name, "email": creator.email, "country": "GB", "tags": "", "notes": "", **fields,
            "accounts-TOTAL_FORMS": str(len(rows)), "accounts-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
            "accounts-MIN_NUM_FORMS": "0", "accounts-MAX_NUM_FORMS": "30"}  # fmt: skip
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"accounts-{index}-{key}"] = value
    return data


def test_the_edit_page_shows_each_account_and_saves_changes(alice_client):
    creator = CreatorFactory(name="Maya Hart", email="maya@example.com")
    account = SocialAccountFactory(creator=creator, platform="instagram", handle="maya.hart")
    url = f"/creators/{creator.pk}/edit/"
    page = alice_client.get(url).content.decode()
    assert 'value="maya.hart"' in page and 'name="accounts-2-handle"' in page  # its row and two empty ones
    rows = [
        {"id": account.pk, "platform": "instagram", "handle": "maya.hart", "DELETE": "on"},
        {"platform": "youtube", "handle": "https://www.youtube.com/@MayaMakes"},
        {"platform": "", "handle": ""},
    ]
    assert alice_client.post(url, _form(creator, rows, country="de")).status_code == 302
    assert handles_of(creator) == [("youtube", "mayamakes")]
    creator.refresh_from_db()
    assert creator.country == "DE"


def test_a_taken_handle_is_shown_on_its_field(alice_client):
    creator, other = CreatorFactory(name="Maya Hart"), CreatorFactory(name="Liam Stone")
    SocialAccountFactory(creator=other, platform="tiktok", handle="liam")
    response = alice_client.post(
        f"/creators/{creator.pk}/edit/", _form(creator, [{"platform": "tiktok", "handle": "@liam"}], name="Maya H")
    )
    assert response.status_code == 200
    row = response.context["accounts"].forms[0]
    assert row.errors["handle"] == [f"tiktok @liam already belongs to creator {other.pk}."]
    html = response.content.decode()
    assert 'id="id_accounts-0-handle_error"' in html
    creator.refresh_from_db()
    assert creator.name == "Maya Hart"  # all or nothing: the name was not saved either


def test_the_api_changes_accounts_by_entry(alice):
    creator = CreatorFactory()
    account = SocialAccountFactory(creator=creator, platform="instagram", handle="old.name")
    api = APIClient()
    api.force_authenticate(alice)
    answer = api.patch(f"/api/v1/creators/{creator.pk}/", {"accounts": [
        {"id": account.pk, "platform": "instagram", "handle": "@New.Name"}, {"platform": "x", "handle": "newname"},
    ]}, format="json")  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert sorted(a["handle"] for a in answer.json()["accounts"]) == ["new.name", "newname"]
    bad = api.patch(f"/api/v1/creators/{creator.pk}/", {"accounts": [{"platform": "x", "handle": "no spaces!"}]},
                    format="json")  # fmt: skip
    assert bad.status_code == 400 and "handle" in str(bad.json())
