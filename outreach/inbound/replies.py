"""A creator's message, threaded: the conversation's window opens, sequences stop, campaign members
move to `replied`, the rules classify it, and the account's automatic first answer goes out."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm import events
from crm.models import CampaignMember, Creator
from outreach import classify
from outreach.inbound.consent import apply_rules, classify_by_person
from outreach.inbound.identity import creator_of, email_holds
from outreach.models import Conversation, ConversationMessage, FollowUpTask, OutreachMessage, SenderAccount
from outreach.queue import enqueue_sending
from outreach.services.rendering import render_for
from outreach.services.sequences import stop_sequences
from outreach.templating import RenderError
from outreach.webhooks import InboundMessage, kinds

logger = logging.getLogger(__name__)


def already_recorded(message: InboundMessage) -> bool:
    return bool(message.message_id) and (
        ConversationMessage.objects.filter(platform=message.platform, platform_message_id=message.message_id).exists()
    )


def reply(message: InboundMessage) -> ConversationMessage | None:
    if already_recorded(message):
        return None
    creator, account = creator_of(message)
    conversation, _ = Conversation.objects.get_or_create(creator=creator, platform=message.platform)
    conversation.social_account = account or conversation.social_account
    conversation.sender_account = (
        SenderAccount.objects.filter(platform=message.platform, account_id=message.business_id).first()
        or conversation.sender_account
    )
    if not conversation.last_inbound_at or message.at > conversation.last_inbound_at:
        conversation.last_inbound_at = message.at
        conversation.outbound_since_inbound = 0
    conversation.platform_conversation_id = message.conversation_id or conversation.platform_conversation_id
    conversation.save()
    recorded = record_message(conversation, message, ConversationMessage.Direction.IN)
    if recorded is None:
        return None  # the same message, delivered in another event at the same moment
    creator_replied(creator)
    hold, hold_grant = email_holds(message)
    apply_rules(recorded, creator, hold=hold, hold_grant=hold_grant, note=message.evidence)
    events.publish(events.REPLY_RECEIVED, events.reply_data(recorded, creator))  # webhooks (crm/events.py)
    if recorded.classification != classify.OPTED_OUT:
        acknowledge_automatically(conversation, creator, recorded)
    return recorded


def creator_replied(creator: Creator) -> None:
    """Any reply, however it reached us: the creator's sequences stop and the campaigns they were
    contacted in move them to `replied`."""
    stop_sequences(creator)
    CampaignMember.objects.filter(creator=creator, stage=CampaignMember.Stage.CONTACTED).update(
        stage=CampaignMember.Stage.REPLIED, stage_changed_at=timezone.now()
    )


def acknowledge_automatically(conversation: Conversation, creator: Creator, recorded: ConversationMessage) -> None:
    """The account's automatic first answer, at most once per conversation and period, marked as
    automatic, and always with a follow-up task for a person."""
    sender = conversation.sender_account
    if sender is None or sender.auto_reply_template_id is None or creator.opted_out_at:
        return
    now = timezone.now()
    since = now - datetime.timedelta(hours=sender.auto_reply_every_hours)
    claimed = (
        Conversation.objects.filter(pk=conversation.pk)
        .filter(Q(last_auto_reply_at__isnull=True) | Q(last_auto_reply_at__lt=since))
        .update(last_auto_reply_at=now)
    )
    if not claimed:
        return  # answered automatically recently (or by a simultaneous delivery)

    handle = conversation.social_account.handle if conversation.social_account else ""
    try:
        _, text = render_for(
            sender.auto_reply_template, creator, platform=sender.platform, handle=handle, sender=sender
        )
    except RenderError as error:
        logger.warning("automatic reply to creator %s not rendered: %s", creator.pk, error)
        text = ""
    if text:
        OutreachMessage.objects.create(
            dedupe_key=f"auto-reply:{conversation.pk}:{now.isoformat()}"[:100],
            creator=creator,
            sender_account=sender,
            platform=sender.platform,
            template=sender.auto_reply_template,
            rendered_text=f"{settings.AUTO_REPLY_PREFIX} {text}".strip(),
            reason="Automatic reply to a creator who wrote first.",
        )
        enqueue_sending(sender.pk)
    FollowUpTask.objects.create(
        creator=creator,
        conversation=conversation,
        assignee=creator.owner or sender.owner,
        reason="The creator wrote and got an automatic reply: answer them personally.",
        due_at=now + datetime.timedelta(hours=settings.AUTO_REPLY_FOLLOW_UP_HOURS),
    )


def record_message(conversation, message: InboundMessage, direction, outreach_message=None):
    """Add a message to the conversation once; None when the platform's id is already there."""
    try:
        with transaction.atomic():
            return ConversationMessage.objects.create(
                conversation=conversation,
                platform=message.platform,
                direction=direction,
                platform_message_id=message.message_id or None,
                text=kinds.shown_text(message),
                at=message.at,
                outreach_message=outreach_message,
                kind=kinds.stored_kind(message),
                attachments=list(message.attachments),
                payload=message.payload[:1000],
                reply_to=message.reply_to,
                referral=message.referral,
            )
    except IntegrityError:
        return None


def log_reply_by_hand(
    creator: Creator, *, actor, platform: str, text: str, at: datetime.datetime | None = None, decision: str = ""
) -> ConversationMessage:
    """A reply that reached a person off-platform (a call, a personal inbox, a missed webhook),
    entered by hand. It stops sequences and moves the creator's campaigns on like any reply, but it
    does not open a platform's messaging window: the platform never saw it. It is not classified by
    the rules, since the text is a person's transcript: the person says what it means (`decision`),
    or it waits for review, and any consent it records is recorded as theirs."""
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Enter what the creator said."})
    at = at or timezone.now()
    if at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"at": "A reply cannot have been received in the future."})
    with transaction.atomic():
        conversation, _ = Conversation.objects.get_or_create(creator=creator, platform=platform)
        recorded = ConversationMessage.objects.create(
            conversation=conversation,
            platform=platform,
            direction=ConversationMessage.Direction.IN,
            text=text,
            at=at,
            classification=ConversationMessage.Classification.NEEDS_REVIEW,
            classification_rule=f"logged by hand by {actor.get_username()}",
        )
        creator_replied(creator)
        if decision:
            classify_by_person(recorded, actor=actor, decision=decision)
        events.publish(events.REPLY_RECEIVED, events.reply_data(recorded, creator))  # webhooks (crm/events.py)
    return recorded
