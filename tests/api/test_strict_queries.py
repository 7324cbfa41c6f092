"""What tests/api/test_schemathesis.py found, pinned down: queries are strict, unknown ids filter to
nothing, far time-zone offsets are no 500, an unrouted API path answers JSON, and the schema states
the error answers and blank values."""

import pytest

from crm import services
from tests.factories import CampaignFactory, ConsentEventFactory, CreatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(client):
    key = services.create_api_token(UserFactory(username="root"), name="t", role="admin")[1]
    return lambda path, **params: client.get(path, params, HTTP_AUTHORIZATION=f"Token {key}")


def test_it_refuses_a_page_size_that_is_not_a_whole_number_from_one(get):
    CreatorFactory.create_batch(3)
    for bad in ["true", "0", "-5", "2.5", ""]:
        answer = get("/api/v1/creators/", page_size=bad)
        assert answer.status_code == 400 and list(answer.json()) == ["page_size"], bad
    assert len(get("/api/v1/creators/", page_size="2").json()["results"]) == 2
    assert len(get("/api/v1/creators/", page_size="100000").json()["results"]) == 3  # at most 200


def test_it_refuses_empty_and_malformed_filters_rather_than_ignoring_them(get):
    assert get("/api/v1/permission-requests/", status="").json() == {
        "status": ["Give a value, or leave the parameter out."]
    }
    assert get("/api/v1/creators/", platform="").status_code == 400
    assert get("/api/v1/creators/", status="nope").status_code == 400
    assert get("/api/v1/creators/", unknown="kept for cache busters").status_code == 200


def test_an_unknown_related_id_filters_to_nothing_without_telling_which_ids_exist(get, alice):
    campaign = CampaignFactory(owner=alice)
    for value in [campaign.pk, 999_999, 10**15]:
        answer = get("/api/v1/permission-requests/", campaign=value)
        assert answer.status_code == 200 and answer.json()["results"] == []
    assert get("/api/v1/campaigns/", owner="x").status_code == 400


def test_a_time_zone_offset_postgresql_refuses_is_taken_to_utc(get):
    event = ConsentEventFactory()
    answer = get("/api/v1/consent-events/", since="1999-01-01T08:14:35+22:51")
    assert answer.status_code == 200 and [e["id"] for e in answer.json()["results"]] == [event.pk]
    assert get("/api/v1/consent-events/", since="0001-01-01T00:00:00+05:00").status_code == 400


def test_an_api_path_no_route_matches_answers_json(get):
    answer = get("/api/v1/creators/1.5/")
    assert answer.status_code == 404 and answer.json() == {"detail": "Not found."}
    assert get("/no-such-page/").headers["Content-Type"].startswith("text/html")


def test_the_api_reads_json_bodies_only(client):
    key = services.create_api_token(UserFactory(username="root"), name="t", role="admin")[1]
    answer = client.post("/api/v1/tags/", {"name": "travel"}, HTTP_AUTHORIZATION=f"Token {key}")
    assert answer.status_code == 415


def test_the_schema_states_error_answers_and_blank_values(client, alice):
    client.force_login(alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    detail = schema["paths"]["/api/v1/creators/{id}/"]["get"]["responses"]
    assert {"200", "401", "403", "404", "429"} <= set(detail)
    create = schema["paths"]["/api/v1/creators/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "409", "429"} <= set(create)
    creator = schema["components"]["schemas"]["Creator"]["properties"]
    assert "format" not in creator["email"]  # "" is a valid value, and no email
    page_size = next(p for p in schema["paths"]["/api/v1/creators/"]["get"]["parameters"] if p["name"] == "page_size")
    assert page_size["schema"] == {"type": "integer", "minimum": 1}
