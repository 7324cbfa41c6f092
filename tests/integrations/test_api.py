"""`/api/v1/webhook-subscriptions/`: per role, no mass assignment, the secret shown once, errors by
field, the delivery log, re-enabling, ping, and a constant number of queries for the list."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import events
from crm import services as crm_services
from integrations import outbox
from integrations.models import WebhookDelivery, WebhookSubscription
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhook-subscriptions/"


def key_for(user, role="manager"):
    return crm_services.create_api_token(user, name="test", role=role)[1]


def call(client, method, path, key=None, body=None):
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    if body is None:
        return getattr(client, method)(path, **headers)
    return getattr(client, method)(path, json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def new(receiver):
    return {"url": receiver.url, "events": ["consent.granted", "message.sent"], "description": "Rights desk"}


def test_a_manager_registers_a_subscription_and_sees_the_secret_once(client, alice, new):
    key = key_for(alice)
    created = call(client, "post", URL, key, new)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["owner"] == alice.pk
    assert (body["events"], body["is_active"], body["delivering"]) == (["consent.granted", "message.sent"], True, True)
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret == body["secret"] and body["secret"] not in subscription.secret_encrypted
    shown = call(client, "get", f"{URL}{body['id']}/", key).json()
    assert "secret" not in shown and body["secret"] not in json.dumps(shown)
    assert "secret" not in call(client, "get", URL, key).json()["results"][0]


def test_owner_secret_and_failure_state_cannot_be_set(client, alice, bob, new):
    sneaky = {**new, "owner": bob.pk, "secret": "whsec_mine", "secret_encrypted": "x", "consecutive_failures": 9,
              "failure_count": 9, "disabled_at": "2026-01-01T00:00:00Z", "disabled_reason": "x",
              "last_success_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    key = key_for(alice)
    created = call(client, "post", URL, key, sneaky).json()
    subscription = WebhookSubscription.objects.get()
    assert subscription.owner == alice and subscription.secret == created["secret"] != "whsec_mine"
    assert (subscription.consecutive_failures, subscription.disabled_at, subscription.disabled_reason) == (0, None, "")
    assert subscription.last_success_at is None
    call(client, "patch", f"{URL}{subscription.pk}/", key, {"owner": bob.pk, "disabled_at": "2026-01-01T00:00:00Z"})
    subscription.refresh_from_db()
    assert subscription.owner == alice and subscription.disabled_at is None


def test_errors_name_the_field(client, alice, new, settings):
    key = key_for(alice)
    bad = call(client, "post", URL, key, {**new, "events": ["consent.granted", "coffee.ready"]})
    assert bad.status_code == 400 and list(bad.json()) == ["events"]
    assert call(client, "post", URL, key, {**new, "events": []}).json().keys() == {"events"}
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    for url in ["http://127.0.0.1:8000/hooks", "http://10.0.0.1/hooks", "http://localhost/hooks"]:
        refused = call(client, "post", URL, key, {**new, "url": url})
        assert refused.status_code == 400 and list(refused.json()) == ["url"], url
    assert not WebhookSubscription.objects.exists()


def test_a_subscription_belongs_to_its_owner_others_find_nothing_and_admins_see_all(client, alice, charlie, new):
    alice_key, charlie_key = key_for(alice), key_for(charlie)
    admin_key = key_for(UserFactory(username="ops"), role="admin")
    viewer_key = key_for(UserFactory(username="vera"), role="viewer")
    pk = call(client, "post", URL, alice_key, new).json()["id"]
    detail = f"{URL}{pk}/"

    assert [s["id"] for s in call(client, "get", URL, alice_key).json()["results"]] == [pk]
    assert call(client, "get", URL, charlie_key).json()["results"] == []
    for method, path, body in [
        ("get", detail, None),
        ("patch", detail, {"description": "mine now"}),
        ("delete", detail, None),
        ("get", f"{detail}deliveries/", None),
        ("post", f"{detail}ping/", {}),
        ("post", f"{detail}enable/", {}),
        ("post", f"{detail}rotate-secret/", {}),
    ]:
        assert call(client, method, path, charlie_key, body).status_code == 404, (method, path)

    assert call(client, "get", URL, viewer_key).status_code == 200
    assert call(client, "post", URL, viewer_key, new).status_code == 403
    assert call(client, "patch", detail, viewer_key, {"description": "x"}).status_code == 403
    assert call(client, "delete", detail, viewer_key).status_code == 403

    assert call(client, "get", URL).status_code == 401
    assert call(client, "post", URL, body=new).status_code == 401

    assert [s["id"] for s in call(client, "get", URL, admin_key).json()["results"]] == [pk]
    assert call(client, "patch", detail, admin_key, {"description": "checked"}).status_code == 200
    assert call(client, "patch", detail, alice_key, {"is_active": False}).json()["is_active"] is False
    assert call(client, "delete", detail, alice_key).status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_changing_the_url_checks_it_again(client, alice, new, settings):
    key = key_for(alice)
    pk = call(client, "post", URL, key, new).json()["id"]
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    refused = call(client, "patch", f"{URL}{pk}/", key, {"url": "http://192.168.0.10/hooks"})
    assert refused.status_code == 400 and list(refused.json()) == ["url"]
    assert WebhookSubscription.objects.get().url == new["url"]


def test_the_delivery_log_ping_and_re_enabling(client, alice, new, receiver, django_capture_on_commit_callbacks):
    key = key_for(alice)
    pk = call(client, "post", URL, key, new).json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        pinged = call(client, "post", f"{URL}{pk}/ping/", key, {})
    assert pinged.status_code == 202 and pinged.json()["event_type"] == "ping"
    assert len(receiver.received) == 1
    log = call(client, "get", f"{URL}{pk}/deliveries/", key).json()["results"]
    assert [(d["event_type"], d["status"], d["response_status"]) for d in log] == [("ping", "delivered", 200)]
    assert log[0]["payload"]["id"] == log[0]["event_id"] == receiver.received[0].headers["X-CRM-Event-Id"]
    assert call(client, "get", f"{URL}{pk}/deliveries/", key, None).status_code == 200
    assert call(client, "get", f"{URL}{pk}/deliveries/?status=failed", key).json()["results"] == []
    assert call(client, "get", f"{URL}{pk}/deliveries/?status=nonsense", key).status_code == 400

    WebhookSubscription.objects.filter(pk=pk).update(
        disabled_at=timezone.now(), disabled_reason="5 deliveries in a row failed", consecutive_failures=5
    )
    assert call(client, "post", f"{URL}{pk}/ping/", key, {}).json().keys() == {"is_active"}
    enabled = call(client, "post", f"{URL}{pk}/enable/", key, {}).json()
    assert (enabled["disabled_at"], enabled["consecutive_failures"], enabled["delivering"]) == (None, 0, True)


def test_re_enabling_sends_what_waited(client, alice, new, receiver, django_capture_on_commit_callbacks):
    key = key_for(alice)
    pk = call(client, "post", URL, key, new).json()["id"]
    WebhookSubscription.objects.filter(pk=pk).update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(events.MESSAGE_SENT, {"message_id": 1})  # not recorded: switched off
        WebhookSubscription.objects.filter(pk=pk).update(is_active=True, disabled_at=timezone.now())
        events.publish(events.MESSAGE_SENT, {"message_id": 2})  # not recorded: disabled
    assert not WebhookDelivery.objects.exists()
    # A retry that was waiting when the subscription was disabled goes out when it is re-enabled.
    WebhookSubscription.objects.filter(pk=pk).update(disabled_at=None)
    outbox.forget_wanted_types()  # a raw UPDATE, as from another process: seen within TYPES_TTL otherwise
    receiver.answer(500)
    with django_capture_on_commit_callbacks(execute=True):
        events.publish(events.MESSAGE_SENT, {"message_id": 3})
    WebhookSubscription.objects.filter(pk=pk).update(disabled_at=timezone.now())
    assert WebhookDelivery.objects.get().status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        call(client, "post", f"{URL}{pk}/enable/", key, {})
    assert WebhookDelivery.objects.get().status == "delivered" and len(receiver.received) == 2


def test_rotating_the_secret_shows_the_new_one_once(client, alice, new):
    key = key_for(alice)
    created = call(client, "post", URL, key, new).json()
    rotated = call(client, "post", f"{URL}{created['id']}/rotate-secret/", key, {}).json()
    assert rotated["secret"] != created["secret"]
    assert WebhookSubscription.objects.get().secret == rotated["secret"]


def test_the_list_uses_a_constant_number_of_queries(client, alice, receiver):
    admin_key = key_for(alice, role="admin")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert call(client, "get", URL, admin_key).status_code == 200
        return len(captured)

    def add(n):
        for i in range(n):
            owner = UserFactory(username=f"owner{WebhookSubscription.objects.count()}-{i}")
            subscription = WebhookSubscription(owner=owner, url=receiver.url, events=["consent.granted"])
            subscription.set_secret(WebhookSubscription.new_secret())
            subscription.save()

    add(1)
    queries()  # the token's first use records last_used_at once
    baseline = queries()
    add(25)
    assert queries() == baseline


def test_the_schema_documents_the_resource(client, alice):
    client.force_login(alice)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for words in ["/api/v1/webhook-subscriptions/{id}/deliveries/", "X-CRM-Signature", "WebhookSubscriptionCreated",
                  "rotate-secret", "consent.granted", "Consent decisions to a rights-management tool"]:  # fmt: skip
        assert words in schema, words
