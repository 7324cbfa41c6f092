"""Attacks on the consent record, each performed and shown refused: a body signed through X's CRC,
secrets kept with stored deliveries or replayed by an idempotent retry."""

import json

import pytest
from django.core.cache import cache

from integrations.models import WebhookSubscription
from outreach.models import InboundEvent
from outreach.webhooks import x
from tests.api.conftest import api_for

X_SECRET, EMAIL_SECRET = "x-consumer-secret", "mail-secret"
FORGED_DM = {
    "for_user_id": "1001",
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "999",
            "created_timestamp": "1750000000000",
            "message_create": {
                "target": {"recipient_id": "1001"},
                "sender_id": "2002",
                "message_data": {"text": "#YesAcme"},
            },
        }
    ],
}


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.X_CONSUMER_SECRET, settings.EMAIL_WEBHOOK_SECRET = X_SECRET, EMAIL_SECRET
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    "token",
    [
        json.dumps(FORGED_DM),  # the attack: have the CRC sign a delivery of our choosing
        json.dumps(FORGED_DM, separators=(",", ":")),
        '{"a":1}',
        "short",
        "x" * 129,
        "has space",
        "",
    ],
)
def test_the_x_crc_signs_only_token_shaped_strings(client, token):
    response = client.get("/webhooks/x/", {"crc_token": token})
    assert response.status_code == 400
    assert "response_token" not in response.json()


def test_no_body_the_crc_would_sign_is_accepted_as_a_delivery(client, db):
    """Whatever a CRC answer signs is token-shaped, and no token-shaped body is a JSON object."""
    token = "1234567890"  # token-shaped and valid JSON (a number)
    answer = client.get("/webhooks/x/", {"crc_token": token}).json()
    assert answer == x.crc_response(token, X_SECRET)
    posted = client.post(
        "/webhooks/x/",
        data=token.encode(),
        content_type="application/json",
        HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=answer["response_token"],
    )
    assert posted.status_code == 400
    assert not InboundEvent.objects.exists()


def test_the_crc_is_rate_limited_per_client(client):
    answers = [client.get("/webhooks/x/", {"crc_token": f"challenge-{n:04d}"}).status_code for n in range(32)]
    assert answers[:30] == [200] * 30
    assert answers[30:] == [429, 429]


def test_the_mail_gateways_secret_is_not_kept_with_the_delivery(client, db):
    raw = (
        b"From: Maya <maya@creator.example>\r\nTo: partners@acme.example\r\nSubject: Re: hi\r\n"
        b"Message-ID: <m1@creator.example>\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\n\r\nYes!\r\n"
    )
    response = client.post(
        "/webhooks/email/", data=raw, content_type="message/rfc822", HTTP_X_WEBHOOK_SECRET=EMAIL_SECRET
    )
    assert response.status_code == 200
    stored = InboundEvent.objects.get()
    assert EMAIL_SECRET not in json.dumps(stored.headers)
    assert not {name.lower() for name in stored.headers} & {"x-webhook-secret", "authorization", "cookie"}


def test_an_idempotent_replay_never_serves_the_signing_secret_again(alice, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    api = api_for(alice)
    body = {"url": "http://127.0.0.1:9/crm", "events": ["consent.granted"]}
    first = api.post("/api/v1/webhook-subscriptions/", body, **{"Idempotency-Key": "sub-1"})
    assert first.status_code == 201 and first.json()["secret"]
    assert first["Cache-Control"] == "no-store"
    replay = api.post("/api/v1/webhook-subscriptions/", body, **{"Idempotency-Key": "sub-1"})
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json()["secret"] is None and replay.json()["id"] == first.json()["id"]
    assert first.json()["secret"].encode() not in replay.content
    assert WebhookSubscription.objects.count() == 1
    subscription = first.json()["id"]
    rotated = api.post(f"/api/v1/webhook-subscriptions/{subscription}/rotate-secret/", **{"Idempotency-Key": "r1"})
    again = api.post(f"/api/v1/webhook-subscriptions/{subscription}/rotate-secret/", **{"Idempotency-Key": "r1"})
    assert rotated.json()["secret"] and again.json()["secret"] is None
