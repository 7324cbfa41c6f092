"""Email that is not a creator's answer: bounces (the outbox row fails; a hard bounce stops mail to
the address), automatic replies (recorded, but they stop nothing and grant nothing) and our own
mail seen in the mailbox's Sent folder (an echo: it threads and clears the manual queue)."""

import contextlib
import re

from django.db import IntegrityError, transaction
from django.db.models import Case, When
from django.utils import timezone

from crm import events
from crm.models import Creator
from outreach.inbound.replies import already_recorded, record_message
from outreach.models import (
    Conversation,
    ConversationMessage,
    EmailSuppression,
    InboundEvent,
    OutreachMessage,
    SenderAccount,
    SenderPlatform,
)
from outreach.webhooks import InboundMessage
from outreach.worker import after_sent, mark_request_sent

Status = OutreachMessage.Status
EMAIL = SenderPlatform.EMAIL
# Keys a mailbox fetch writes into a stored delivery's headers; ":" cannot occur in an HTTP header
# name, so a posted delivery cannot pretend to come from a mailbox.
SENDER_KEY, ROLE_KEY = "imap:sender_account", "imap:role"


def parse_context(event: InboundEvent) -> dict:
    """What `outreach.webhooks.email.parse` needs besides the bytes: when we received it, our own
    addresses, and the authserv-id of the mailbox's IMAP server (its Authentication-Results are trusted)."""
    ours = tuple(SenderAccount.objects.filter(platform=EMAIL).values_list("account_id", flat=True))
    trusted: tuple[str, ...] = ()
    sender_id = (event.headers or {}).get(SENDER_KEY)
    if sender_id:
        authserv = SenderAccount.objects.filter(pk=sender_id).values_list("imap_authserv_id", flat=True).first()
        trusted = (authserv,) if authserv else ()
    return {
        "received_at": event.received_at,
        "our_addresses": ours,
        "trusted_authserv_ids": trusted,
        "folder_role": (event.headers or {}).get(ROLE_KEY, ""),
    }


def bounce_received(message: InboundMessage) -> None:
    """A delivery status notification: the row it reports on fails with the reason (message.failed);
    a permanent failure (5.x.x) puts the address on the suppression list and withdraws what is queued."""
    address = message.recipient_id.lower()
    permanent = message.bounce_status.startswith("5")
    reason = f"Bounced ({message.bounce_status}): {message.text}"[:2000]
    sent = OutreachMessage.objects.filter(platform=EMAIL, status=Status.SENT)
    row = (
        sent.filter(provider_message_id__in=[r for r in message.references if r]).first()
        if message.references
        else None
    )
    row = row or sent.filter(recipient_id__iexact=address).order_by("-sent_at", "-id").first()
    with transaction.atomic():
        if row is not None and permanent:
            updated = OutreachMessage.objects.filter(pk=row.pk, status=Status.SENT).update(
                status=Status.FAILED,
                reason=reason,
                error_code=message.bounce_status[:64],
                error_message=message.text[:2000],
                updated_at=timezone.now(),
            )
            if updated:
                row.refresh_from_db()
                events.publish(events.MESSAGE_FAILED, events.outreach_message_data(row))  # crm/events.py
        elif row is not None:  # delayed: the server still tries; a person may want to know
            OutreachMessage.objects.filter(pk=row.pk).update(reason=f"{row.reason} {reason}".strip()[:2000])
        if permanent:
            suppress(address, reason, row)
    return None


def suppress(address: str, reason: str, row: OutreachMessage | None = None) -> None:
    """No more email to this address: it joins the suppression list, queued email to it is withdrawn."""
    with contextlib.suppress(IntegrityError), transaction.atomic():  # already suppressed: the first reason stays
        EmailSuppression.objects.create(address=address, reason=reason, outreach_message=row)
    OutreachMessage.objects.filter(
        platform=EMAIL, status__in=[Status.PENDING, Status.MANUAL], creator__email__iexact=address
    ).update(status=Status.CANCELLED, reason=f"The address hard-bounced: {reason}"[:2000], updated_at=timezone.now())


def automatic_reply_received(message: InboundMessage) -> ConversationMessage | None:
    """An out-of-office or other automatic reply: kept in the conversation, but it is not the creator
    answering, so sequences go on and nothing is classified."""
    if already_recorded(message):
        return None
    creator = _creator_by_address(message.sender_id, message.references)
    if creator is None:
        return None  # an automatic answer from a stranger is not a message request
    conversation, _ = Conversation.objects.get_or_create(creator=creator, platform=EMAIL)
    recorded = record_message(conversation, message, ConversationMessage.Direction.IN)
    if recorded is not None:
        recorded.classification_rule = f"automatic reply, not the creator's answer: {message.evidence}"[:200]
        recorded.save(update_fields=["classification_rule"])
    return recorded


def email_echo(message: InboundMessage) -> ConversationMessage | None:
    """Our own mail, found in the Sent folder (sent by a person from the mailbox, or by us): it
    threads into the conversation, and a manual-queue row with the same text is marked sent."""
    if already_recorded(message):
        return None
    ours = OutreachMessage.objects.filter(platform=EMAIL, provider_message_id=message.message_id).first()
    creator = ours.creator if ours else _creator_by_address(message.recipient_id, message.references)
    if creator is None:
        return None
    if ours is None and message.text:
        ours = _manual_row_sent(creator, message)
    conversation, _ = Conversation.objects.get_or_create(creator=creator, platform=EMAIL)
    return record_message(conversation, message, ConversationMessage.Direction.OUT, outreach_message=ours)


def _manual_row_sent(creator: Creator, message: InboundMessage) -> OutreachMessage | None:
    """The row in review or in the manual queue whose text the person sent (their mail client may
    add a signature, so the row's text must be contained in what was sent)."""
    sent_text = _normal(message.text)
    candidates = OutreachMessage.objects.filter(
        creator=creator, platform=EMAIL, status__in=[Status.NEEDS_REVIEW, Status.MANUAL]
    ).order_by(Case(When(status=Status.NEEDS_REVIEW, then=0), default=1), "created_at", "id")
    for match in candidates:
        if not _normal(match.rendered_text) or _normal(match.rendered_text) not in sent_text:
            continue
        updated = OutreachMessage.objects.filter(pk=match.pk, status=match.status).update(
            status=Status.SENT,
            sent_at=message.at,
            provider_message_id=message.message_id,
            reason=f"{match.reason} Seen as sent in the mailbox's Sent folder.".strip(),
            updated_at=timezone.now(),
        )
        if updated:
            match.refresh_from_db()
            mark_request_sent(match, message.at)
            after_sent([match], message.at)
            events.publish(events.MESSAGE_SENT, events.outreach_message_data(match))  # webhooks (crm/events.py)
            return match
    return None


def _creator_by_address(address: str, references: tuple[str, ...]) -> Creator | None:
    if references:
        ours = OutreachMessage.objects.filter(platform=EMAIL, provider_message_id__in=references).first()
        if ours:
            return ours.creator
    return Creator.objects.filter(email__iexact=address).order_by("id").first() if address else None


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip().lower()


HANDLERS = {"bounce": bounce_received, "auto_reply": automatic_reply_received, "echo": email_echo}
