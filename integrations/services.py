"""Webhook verbs: register, change, re-enable, test and re-key a subscription; the periodic alerts.

The API and the admin call these; they take objects and an actor, never a request. Errors are
`crm.errors.DomainError`, by field.
"""

import datetime
import uuid

from django.db import transaction
from django.utils import timezone

from crm import events
from crm import services as crm_services
from crm.errors import DomainError
from integrations import outbox, ssrf
from integrations.models import PING, WebhookDelivery, WebhookEvent, WebhookSubscription

RIGHTS_EXPIRING_DAYS = 14  # how long before the end date other tools are told
LOG_DAYS = 30  # the delivery log's memory; longer than RIGHTS_EXPIRING_DAYS, so an alert is sent once


def clean(*, url: str | None = None, events_wanted: list | None = None) -> dict:
    """Checked values for the fields given; DomainError naming each bad field."""
    errors, cleaned = {}, {}
    if url is not None:
        try:
            ssrf.check_url(url)
            cleaned["url"] = url
        except ssrf.UnsafeUrl as error:
            errors["url"] = [str(error)]
    if events_wanted is not None:
        unknown = [str(name) for name in events_wanted if name not in events.EVENT_TYPES]
        if not events_wanted:
            errors["events"] = ["Choose at least one event: " + ", ".join(events.EVENT_TYPES) + "."]
        elif unknown:
            errors["events"] = [f"Unknown event(s) {', '.join(unknown)}; choose from " + ", ".join(events.EVENT_TYPES)]
        else:
            cleaned["events"] = list(dict.fromkeys(events_wanted))
    if errors:
        raise DomainError(errors)
    return cleaned


def create_subscription(
    *, actor, url: str, events_wanted: list[str], description: str = "", is_active: bool = True
) -> tuple[WebhookSubscription, str]:
    """A new subscription owned by `actor`; returns it with its secret, which is not shown again."""
    cleaned = clean(url=url, events_wanted=events_wanted)
    secret = WebhookSubscription.new_secret()
    subscription = WebhookSubscription(owner=actor, description=description, is_active=is_active, **cleaned)
    subscription.set_secret(secret)
    subscription.save()
    return subscription, secret


def update_subscription(
    subscription: WebhookSubscription, *, actor, url=None, events_wanted=None, description=None, is_active=None
) -> WebhookSubscription:
    """Change what the owner may change; a new URL is checked like a new subscription's."""
    cleaned = clean(url=url, events_wanted=events_wanted)
    if description is not None:
        cleaned["description"] = description
    if is_active is not None:
        cleaned["is_active"] = is_active
    for name, value in cleaned.items():
        setattr(subscription, name, value)
    subscription.save(update_fields=[*cleaned, "updated_at"])
    if is_active:
        _queue_waiting(subscription)
    return subscription


def enable_subscription(subscription: WebhookSubscription, *, actor) -> WebhookSubscription:
    """The owner fixed their endpoint: deliveries resume, waiting ones first, with a clean count."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=True, disabled_at=None, disabled_reason="", consecutive_failures=0, updated_at=timezone.now()
    )
    subscription.refresh_from_db()
    outbox.forget_wanted_types()  # an UPDATE sends no post_save
    _queue_waiting(subscription)
    return subscription


def _queue_waiting(subscription: WebhookSubscription) -> None:
    """Deliveries that waited while the subscription was off go out now, not at their next retry."""
    waiting = subscription.deliveries.filter(status=WebhookDelivery.Status.PENDING)
    delivery_ids = list(waiting.values_list("pk", flat=True))
    waiting.update(next_attempt_at=timezone.now())
    transaction.on_commit(lambda: [outbox.enqueue(delivery_id) for delivery_id in delivery_ids])


def rotate_secret(subscription: WebhookSubscription, *, actor) -> str:
    """A new signing secret at once (the old one stops signing); returned once, as at creation."""
    secret = WebhookSubscription.new_secret()
    subscription.set_secret(secret)
    subscription.save(update_fields=["secret_encrypted", "updated_at"])
    return secret


def ping(subscription: WebhookSubscription, *, actor) -> WebhookDelivery:
    """Send a `ping` event to this subscription alone, through the queue like any event."""
    if not subscription.is_active or subscription.disabled_at:
        raise DomainError({"is_active": ["This subscription does not deliver now; switch it on or re-enable it."]})
    event = events.DomainEvent(
        id=uuid.uuid4(),
        type=PING,
        created_at=timezone.now(),
        data={"subscription_id": subscription.pk, "sent_by": actor.get_username() if actor else None},
    )
    with transaction.atomic():
        outbox.record(event, [subscription])
    return WebhookDelivery.objects.select_related("event").get(subscription=subscription, event_id=event.id)


def publish_rights_expiring(*, now: datetime.datetime | None = None) -> int:
    """Tell subscribers which granted rights end soon: once per request and end date (the event id is
    derived from both), however often this runs; a changed end date is told again."""
    wanted = any(s.wants(events.RIGHTS_EXPIRING) for s in WebhookSubscription.objects.delivering())
    if not wanted:
        return 0
    told = 0
    for request in crm_services.rights_expiring(within_days=RIGHTS_EXPIRING_DAYS, now=now):
        event_id = events.stable_id(events.RIGHTS_EXPIRING, request.pk, request.rights_expire_at.isoformat())
        with transaction.atomic():
            events.publish(events.RIGHTS_EXPIRING, events.permission_request_data(request), event_id=event_id)
        told += 1
    return told


def prune_log(*, now: datetime.datetime | None = None) -> int:
    """Forget events (and their deliveries) older than LOG_DAYS."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=LOG_DAYS)
    deleted, _ = WebhookEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
