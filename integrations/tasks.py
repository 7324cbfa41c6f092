"""django-q2 task functions for webhooks; the periodic ones are schedules made by migration 0002."""

import logging

from django.utils import timezone

from integrations import delivery, outbox, services

logger = logging.getLogger(__name__)


def deliver_webhook(delivery_id: int) -> str | None:
    return delivery.deliver(delivery_id)


def sweep_webhooks() -> int:
    """Every minute: hand out again what a stopped worker left, and queue the retries now due."""
    now = timezone.now()
    stale = delivery.requeue_stale(now)
    if stale:
        logger.warning("%s webhook delivery(ies) left mid-send by a stopped worker queued again", stale)
    due = delivery.due_ids(now)
    for delivery_id in due:
        outbox.enqueue(delivery_id)
    return len(due)


def publish_rights_expiring() -> int:
    return services.publish_rights_expiring()


def prune_webhook_log() -> int:
    return services.prune_log()
