"""Verified webhook deliveries: stored raw once per provider id, then processed once, each message
handed to the handler of its kind."""

import dataclasses
import hashlib
import json
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from outreach.inbound import changes, mail
from outreach.inbound.comments import handle_comment
from outreach.inbound.echoes import echo, receipt
from outreach.inbound.replies import reply
from outreach.models import ConversationMessage, InboundEvent
from outreach.webhooks import InboundMessage, kinds, meta, tiktok, x
from outreach.webhooks import email as email_hook
from outreach.webhooks.meta_comments import InboundComment

logger = logging.getLogger(__name__)


def store_delivery(provider: str, event_id: str, body: bytes, headers: dict) -> tuple[InboundEvent, bool]:
    """Keep a verified delivery; (event, False) when the same one was stored before (a re-delivery)."""
    event_id = event_id or hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            return InboundEvent.objects.create(provider=provider, event_id=event_id, body=body, headers=headers), True
    except IntegrityError:
        return InboundEvent.objects.get(provider=provider, event_id=event_id), False


def parse_event(event: InboundEvent) -> list[InboundMessage]:
    body = bytes(event.body)
    if event.provider == "email":
        return [email_hook.parse(body, **mail.parse_context(event))]
    payload = json.loads(body)
    parser = {"meta": meta.parse, "x": x.parse, "tiktok": tiktok.parse}[event.provider]
    return parser(payload)


def process_event(event_id: int) -> int:
    """Process a stored delivery once, whoever else tries at the same time; returns messages recorded."""
    with transaction.atomic():
        event = InboundEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status != InboundEvent.Status.RECEIVED:
            return 0
        try:
            with transaction.atomic():
                recorded = [found for found in map(handle, parse_event(event)) if found]
                ConversationMessage.objects.filter(pk__in=[m.pk for m in recorded]).update(inbound_event=event)
        except Exception as error:  # keep the delivery and say why; a person or a retry takes it from here
            logger.exception("inbound event %s could not be processed", event_id)
            event.status, event.error = InboundEvent.Status.FAILED, f"{type(error).__name__}: {error}"[:2000]
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "error", "processed_at"])
            return 0
        event.status, event.processed_at = InboundEvent.Status.PROCESSED, timezone.now()
        event.save(update_fields=["status", "processed_at"])
        return len(recorded)


def handle(message: InboundMessage | InboundComment) -> ConversationMessage | None:
    """One parsed event, to the handler of its kind (outreach/webhooks/kinds.py). Returns the
    message recorded by this event, if any."""
    if isinstance(message, InboundComment):
        handle_comment(message)  # comments and mentions (outreach/inbound/comments.py)
        return None
    if message.platform == "email" and message.kind in mail.HANDLERS:
        return mail.HANDLERS[message.kind](message)
    if message.test:
        logger.info("Meta dashboard test event ignored (placeholder ids)")
        return None
    if message.kind == "echo":
        return echo(message)
    if message.kind in kinds.RECEIPTS:
        receipt(message)
        return None
    if message.kind in kinds.REACTIONS:
        changes.open_window(message)
        changes.react(message)
        return None
    if message.kind == "edit":
        if changes.edit(message) is None:  # we never saw the original: this version is all we have
            return reply(dataclasses.replace(message, kind="message"))
        return None
    if message.kind == "delete":
        changes.unsend(message)
        return None
    if message.kind in kinds.IGNORED:
        changes.open_window(message)
        return None
    return reply(message)
