"""Our own messages reported back by the platform (echoes) and read receipts: never replies. An echo
of a message a person sent from the app clears the matching manual-queue row."""

from django.db.models import Case, When
from django.utils import timezone

from crm import events
from crm.models import SocialAccount
from outreach.inbound.replies import already_recorded, record_message
from outreach.models import RECIPIENT_PLATFORM, Conversation, ConversationMessage, OutreachMessage
from outreach.webhooks import InboundMessage, from_millis
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
    if account is None:
        return None
    creator = account.creator
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


def read_receipt(message: InboundMessage) -> None:
    read = ConversationMessage.objects.filter(
        platform=message.platform, direction=ConversationMessage.Direction.OUT, read_at__isnull=True
    )
    if message.message_id.isdigit() and message.platform == "messenger":  # a watermark: all before it
        account = SocialAccount.objects.filter(platform="facebook", platform_user_id=message.recipient_id).first()
        if account:
            read.filter(conversation__creator=account.creator, at__lte=from_millis(message.message_id)).update(
                read_at=message.at
            )
        return
    read.filter(platform_message_id=message.message_id).update(read_at=message.at)
