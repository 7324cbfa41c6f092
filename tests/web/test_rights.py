"""Permission requests: the list by status, rights expiring soon, the proof, and withdrawing rights."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import services
from crm.models import ConsentEvent, PermissionRequest
from tests.factories import CampaignFactory, ContentFactory, PermissionRequestFactory, SocialAccountFactory
from tests.web import world
from tests.web.timing import fastest
from web.templatetags.human import when

pytestmark = pytest.mark.django_db
Status = PermissionRequest.Status
YES = services.Evidence(channel="instagram", message_id="mid.42", text="Yes of course! #YesAcme", rule="hashtag")


def granted(campaign, *, days=90):
    account = SocialAccountFactory(platform="instagram")
    request = PermissionRequestFactory(
        content=ContentFactory(creator=account.creator, campaign=campaign),
        campaign=campaign,
        requested=True,
        duration_days=days,
    )
    services.grant_rights(request, actor=None, evidence=YES)
    request.refresh_from_db()
    return request


def test_it_lists_requests_by_status_with_counts(alice_client, alice):
    world.build(alice, members=3)
    response = alice_client.get("/permission-requests/?status=granted")
    assert {item.status for item in response.context["page"]} == {Status.GRANTED}
    assert len(response.context["page"]) == 2
    tabs = {value: count for value, _, count in response.context["tabs"]}
    assert tabs[""] == 3 and tabs["granted"] == 2 and tabs["requested"] == 1
    assert len(alice_client.get("/permission-requests/").context["page"]) == 3


def test_it_lists_rights_expiring_soon(alice_client, campaign):
    soon = granted(campaign, days=7)
    granted(campaign, days=90)
    response = alice_client.get("/permission-requests/?status=expiring")
    assert list(response.context["page"]) == [soon]
    assert response.context["expiring_count"] == 1


def test_it_shows_the_proof_with_the_same_content_as_the_export(alice_client, campaign):
    request = granted(campaign)
    html = alice_client.get(f"/permission-requests/{request.pk}/").content.decode()
    proof = alice_client.get(f"/permission-requests/{request.pk}/proof.json").json()
    for value in [
        proof["terms"]["sha256"],
        proof["ledger"][0]["creator_text"],
        proof["ledger"][0]["entry_hash"],
        proof["asked_with_text"],
        "mid.42",
        "ledger is intact",
        proof["content_url"],
    ]:
        assert value in html
    assert f'href="/permission-requests/{request.pk}/proof/"' in html
    said = datetime.datetime.fromisoformat(proof["ledger"][0]["occurred_at"])
    assert f'<time datetime="{proof["ledger"][0]["occurred_at"]}">{when(said)}</time>' in html  # and in words
    assert alice_client.get(f"/permission-requests/{request.pk}/proof/").status_code == 200


def test_it_records_a_withdrawal_with_the_creators_words(alice_client, alice, campaign):
    request = granted(campaign)
    response = alice_client.post(
        f"/permission-requests/{request.pk}/revoke/", {"text": "Please take it down", "channel": "email"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == Status.REVOKED
    event = ConsentEvent.objects.filter(permission_request=request).latest("id")
    assert event.kind == "rights_revoked" and event.inbound_text == "Please take it down" and event.recorded_by == alice


def test_it_names_the_field_and_the_rule_when_revoking_goes_wrong(alice_client, campaign):
    request = granted(campaign)
    response = alice_client.post(f"/permission-requests/{request.pk}/revoke/", {"text": "", "occurred_at": "soon"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"text", "occurred_at"}
    future = (timezone.now() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = alice_client.post(f"/permission-requests/{request.pk}/revoke/", {"text": "no", "occurred_at": future})
    assert response.context["form"].errors["occurred_at"] == ["That is in the future."]
    alice_client.post(f"/permission-requests/{request.pk}/revoke/", {"text": "Take it down"})
    response = alice_client.post(f"/permission-requests/{request.pk}/revoke/", {"text": "Again"})
    assert response.status_code == 200
    assert "Cannot record" in response.context["form"].non_field_errors()[0]


def test_it_hides_others_requests_and_refuses_viewers(client, viewer, charlie, alice):
    campaign = CampaignFactory(owner=alice)
    request = granted(campaign)
    client.force_login(charlie)
    assert list(client.get("/permission-requests/").context["page"]) == []
    assert client.get(f"/permission-requests/{request.pk}/").status_code == 404
    assert client.get(f"/permission-requests/{request.pk}/proof/").status_code == 404
    assert client.get(f"/permission-requests/{request.pk}/proof.json").status_code == 404
    assert client.post(f"/permission-requests/{request.pk}/revoke/", {"text": "x"}).status_code == 404
    campaign.team.add(viewer)
    client.force_login(viewer)
    html = client.get(f"/permission-requests/{request.pk}/").content.decode()
    assert "Record the withdrawal" not in html and "ledger is intact" in html
    assert client.post(f"/permission-requests/{request.pk}/revoke/", {"text": "x"}).status_code == 403
    request.refresh_from_db()
    assert request.status == Status.GRANTED


def test_it_answers_bad_input_without_a_traceback(alice_client):
    assert alice_client.get("/permission-requests/?status=nonsense&page=-3").status_code == 200
    assert alice_client.get("/permission-requests/999999/").status_code == 404


def test_it_lists_and_shows_in_a_constant_number_of_queries(alice_client, alice):
    world.build(alice, campaigns=1, members=1)
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/permission-requests/")
    world.build(alice, campaigns=3, members=10)
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get("/permission-requests/")
    assert len(response.context["page"]) == 31 and len(many) == len(few)
    for status in ["granted", "expiring"]:
        with CaptureQueriesContext(connection) as queries:
            alice_client.get(f"/permission-requests/?status={status}")
        assert len(queries) == len(few)


def test_it_renders_in_under_300_ms(alice_client, alice):
    world.build(alice, **world.DEMO_SIZED)
    request = PermissionRequest.objects.filter(status=Status.GRANTED).first()
    for url in ["/permission-requests/", f"/permission-requests/{request.pk}/"]:
        assert fastest(lambda: alice_client.get(url)) < 0.3, url  # noqa: B023
