"""django-q2 task functions: plain functions that take ids, enqueued after the transaction commits.

Periodic ones (dispatch, stale leases, follow-ups, expiries) are django-q2 schedules created by
migration outreach/0002, so no one has to add them by hand.
"""

import logging

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task

from outreach.models import OutreachMessage, SenderAccount

logger = logging.getLogger(__name__)


def enqueue_sending(sender_id: int) -> None:
    """Start sending this account's due messages once the current transaction has committed."""
    transaction.on_commit(
        lambda: async_task("outreach.tasks.send_due_messages", sender_id, task_name=f"send-{sender_id}")
    )


def send_due_messages(sender_id: int) -> dict:
    """Send what is due for one account; if time ran out with more due, queue another run."""
    from outreach.worker import send_due

    report = send_due(sender_id)
    if report.more_due:
        async_task("outreach.tasks.send_due_messages", sender_id, task_name=f"send-{sender_id}")
    return {"claimed": report.claimed, **report.outcomes}


def dispatch_due_messages() -> int:
    """Every minute: one sending task per account that has due messages (retries, follow-ups)."""
    sender_ids = set(OutreachMessage.objects.due().order_by().values_list("sender_account_id", flat=True).distinct())
    for sender in SenderAccount.objects.filter(pk__in=sender_ids):
        if sender.is_sending():
            async_task("outreach.tasks.send_due_messages", sender.pk, task_name=f"send-{sender.pk}")
    return len(sender_ids)


def reap_stale_leases() -> int:
    from outreach.worker import reap_stale_leases as reap

    count = reap()
    if count:
        logger.warning("%s message(s) left mid-send by a stopped worker moved to needs_review", count)
    return count


def create_follow_ups() -> int:
    from outreach.services import create_due_follow_ups

    return create_due_follow_ups()


def expire_permission_requests() -> int:
    from crm.services import expire_due_permissions

    return expire_due_permissions(unanswered_after_days=settings.PERMISSION_REQUEST_EXPIRY_DAYS)


def process_inbound_event(event_id: int) -> int:
    """Thread a stored webhook delivery onto its creators (idempotent: once per event)."""
    from outreach.inbound import process_event

    return process_event(event_id)
