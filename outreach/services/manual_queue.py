"""The manual queue and the outbox rows a person must check: mark sent by hand, cancel, approve a send
held for review, retry a failure. Each is a conditional change, so two people acting at once act once."""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm import access, events
from crm.errors import DomainError
from outreach.models import OutreachMessage
from outreach.queue import enqueue_sending
from outreach.worker import after_sent, mark_request_sent

Status = OutreachMessage.Status


def mark_sent_manually(message: OutreachMessage, *, actor, provider_message_id: str = "") -> OutreachMessage:
    """A person sent a queued message from the platform's own app; record it as sent by them."""
    with transaction.atomic():
        message = (
            OutreachMessage.objects.select_for_update(of=("self",))
            .select_related("permission_request")
            .get(pk=message.pk)
        )
        if message.status not in {Status.MANUAL, Status.NEEDS_REVIEW}:
            raise DomainError(
                {"status": f"Only a message in the manual queue can be marked sent; it is {message.status}."}
            )
        now = timezone.now()
        message.status, message.sent_at, message.sent_by = Status.SENT, now, actor
        message.provider_message_id = provider_message_id or message.provider_message_id
        message.save(update_fields=["status", "sent_at", "sent_by", "provider_message_id", "updated_at"])
        mark_request_sent(message, now)
        after_sent([message], now)
        events.publish(events.MESSAGE_SENT, events.outreach_message_data(message))  # webhooks (crm/events.py)
    return message


MAX_BULK = 200  # a page holds 50; a generous bound keeps one click one short transaction


@dataclass
class BulkSent:
    """What a bulk "mark as sent" did: the messages this click recorded, and how many it left alone
    (already sent, e.g. by a colleague a moment earlier, cancelled, or not theirs to act on)."""

    sent: list[OutreachMessage]
    skipped: int


def mark_many_sent(message_ids, *, actor) -> BulkSent:
    """Several messages a person sent by hand, recorded as sent by them, each exactly once.

    The claim is one conditional UPDATE that stamps the rows it moves with a token of this click
    (`claim_token`): two managers clicking at once each get the rows their own statement moved, so a
    message is recorded once, counted once and its follow-ups (request `requested`, conversation,
    stage, webhook event) happen once. Only messages the actor may act on are touched."""
    ids = list(dict.fromkeys(int(pk) for pk in message_ids))
    if not ids:
        raise DomainError({"message": ["Choose at least one message to mark as sent."]})
    if len(ids) > MAX_BULK:
        raise DomainError({"message": [f"Mark at most {MAX_BULK} messages at a time."]})
    token = "bulk-" + uuid.uuid4().hex[:27]
    now = timezone.now()
    with transaction.atomic():
        mine = access.workable(OutreachMessage.objects.filter(pk__in=ids), actor).values("pk")
        OutreachMessage.objects.filter(pk__in=mine, status__in=[Status.MANUAL, Status.NEEDS_REVIEW]).update(
            status=Status.SENT, sent_at=now, sent_by=actor, claim_token=token, updated_at=now
        )
        sent = list(
            OutreachMessage.objects.filter(pk__in=ids, claim_token=token)
            .select_related("permission_request", "creator")
            .order_by("id")
        )
        for message in sent:
            mark_request_sent(message, now)
        after_sent(sent, now)
        for message in sent:
            events.publish(events.MESSAGE_SENT, events.outreach_message_data(message))
    return BulkSent(sent=sent, skipped=len(ids) - len(sent))


def cancel_message(message: OutreachMessage, *, actor) -> OutreachMessage:
    """Withdraw a message that has not gone out."""
    updated = OutreachMessage.objects.filter(
        pk=message.pk, status__in=[Status.PENDING, Status.MANUAL, Status.NEEDS_REVIEW, Status.FAILED]
    ).update(status=Status.CANCELLED, reason=f"Cancelled by {actor.get_username()}.", updated_at=timezone.now())
    message.refresh_from_db()
    if not updated:
        raise DomainError({"status": f"A message that is {message.status} cannot be cancelled."})
    return message


def approve_message(message: OutreachMessage, *, actor) -> OutreachMessage:
    """A person checked a message held for review (e.g. the platform never answered, so it may not
    have gone out) and lets it be sent: it goes back to the queue, and the policy decides again."""
    return _back_to_queue(
        message,
        from_status=Status.NEEDS_REVIEW,
        refusal="Only a message that needs review can be approved",
        claim_token="",
        lease_expires_at=None,
        send_started_at=None,
        reason=f"Approved to send by {actor.get_username()}.",
    )


def retry_message(message: OutreachMessage, *, actor) -> OutreachMessage:
    """Try a failed message again from a fresh attempt count (after, say, a new token was entered)."""
    return _back_to_queue(
        message,
        from_status=Status.FAILED,
        refusal="Only a failed message can be retried",
        attempts=0,
        error_code="",
        error_message="",
        reason=f"Retried by {actor.get_username()}.",
    )


def _back_to_queue(message: OutreachMessage, *, from_status: str, refusal: str, **changes) -> OutreachMessage:
    """Put a message back to pending, due now, if it is still in `from_status` (a conditional UPDATE,
    so two people acting at once queue it once), and start sending."""
    now = timezone.now()
    try:
        with transaction.atomic():
            updated = OutreachMessage.objects.filter(pk=message.pk, status=from_status).update(
                status=Status.PENDING, due_at=now, next_attempt_at=None, updated_at=now, **changes
            )
    except IntegrityError:
        # A later launch reached the creator for this step on another channel: never two messages.
        raise DomainError(
            {"status": "This creator already has a message for this step of the campaign (a later launch)."}
        ) from None
    message.refresh_from_db()
    if not updated:
        raise DomainError({"status": f"{refusal}; it is {message.status}."})
    enqueue_sending(message.sender_account_id)
    return message


def requeue_cancelled(message: OutreachMessage, *, actor) -> OutreachMessage:
    """Undo a cancel: the message goes back to the queue, due now, and the policy decides again how it
    goes (by API, to a person, or nowhere), as for any message that comes due."""
    return _back_to_queue(
        message,
        from_status=Status.CANCELLED,
        refusal="Only a cancelled message can be put back",
        reason=f"Put back in the queue by {actor.get_username()}.",
    )
