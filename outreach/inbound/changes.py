"""What happens to a message after it was written: reactions attached to it, edits kept as versions,
unsends marking it deleted. None of these is a reply: sequences and campaign stages do not move.

An edit or unsend of a message a decision was made on (rights granted, declined, withdrawn, an
opt-out) never touches the ledger: the decision stays, with the version it was made on as its
evidence, and the message goes to review so a person decides what the change means.
"""

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.models import PermissionRequest, SocialAccount
from outreach import classify
from outreach.models import (
    RECIPIENT_PLATFORM,
    Conversation,
    ConversationMessage,
    ConversationMessageVersion,
    FollowUpTask,
)
from outreach.webhooks import InboundMessage

logger = logging.getLogger(__name__)

Classification = ConversationMessage.Classification
DECISIONS = {Classification.GRANTED, Classification.DECLINED, Classification.REVOKED, Classification.OPTED_OUT}


def target_of(platform: str, message_id: str) -> ConversationMessage | None:
    if not message_id:
        return None
    return (
        ConversationMessage.objects.select_related("conversation__creator", "conversation__sender_account")
        .filter(platform=platform, platform_message_id=message_id)
        .first()
    )


def react(message: InboundMessage) -> ConversationMessage | None:
    """Attach (or remove) an emoji on the message it reacts to; unknown targets are dropped."""
    with transaction.atomic():
        target = target_of(message.platform, message.reacts_to)
        if target is None:
            logger.info("%s reaction to unknown message %s dropped", message.platform, message.reacts_to)
            return None
        target = ConversationMessage.objects.select_for_update().get(pk=target.pk)
        who = "us" if message.sender_id == message.business_id else "creator"
        reactions = dict(target.reactions or {})
        seen = reactions.get(who, {}).get("at")
        if seen and datetime.datetime.fromisoformat(seen) > message.at:
            return None  # an older reaction arriving late
        if message.kind == "unreaction":
            reactions.pop(who, None)
        else:
            reactions[who] = {"emoji": message.emoji or "", "reaction": message.payload, "at": message.at.isoformat()}
        target.reactions = reactions
        target.save(update_fields=["reactions"])
        return target


# Messenger documents a reaction and an m.me referral as opening the 24 h window, like a message
# (PLATFORMS.md §2); for Instagram and WhatsApp it is unconfirmed [U], so there they do not.
OPENS_WINDOW = {("messenger", "reaction"), ("messenger", "referral")}


def open_window(message: InboundMessage) -> bool:
    """The person acted in the thread without writing: the window opens, nothing else happens."""
    if (message.platform, message.kind) not in OPENS_WINDOW:
        return False
    account = SocialAccount.objects.filter(
        platform=RECIPIENT_PLATFORM[message.platform], platform_user_id=message.sender_id
    ).first()
    if account is None:
        return False
    return bool(
        Conversation.objects.filter(creator_id=account.creator_id, platform=message.platform)
        .filter(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=message.at))
        .update(last_inbound_at=message.at, outbound_since_inbound=0)
    )


def edit(message: InboundMessage) -> ConversationMessage | None:
    """Keep the new version; the message shows it, every earlier one stays."""
    with transaction.atomic():
        target = target_of(message.platform, message.message_id)
        if target is None:
            return None  # an edit of a message we never saw: the caller records it as a message
        target = ConversationMessage.objects.select_for_update().get(pk=target.pk)
        if target.text == message.text and target.version:
            return target  # the same edit delivered again
        if not target.versions.exists():
            ConversationMessageVersion.objects.create(
                message=target, number=0, text=target.text, attachments=target.attachments, at=target.at
            )
        number = target.version + 1
        ConversationMessageVersion.objects.create(
            message=target, number=number, text=message.text, attachments=list(message.attachments), at=message.at
        )
        target.text, target.version, target.edited_at = message.text, number, message.at
        if message.attachments:
            target.attachments = list(message.attachments)
        target.save(update_fields=["text", "version", "edited_at", "attachments"])
        if target.direction == ConversationMessage.Direction.IN:
            review_if_decided(target, f"edited (version {number})")
        return target


def unsend(message: InboundMessage) -> ConversationMessage | None:
    """The author took the message back: marked deleted (its text stays as the ledger's evidence)."""
    with transaction.atomic():
        target = target_of(message.platform, message.message_id)
        if target is None or target.deleted_at:
            return None
        target.deleted_at = message.at
        target.save(update_fields=["deleted_at"])
        if target.direction == ConversationMessage.Direction.IN:
            review_if_decided(target, "unsent by the creator")
        return target


def review_if_decided(target: ConversationMessage, what: str) -> None:
    """A decision made on this message, or an edit that reads like one, goes to a person."""
    creator = target.conversation.creator
    before = target.classification
    if before in DECISIONS:
        rule = f"{what} after it was read as {before} on version {target.classified_version}: a person decides"
    elif target.deleted_at is None:
        hashtags = sorted(
            set(
                PermissionRequest.objects.filter(
                    creator=creator, status=PermissionRequest.Status.REQUESTED
                ).values_list("approval_hashtag", flat=True)
            )
        )
        has_granted = PermissionRequest.objects.filter(creator=creator, status=PermissionRequest.Status.GRANTED)
        verdict = classify.classify(target.text, hashtags, has_granted=has_granted.exists())
        if verdict.outcome not in DECISIONS:
            return
        rule = f"{what} into what reads as {verdict.outcome}: a person decides"
    else:
        return
    target.classification, target.classification_rule = Classification.NEEDS_REVIEW, rule[:200]
    target.save(update_fields=["classification", "classification_rule"])
    sender = target.conversation.sender_account
    FollowUpTask.objects.create(
        creator=creator,
        conversation=target.conversation,
        assignee=creator.owner or (sender.owner if sender else None),
        reason=f"A message was {what}; the decision on it needs a person."[:300],
        due_at=timezone.now(),
    )
