"""Delivering webhooks to a real loopback receiver: signature, event ids, retries with backoff,
disabling after repeated failures, de-duplication, and work left behind by a stopped worker."""

import datetime
import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.utils import timezone

from crm import events
from crm.events import iso
from integrations import delivery, services, tasks
from integrations.models import WebhookDelivery, WebhookEvent, WebhookSubscription

pytestmark = pytest.mark.django_db


def verify(secret: str, headers: dict, body: bytes, tolerance: int = 300) -> bool:
    """What a receiver does, written from the README's description, not from our code."""
    fields = dict(part.split("=", 1) for part in headers["X-CRM-Signature"].split(","))
    timestamp = int(fields["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return (
        hmac.compare_digest(expected, fields["v1"])
        and str(timestamp) == headers["X-CRM-Timestamp"]
        and abs(time.time() - timestamp) < tolerance
    )


def publish(django_capture_on_commit_callbacks, event_type=events.REPLY_RECEIVED, data=None, event_id=None):
    with django_capture_on_commit_callbacks(execute=True):
        return events.publish(event_type, data or {"creator_id": 1}, event_id=event_id)


def test_a_delivery_is_signed_with_the_subscription_secret_and_names_its_event(
    receiver, subscribe, django_capture_on_commit_callbacks
):
    _, secret = subscribe([events.REPLY_RECEIVED])
    event = publish(django_capture_on_commit_callbacks, data={"creator_id": 7, "channel": "instagram"})

    [request] = receiver.received
    assert request.path == "/hooks"
    assert verify(secret, request.headers, request.body)
    assert not verify("whsec_someone-else", request.headers, request.body)
    assert request.headers["X-CRM-Event"] == "reply.received"
    assert request.headers["X-CRM-Event-Id"] == str(event.id)
    assert request.headers["Content-Type"] == "application/json"
    document = json.loads(request.body)
    assert document == {
        "id": str(event.id),
        "type": "reply.received",
        "created_at": iso(event.created_at),
        "data": {"creator_id": 7, "channel": "instagram"},
    }
    logged = WebhookDelivery.objects.get()
    assert (logged.status, logged.attempts, logged.response_status, logged.error) == ("delivered", 1, 200, "")
    assert WebhookSubscription.objects.get().last_success_at is not None


def test_only_subscribers_of_the_type_receive_it(receiver, subscribe, django_capture_on_commit_callbacks):
    subscribe([events.CONSENT_GRANTED])
    publish(django_capture_on_commit_callbacks, events.REPLY_RECEIVED)
    assert receiver.received == [] and not WebhookEvent.objects.exists()


def test_a_failed_attempt_is_retried_with_backoff_then_delivered_with_the_same_id_and_body(
    receiver, subscribe, django_capture_on_commit_callbacks
):
    subscribe([events.REPLY_RECEIVED])
    receiver.answer(500)
    before = timezone.now()
    publish(django_capture_on_commit_callbacks)

    logged = WebhookDelivery.objects.get()
    assert (logged.status, logged.attempts, logged.response_status) == ("pending", 1, 500)
    assert "HTTP 500" in logged.error and "receiver says no" in logged.error
    wait = (logged.next_attempt_at - before).total_seconds()
    assert 15 <= wait <= 31  # 30 s doubling, half of it jitter
    assert tasks.sweep_webhooks() == 0  # not due yet
    assert len(receiver.received) == 1

    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))
    assert tasks.sweep_webhooks() == 1

    logged.refresh_from_db()
    assert (logged.status, logged.attempts, logged.response_status) == ("delivered", 2, 200)
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["X-CRM-Event-Id"] == second.headers["X-CRM-Event-Id"]


def test_backoff_grows_and_is_capped():
    waits = [delivery.backoff_seconds(attempt) for attempt in range(1, 12)]
    assert 15 <= waits[0] <= 30 and 240 <= waits[4] <= 480
    assert max(waits) <= 3600


def test_redirects_are_not_followed(receiver, subscribe, django_capture_on_commit_callbacks):
    subscribe([events.REPLY_RECEIVED])
    receiver.answer(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    publish(django_capture_on_commit_callbacks)
    assert len(receiver.received) == 1
    logged = WebhookDelivery.objects.get()
    assert logged.status == "pending" and logged.response_status == 302
    assert "Redirects are not followed" in logged.error


def test_repeated_failed_deliveries_disable_the_subscription_until_it_is_re_enabled(
    receiver, subscribe, django_capture_on_commit_callbacks, monkeypatch, alice
):
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 2)
    monkeypatch.setattr(delivery, "DISABLE_AFTER", 2)
    subscription, _ = subscribe([events.REPLY_RECEIVED])
    receiver.answer(*[503] * 4)
    for _ in range(2):
        publish(django_capture_on_commit_callbacks)
        WebhookDelivery.objects.filter(status="pending").update(next_attempt_at=timezone.now())
        tasks.sweep_webhooks()
    assert list(WebhookDelivery.objects.values_list("status", "attempts")) == [("failed", 2), ("failed", 2)]
    subscription.refresh_from_db()
    assert subscription.disabled_at is not None and subscription.consecutive_failures == 2
    assert "2 deliveries in a row failed" in subscription.disabled_reason
    assert "HTTP 503" in subscription.disabled_reason

    publish(django_capture_on_commit_callbacks)  # nothing is recorded for a disabled subscription
    assert WebhookDelivery.objects.count() == 2 and len(receiver.received) == 4

    services.enable_subscription(subscription, actor=alice)
    subscription.refresh_from_db()
    assert (subscription.disabled_at, subscription.disabled_reason, subscription.consecutive_failures) == (None, "", 0)
    publish(django_capture_on_commit_callbacks)
    assert len(receiver.received) == 5 and WebhookDelivery.objects.filter(status="delivered").count() == 1


def test_a_success_resets_the_count_of_failed_deliveries(
    receiver, subscribe, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 1)
    subscription, _ = subscribe([events.REPLY_RECEIVED])
    receiver.answer(500)
    publish(django_capture_on_commit_callbacks)
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 1 and subscription.last_failure_at
    publish(django_capture_on_commit_callbacks)
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0 and subscription.disabled_at is None


def test_an_event_published_twice_is_delivered_once(receiver, subscribe, django_capture_on_commit_callbacks):
    subscribe([events.REPLY_RECEIVED])
    event_id = uuid.uuid4()
    publish(django_capture_on_commit_callbacks, event_id=event_id)
    publish(django_capture_on_commit_callbacks, event_id=event_id, data={"creator_id": 2})
    assert len(receiver.received) == 1
    assert WebhookDelivery.objects.get().event_id == event_id
    assert WebhookEvent.objects.get().payload["data"] == {"creator_id": 1}  # the first telling stands


def test_a_later_subscriber_gets_an_event_published_again_and_the_first_does_not_get_it_twice(
    receiver, subscribe, django_capture_on_commit_callbacks, bob
):
    subscribe([events.REPLY_RECEIVED])
    event_id = uuid.uuid4()
    publish(django_capture_on_commit_callbacks, event_id=event_id)
    subscribe([events.REPLY_RECEIVED], owner=bob)
    publish(django_capture_on_commit_callbacks, event_id=event_id)
    assert len(receiver.received) == 2
    assert WebhookDelivery.objects.filter(status="delivered").count() == 2


def test_a_delivery_is_attempted_by_one_claimer_only(receiver, subscribe):
    subscription, _ = subscribe([events.REPLY_RECEIVED])
    event = WebhookEvent.objects.create(type="reply.received", payload={"id": "x", "data": {}})
    row = WebhookDelivery.objects.create(subscription=subscription, event=event)
    assert delivery.deliver(row.pk) == "delivered"
    assert delivery.deliver(row.pk) is None  # a duplicate task finds nothing to do
    assert len(receiver.received) == 1


def test_a_delivery_left_mid_send_by_a_stopped_worker_is_sent_again(receiver, subscribe):
    subscription, _ = subscribe([events.REPLY_RECEIVED])
    event = WebhookEvent.objects.create(type="reply.received", payload={"id": "x", "data": {}})
    row = WebhookDelivery.objects.create(
        subscription=subscription,
        event=event,
        status="sending",
        attempts=1,
        claim_token="dead-worker",
        lease_expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )
    assert tasks.sweep_webhooks() == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("delivered", 2)


def test_an_unreachable_receiver_is_a_failed_attempt_with_the_reason(subscribe, receiver, settings):
    subscription, _ = subscribe([events.REPLY_RECEIVED])
    WebhookSubscription.objects.filter(pk=subscription.pk).update(url="http://127.0.0.1:9/closed")
    event = WebhookEvent.objects.create(type="reply.received", payload={"id": "x", "data": {}})
    row = WebhookDelivery.objects.create(subscription=subscription, event=event)
    assert delivery.deliver(row.pk) == "pending"
    row.refresh_from_db()
    assert row.response_status is None and "ConnectionError" in row.error


def test_ping_reaches_one_subscription_through_the_queue(
    receiver, subscribe, alice, django_capture_on_commit_callbacks
):
    subscription, secret = subscribe([events.CONSENT_GRANTED])
    subscribe([events.CONSENT_GRANTED])
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.ping(subscription, actor=alice)
    [request] = receiver.received
    assert request.headers["X-CRM-Event"] == "ping" and verify(secret, request.headers, request.body)
    assert json.loads(request.body)["data"] == {"subscription_id": subscription.pk, "sent_by": "alice"}
    sent.refresh_from_db()
    assert sent.status == "delivered"


def test_old_events_and_their_deliveries_are_pruned(subscribe):
    subscription, _ = subscribe([events.REPLY_RECEIVED])
    old = WebhookEvent.objects.create(
        type="reply.received", payload={}, created_at=timezone.now() - datetime.timedelta(days=31)
    )
    WebhookDelivery.objects.create(subscription=subscription, event=old, status="delivered")
    recent = WebhookEvent.objects.create(type="reply.received", payload={})
    assert tasks.prune_webhook_log() == 2
    assert list(WebhookEvent.objects.all()) == [recent] and not WebhookDelivery.objects.exists()
