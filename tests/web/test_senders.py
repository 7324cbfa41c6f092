"""Sender accounts (connect, health, use of today's limit, breaker and last errors, pause and resume)
and API tokens (shown once, listed, revoked)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import ApiToken
from outreach.models import OutreachMessage, SenderAccount
from tests.factories import CampaignFactory, CreatorFactory
from tests.outreach.factories import SenderAccountFactory
from tests.web import world
from tests.web.timing import fastest

pytestmark = pytest.mark.django_db
Status = OutreachMessage.Status


def traffic(sender, *, sent=0, failed=0, old=0):
    campaign, now = CampaignFactory(), timezone.now()
    for index in range(sent + failed + old):
        status = Status.SENT if index < sent + old else Status.FAILED
        OutreachMessage.objects.create(
            campaign=campaign,
            creator=CreatorFactory(),
            sender_account=sender,
            platform=sender.platform,
            rendered_text="Hi",
            status=status,
            error_code="190" if status == Status.FAILED else "",
            error_message=f"Invalid OAuth access token {index}" if status == Status.FAILED else "",
            sent_at=(now - datetime.timedelta(hours=30 if index >= sent else 1)) if status == Status.SENT else None,
        )


def test_it_shows_health_usage_today_and_the_last_errors(alice_client, alice):
    sender = SenderAccountFactory(
        name="Acme X",
        platform="x",
        owner=alice,
        breaker_state="open",
        breaker_reason="401 from the platform: the token was revoked.",
    )
    traffic(sender, sent=3, old=2, failed=5)
    response = alice_client.get("/sender-accounts/")
    [row] = response.context["rows"]
    assert (row["sent"], row["limit"]) == (3, 1000)
    assert row["state"] == "Breaker open: not sending"
    assert len(row["errors"]) == 3 and row["errors"][0].error_message == "Invalid OAuth access token 9"
    html = response.content.decode()
    assert "the token was revoked" in html and "<code>190</code>" in html and "Resume" in html


def test_it_uses_our_daily_cap_when_it_is_lower(alice_client, alice):
    SenderAccountFactory(platform="x", daily_cap=50, owner=alice)
    SenderAccountFactory(platform="instagram", owner=alice)
    rows = alice_client.get("/sender-accounts/").context["rows"]
    assert sorted((row["sender"].platform, row["limit"]) for row in rows) == [("instagram", None), ("x", 50)]


def test_it_connects_an_account_and_never_shows_its_token(alice_client, alice):
    data = {
        "name": "Acme IG",
        "platform": "instagram",
        "variant": "instagram_login",
        "account_id": "178414",
        "access_token": "IGAAsecret-token-value",
    }
    response = alice_client.post("/sender-accounts/connect/", data, follow=True)
    sender = SenderAccount.objects.get()
    assert sender.owner == alice and sender.access_token == "IGAAsecret-token-value"
    assert "IGAAsecret" not in response.content.decode()
    assert "IGAAsecret" not in alice_client.get("/sender-accounts/connect/").content.decode()


def test_it_names_the_field_of_each_connect_error(alice_client):
    response = alice_client.post(
        "/sender-accounts/connect/",
        {
            "name": "",
            "platform": "email",
            "variant": "instagram_login",
            "account_id": "a",
            "api_base_url": "http://x",
            "access_token": "secret-value",
        },
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "variant", "api_base_url"}
    assert 'id="id_variant_error"' in response.content.decode()
    assert "secret-value" not in response.content.decode()
    assert not SenderAccount.objects.exists()


def test_it_pauses_and_resumes_for_the_owner_only(client, alice, charlie):
    sender = SenderAccountFactory(owner=alice, breaker_state="open", breaker_reason="401")
    client.force_login(charlie)
    assert "Pause" not in client.get("/sender-accounts/").content.decode()
    assert client.post(f"/sender-accounts/{sender.pk}/pause/").status_code == 403
    client.force_login(alice)
    assert client.post(f"/sender-accounts/{sender.pk}/pause/").status_code == 302
    sender.refresh_from_db()
    assert sender.paused
    assert client.post(f"/sender-accounts/{sender.pk}/resume/").status_code == 302
    sender.refresh_from_db()
    assert not sender.paused and sender.breaker_state == "closed" and sender.breaker_reason == ""
    assert client.post("/sender-accounts/999999/resume/").status_code == 404


def test_it_replaces_a_token_without_showing_it(alice_client, alice):
    sender = SenderAccountFactory(owner=alice)
    response = alice_client.post(f"/sender-accounts/{sender.pk}/token/", {"access_token": "new-secret"}, follow=True)
    sender.refresh_from_db()
    assert sender.access_token == "new-secret" and "new-secret" not in response.content.decode()
    response = alice_client.post(f"/sender-accounts/{sender.pk}/token/", {"access_token": ""}, follow=True)
    assert "New access token: This field is required." in response.content.decode()


def test_it_shows_viewers_no_controls_and_refuses_their_writes(viewer_client, viewer):
    sender = SenderAccountFactory(owner=viewer)
    html = viewer_client.get("/sender-accounts/").content.decode()
    assert "Pause" not in html and "Connect an account" not in html
    assert viewer_client.post(f"/sender-accounts/{sender.pk}/pause/").status_code == 403
    assert viewer_client.post("/sender-accounts/connect/", {"name": "x"}).status_code == 403
    assert viewer_client.post("/api-tokens/", {"name": "x"}).status_code == 403
    assert "Create the token" not in viewer_client.get("/api-tokens/").content.decode()


def test_it_shows_a_new_api_key_once_and_revokes_it(alice_client, alice):
    response = alice_client.post("/api-tokens/", {"name": "Zapier", "expires_in_days": "30"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = response.context["created_key"]
    token = ApiToken.objects.get()
    assert key.startswith(token.prefix) and token.key_sha256 == ApiToken.digest(key) and token.expires_at
    assert key in response.content.decode()
    assert key not in alice_client.get("/api-tokens/").content.decode()
    assert alice_client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_it_names_api_token_errors_and_hides_others_tokens(client, alice, charlie):
    client.force_login(alice)
    response = client.post("/api-tokens/", {"name": "", "expires_in_days": "0"})
    assert response.status_code == 200 and set(response.context["form"].errors) == {"name", "expires_in_days"}
    client.post("/api-tokens/", {"name": "Mine"})
    token = ApiToken.objects.get()
    client.force_login(charlie)
    assert list(client.get("/api-tokens/").context["tokens"]) == []
    assert client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 404


def test_it_lists_senders_in_a_constant_number_of_queries(alice_client, alice):
    sender = SenderAccountFactory(owner=alice)
    traffic(sender, sent=1, failed=1)
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/sender-accounts/")
    for _ in range(30):
        traffic(SenderAccountFactory(owner=alice), sent=2, failed=4)
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get("/sender-accounts/")
    assert len(response.context["rows"]) == 31 and len(many) == len(few)


def test_it_lists_tokens_in_a_constant_number_of_queries(alice_client, alice):
    alice_client.post("/api-tokens/", {"name": "one"})
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/api-tokens/")
    for number in range(30):
        alice_client.post("/api-tokens/", {"name": f"token {number}"})
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get("/api-tokens/")
    assert len(response.context["tokens"]) == 31 and len(many) == len(few)


def test_it_renders_in_under_300_ms(alice_client, alice):
    world.build(alice, **world.DEMO_SIZED)
    for url in ["/sender-accounts/", "/api-tokens/"]:
        assert fastest(lambda: alice_client.get(url)) < 0.3, url  # noqa: B023
