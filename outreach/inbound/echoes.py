"""Our own messages reported back by the platform (echoes) and read receipts: never replies. An echo
of a message a person sent from the app clears the matching manual-queue row."""

from django.db.models import Case, When
from django.utils import timezone

from crm import events
from crm.models import SocialAccount
from outreach.inbound.replies import already_recorded, record_message
from outreach.models import RECIPIENT_PLATFORM, Conversation, ConversationMessage, OutreachMessage
from outreach.webhooks import InboundMessage
from outreach.webhooks.kinds import STATUS_RANK
from outreach.worker import after_sent, mark_request_sent

Status = OutreachMessage.Status


def echo(message: InboundMessage) -> ConversationMessage | None:
    """Our own message, reported back by the platform: never a reply; it clears the manual queue."""
    if already_recorded(message):
        return None
    platform = RECIPIENT_PLATFORM[message.platform]
    account = (
        SocialAccount.objects.select_related("creator")
        .filter(platform=platform, platform_user_id=message.recipient_id)
        .first()
    )
    conversation = None
    if account is None and message.conversation_id:
        conversation = Conversation.objects.filter(
            platform=message.platform, platform_conversation_id=message.conversation_id
        ).first()
    if account is None and conversation is None:
        return None
    creator = account.creator if account else conversation.creator
    ours = OutreachMessage.objects.filter(platform=message.platform, provider_message_id=message.message_id).first()
    if ours is None:
        # The message a person sent from the app, or one a dead worker may have sent: only a row with
        # exactly this text is taken as the one echoed (a row in review first), never "any queued row".
        candidates = OutreachMessage.objects.filter(
            creator=creator,
            platform=message.platform,
            status__in=[Status.NEEDS_REVIEW, Status.MANUAL],
            rendered_text=message.text,
        ).order_by(Case(When(status=Status.NEEDS_REVIEW, then=0), default=1), "created_at", "id")
        match = candidates.first() if message.text else None
        if match is not None:
            updated = OutreachMessage.objects.filter(pk=match.pk, status=match.status).update(
                status=Status.SENT,
                sent_at=message.at,
                provider_message_id=message.message_id,
                reason=f"{match.reason} Seen as sent in the platform's echo.".strip(),
                updated_at=timezone.now(),
            )
            if updated:
                match.refresh_from_db()
                mark_request_sent(match, message.at)
                after_sent([match], message.at)
                events.publish(events.MESSAGE_SENT, events.outreach_message_data(match))  # webhooks (crm/events.py)
                ours = match
    conversation, _ = Conversation.objects.get_or_create(creator=creator, platform=message.platform)
    return record_message(conversation, message, ConversationMessage.Direction.OUT, outreach_message=ours)


def receipt(message: InboundMessage) -> int:
    """Read and delivery receipts and WhatsApp statuses, applied to our own messages; returns how
    many messages it changed. Receipts never go backwards (statuses arrive out of order)."""
    if message.kind == "status":
        return whatsapp_status(message)
    if message.ours:
        return 0  # the business read the conversation (TikTok tells us that too)
    ours = ConversationMessage.objects.filter(direction=ConversationMessage.Direction.OUT)
    referenced = ours.filter(platform=message.platform, platform_message_id=message.message_id).first()
    conversation = referenced.conversation if referenced else conversation_of(message)
    if conversation is None:
        return 0
    ours = ours.filter(conversation=conversation).exclude(delivery_status="failed")
    upto = message.watermark or (referenced.at if referenced else None)
    if message.kind == "delivery":
        changed = ours.filter(platform_message_id__in=message.mids, delivered_at__isnull=True) if message.mids else None
        count = changed.update(delivered_at=message.at) if changed is not None else 0
        if upto:
            count += ours.filter(at__lte=upto, delivered_at__isnull=True).update(delivered_at=message.at)
        ours.filter(delivered_at__isnull=False, delivery_status__in=["", "sent"]).update(delivery_status="delivered")
        return count
    if upto is None:
        return 0
    return ours.filter(at__lte=upto, read_at__isnull=True).update(read_at=message.at, delivery_status="read")


def conversation_of(message: InboundMessage) -> Conversation | None:
    """The conversation a receipt is about: by the platform's conversation id, else by the reader."""
    if message.conversation_id:
        found = Conversation.objects.filter(
            platform=message.platform, platform_conversation_id=message.conversation_id
        ).first()
        if found:
            return found
    account = SocialAccount.objects.filter(
        platform=RECIPIENT_PLATFORM[message.platform], platform_user_id=message.sender_id
    ).first()
    if account is None:
        return None
    return Conversation.objects.filter(creator_id=account.creator_id, platform=message.platform).first()


def whatsapp_status(message: InboundMessage) -> int:
    """sent / delivered / read / failed of one of our WhatsApp messages. `failed` fails the outbox
    row with the platform's code and title and publishes `message.failed`."""
    rank = STATUS_RANK.get(message.status, 0)
    recorded = ConversationMessage.objects.filter(
        platform="whatsapp", platform_message_id=message.message_id, direction=ConversationMessage.Direction.OUT
    ).first()
    changed = 0
    if recorded and rank > STATUS_RANK.get(recorded.delivery_status, 0):
        recorded.delivery_status = message.status
        if message.status in {"delivered", "read", "played"} and recorded.delivered_at is None:
            recorded.delivered_at = message.at
        if message.status in {"read", "played"} and recorded.read_at is None:
            recorded.read_at = message.at
        recorded.save(update_fields=["delivery_status", "delivered_at", "read_at"])
        changed = 1
    if message.status != "failed":
        return changed
    failed = OutreachMessage.objects.filter(
        platform="whatsapp", provider_message_id=message.message_id, status=Status.SENT
    ).first()
    if failed is None:
        return changed
    updated = OutreachMessage.objects.filter(pk=failed.pk, status=Status.SENT).update(
        status=Status.FAILED,
        error_code=str(message.error_code or "")[:64],
        error_message=message.error_title or "The platform reported the message as failed.",
        reason=f"WhatsApp reported it failed: {message.error_code} {message.error_title}".strip(),
        updated_at=timezone.now(),
    )
    if updated:
        failed.refresh_from_db()
        events.publish(  # webhooks (crm/events.py); once per row however often the status comes
            events.MESSAGE_FAILED, events.outreach_message_data(failed), event_id=events.stable_id("failed", failed.pk)
        )
    return changed + updated
