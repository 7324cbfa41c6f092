"""Creating a creator through the API (nested accounts, no mass assignment) and Idempotency-Key."""

import json

import pytest

from crm import services
from crm.api.models import IdempotencyRecord
from crm.models import Creator, SocialAccount

pytestmark = pytest.mark.django_db
NEW = {
    "name": "Maya Hart",
    "email": "maya@example.com",
    "country": "gb",
    "tags": ["Skincare"],
    "accounts": [{"platform": "instagram", "handle": "https://www.instagram.com/Maya.Hart/"}],
}


def post(client, key, body, idempotency_key=None):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    if idempotency_key:
        headers["HTTP_IDEMPOTENCY_KEY"] = idempotency_key
    return client.post("/api/v1/creators/", json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def manager_key(alice):
    return services.create_api_token(alice, name="t", role="manager")[1]


def test_a_manager_adds_a_creator_with_accounts_and_owns_them(client, alice, manager_key):
    response = post(client, manager_key, NEW)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["country"], body["owner"], body["tags"]) == ("GB", alice.pk, ["Skincare"])
    assert body["accounts"][0]["handle"] == "maya.hart"


def test_consent_owner_and_ids_cannot_be_set_by_mass_assignment(client, manager_key, bob):
    sneaky = {**NEW, "opted_out_at": None, "contact_allowed_at": "2026-01-01T00:00:00Z", "owner": bob.pk,
              "status": "partner", "erased_at": "2026-01-01T00:00:00Z", "ledger_head": "x"}  # fmt: skip
    sneaky["accounts"] = [{"platform": "x", "handle": "@maya", "platform_user_id": "123"}]
    assert post(client, manager_key, sneaky).status_code == 201
    creator = Creator.objects.get()
    assert (creator.contact_allowed_at, creator.erased_at, creator.owner.username) == (None, None, "alice")
    assert creator.status == "prospect" and creator.ledger_head == ""
    assert SocialAccount.objects.get().platform_user_id is None


def test_errors_name_the_field(client, manager_key):
    SocialAccount.objects.create(creator=Creator.objects.create(name="Other"), platform="instagram", handle="maya.hart")
    accounts = [
        {"platform": "instagram", "handle": "@maya.hart"},
        {"platform": "x", "handle": "far_too_long_handle_for_x"},
    ]
    bad = {**NEW, "email": "not-an-email", "accounts": accounts}
    response = post(client, manager_key, bad)
    assert response.status_code == 400
    assert "email" in response.json()
    response = post(client, manager_key, {**NEW, "accounts": bad["accounts"]})
    accounts = response.json()["accounts"]
    assert "already belongs to creator" in accounts[0]["handle"][0]
    assert "is not a valid x handle" in accounts[1]["handle"][0]
    assert Creator.objects.count() == 1


def test_the_same_idempotency_key_replays_and_a_different_body_is_refused(client, manager_key):
    first = post(client, manager_key, NEW, idempotency_key="add-maya-1")
    again = post(client, manager_key, NEW, idempotency_key="add-maya-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Creator.objects.count() == 1
    other = post(client, manager_key, {**NEW, "name": "Someone Else"}, idempotency_key="add-maya-1")
    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert IdempotencyRecord.objects.count() == 1


def test_a_failed_request_does_not_burn_its_key(client, manager_key):
    assert post(client, manager_key, {"name": ""}, idempotency_key="k2").status_code == 400
    assert post(client, manager_key, {"name": ""}, idempotency_key="k2").status_code == 400  # replayed, same body
    assert post(client, manager_key, NEW, idempotency_key="k3").status_code == 201


def test_keys_older_than_a_day_are_purged_by_the_hourly_schedule(client, manager_key):
    import datetime

    from django.utils import timezone
    from django_q.models import Schedule

    from crm.api.idempotency import purge_expired
    from crm.api.models import IdempotencyRecord

    for key in ("old", "new"):
        client.post("/api/v1/tags/", {"name": key}, HTTP_AUTHORIZATION=f"Token {manager_key}", HTTP_IDEMPOTENCY_KEY=key)
    IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert purge_expired() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
    assert Schedule.objects.get(name="crm: purge idempotency keys").func == "crm.api.idempotency.purge_expired"
