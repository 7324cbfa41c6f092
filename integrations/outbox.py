"""The transactional outbox: a domain event becomes delivery rows in the publisher's transaction,
and the deliveries are queued only once that transaction has committed.

A subscriber hears of a campaign's events only if its owner may see the campaign (as in the API:
admins everything, others the campaigns they own or are on the team of); events of no campaign
(replies, opt-outs) go to every subscriber of their type.
"""

import logging
import time

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from crm.events import DomainEvent
from crm.models import Role, role_of
from integrations.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from outreach.queue import enqueue_now

logger = logging.getLogger(__name__)


def on_domain_event(sender, event: DomainEvent, **kwargs) -> None:
    """The `crm.events.domain_event` receiver. A failure here is logged and never undoes the change
    that was published (a consent decision must not fail because of a webhook)."""
    try:
        subscriptions = subscribers(event)
        if subscriptions:  # most events have none: then this costs one query, and no savepoint
            with transaction.atomic():
                record(event, subscriptions)
    except Exception:
        logger.exception("webhook deliveries for %s %s were not recorded", event.type, event.id)


# Event types anyone subscribes to, remembered for a second per process: the send loop publishes
# per message, and most installations subscribe to few types, so a type nobody wants costs no query.
# Saving or deleting a subscription forgets it at once in this process (apps.py); another process
# sees a new subscription within TYPES_TTL seconds.
TYPES_TTL = 1.0
_wanted_types: tuple[float, frozenset] = (0.0, frozenset())


def wanted_types() -> frozenset:
    global _wanted_types
    fetched_at, types = _wanted_types
    if time.monotonic() - fetched_at > TYPES_TTL:
        types = frozenset(
            event_type for events in WebhookSubscription.objects.delivering().values_list("events", flat=True)
            for event_type in events
        )  # fmt: skip
        _wanted_types = (time.monotonic(), types)
    return types


def forget_wanted_types(**kwargs) -> None:
    global _wanted_types
    _wanted_types = (0.0, frozenset())


def subscribers(event: DomainEvent) -> list[WebhookSubscription]:
    """Delivering subscriptions that want this event and whose owner may see what it is about."""
    if event.type not in wanted_types():
        return []
    candidates = [
        subscription
        for subscription in WebhookSubscription.objects.delivering()
        .filter(owner__is_active=True)
        .select_related("owner__access_role")
        if subscription.wants(event.type)
    ]
    campaign_id = event.data.get("campaign_id")
    if not candidates or campaign_id is None:
        return candidates
    needs_check = [s for s in candidates if role_of(s.owner) != Role.ADMIN]
    if not needs_check:
        return candidates
    allowed = set(
        get_user_model()
        .objects.filter(Q(owned_campaigns=campaign_id) | Q(campaigns=campaign_id))
        .values_list("pk", flat=True)
    )
    return [s for s in candidates if role_of(s.owner) == Role.ADMIN or s.owner_id in allowed]


def record(event: DomainEvent, subscriptions: list[WebhookSubscription] | None = None) -> None:
    """Write the event and one delivery per subscriber, once each: an event id published again adds
    deliveries only for subscribers that did not have it yet."""
    subscriptions = subscribers(event) if subscriptions is None else subscriptions
    if not subscriptions:
        return
    WebhookEvent.objects.bulk_create(
        [WebhookEvent(id=event.id, type=event.type, payload=event.envelope(), created_at=event.created_at)],
        ignore_conflicts=True,
    )
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription=subscription, event_id=event.id) for subscription in subscriptions],
        ignore_conflicts=True,
    )
    subscription_ids = [subscription.pk for subscription in subscriptions]
    transaction.on_commit(lambda: enqueue_pending(event.id, subscription_ids))


def enqueue_pending(event_id, subscription_ids: list[int]) -> None:
    """One delivery task per subscriber still waiting for this event."""
    pending = WebhookDelivery.objects.filter(
        event_id=event_id, subscription_id__in=subscription_ids, status=WebhookDelivery.Status.PENDING
    ).values_list("pk", flat=True)
    for delivery_id in pending:
        enqueue(delivery_id)


def enqueue(delivery_id: int) -> None:
    enqueue_now("integrations.tasks.deliver_webhook", delivery_id, name=f"webhook-{delivery_id}")
