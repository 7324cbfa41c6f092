"""Replies coming in: store a verified delivery once, then thread each message onto its creator.

Processing a message opens the messaging window the policy reads, stops the creator's sequences,
moves campaign members to `replied`, clears manual-queue rows the platform echoes back as sent,
and classifies the reply into a consent decision (or leaves it to a person), with the rule.
"""

import datetime
import hashlib
import json
import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, When
from django.utils import timezone

from crm import events
from crm import services as crm_services
from crm.models import CampaignMember, Creator, PermissionRequest, SocialAccount
from outreach import classify
from outreach.models import (
    RECIPIENT_PLATFORM,
    Conversation,
    ConversationMessage,
    FollowUpTask,
    InboundEvent,
    OutreachMessage,
    SenderAccount,
)
from outreach.services import stop_sequences
from outreach.webhooks import InboundMessage, meta, tiktok, x
from outreach.webhooks import email as email_hook

logger = logging.getLogger(__name__)
Status = OutreachMessage.Status


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
        return [email_hook.parse(body)]
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


def handle(message: InboundMessage) -> ConversationMessage | None:
    if message.kind == "echo":
        return _echo(message)
    if message.kind == "read":
        _read_receipt(message)
        return None
    return _reply(message)


def _already_recorded(message: InboundMessage) -> bool:
    return bool(message.message_id) and (
        ConversationMessage.objects.filter(platform=message.platform, platform_message_id=message.message_id).exists()
    )


def _reply(message: InboundMessage) -> ConversationMessage | None:
    if _already_recorded(message):
        return None
    creator, account = _creator_of(message)
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
    recorded = _record_message(conversation, message, ConversationMessage.Direction.IN)
    if recorded is None:
        return None  # the same message, delivered in another event at the same moment
    creator_replied(creator)
    _apply_rules(recorded, creator)
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
    from outreach.services import render_for
    from outreach.tasks import enqueue_sending
    from outreach.templating import RenderError

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


def _apply_rules(recorded: ConversationMessage, creator: Creator) -> None:
    open_requests = list(PermissionRequest.objects.filter(creator=creator, status=PermissionRequest.Status.REQUESTED))
    granted = list(PermissionRequest.objects.filter(creator=creator, status=PermissionRequest.Status.GRANTED))
    verdict = classify.classify(
        recorded.text, sorted({r.approval_hashtag for r in open_requests}), has_granted=bool(granted)
    )
    evidence = crm_services.Evidence(
        channel=recorded.platform,
        message_id=recorded.platform_message_id or "",
        text=recorded.text,
        rule=verdict.rule,
        occurred_at=recorded.at,
    )
    outcome = verdict.outcome
    if outcome == classify.OPTED_OUT:
        if creator.opted_out_at is None:
            crm_services.opt_out(creator, actor=None, evidence=evidence)
        cancel_outreach(creator, "The creator opted out.")
    elif outcome == classify.REVOKED:
        if len(granted) == 1:
            crm_services.revoke_rights(granted[0], actor=None, evidence=evidence)
        else:
            outcome = classify.NEEDS_REVIEW
            verdict = classify.Verdict(outcome, f"{len(granted)} granted requests could be meant: a person decides")
    elif outcome in {classify.GRANTED, classify.DECLINED}:
        wanted = [
            r
            for r in open_requests
            if outcome == classify.DECLINED or r.approval_hashtag.lower() == verdict.hashtag.lower()
        ]
        if len(wanted) == 1:
            verb = crm_services.grant_rights if outcome == classify.GRANTED else crm_services.decline_rights
            verb(wanted[0], actor=None, evidence=evidence)
        else:
            outcome = classify.NEEDS_REVIEW
            verdict = classify.Verdict(outcome, f"{len(wanted)} open requests could be meant: a person decides")
    recorded.classification, recorded.classification_rule = outcome, verdict.rule
    recorded.save(update_fields=["classification", "classification_rule"])


def cancel_outreach(creator: Creator, reason: str) -> int:
    """Nothing more goes to a creator who opted out: pending and manual messages are withdrawn."""
    return OutreachMessage.objects.filter(creator=creator, status__in=[Status.PENDING, Status.MANUAL]).update(
        status=Status.CANCELLED, reason=reason, updated_at=timezone.now()
    )


def classify_by_person(
    recorded: ConversationMessage, *, actor, decision: str, request: PermissionRequest | None = None
) -> ConversationMessage:
    """A person reads a reply and says what it means (for which request, when there are several);
    recorded as theirs in the ledger."""
    creator = recorded.conversation.creator
    evidence = crm_services.Evidence(
        channel=recorded.platform,
        message_id=recorded.platform_message_id or "",
        text=recorded.text,
        occurred_at=recorded.at,
        rule=f"classified by {actor.get_username()}",
    )
    with transaction.atomic():
        if decision == classify.OPTED_OUT:
            crm_services.opt_out(creator, actor=actor, evidence=evidence)
            cancel_outreach(creator, f"The creator opted out (recorded by {actor.get_username()}).")
        elif decision in {classify.GRANTED, classify.DECLINED, classify.REVOKED}:
            request = _request_answered(creator, actor, decision, request)
            verb = {
                classify.GRANTED: crm_services.grant_rights,
                classify.DECLINED: crm_services.decline_rights,
                classify.REVOKED: crm_services.revoke_rights,
            }[decision]
            verb(request, actor=actor, evidence=evidence)
        elif decision != ConversationMessage.Classification.REPLY:
            raise ValidationError({"decision": "Choose granted, declined, revoked, opted_out or reply."})
        recorded.classification, recorded.classified_by = decision, actor
        recorded.classification_rule = f"classified by {actor.get_username()}"
        recorded.save(update_fields=["classification", "classified_by", "classification_rule"])
    return recorded


def _request_answered(creator: Creator, actor, decision: str, request: PermissionRequest | None) -> PermissionRequest:
    """The request a person's decision is about: one of the creator's that the person works on (a
    request of another team's campaign is not theirs to decide), named when there are several."""
    from crm.models import Campaign

    mine = PermissionRequest.objects.filter(creator=creator).filter(
        Q(campaign__isnull=True) | Q(campaign__in=Campaign.objects.workable_by(actor))
    )
    if request is not None:
        if not mine.filter(pk=request.pk).exists():
            raise ValidationError({"permission_request": "No request of this creator's that you work on has this id."})
        return request
    wanted_status = (
        PermissionRequest.Status.GRANTED if decision == classify.REVOKED else PermissionRequest.Status.REQUESTED
    )
    candidates = list(mine.filter(status=wanted_status).order_by("-requested_at")[:2])
    if not candidates:
        raise ValidationError({"decision": f"The creator has no {wanted_status} permission request that you work on."})
    if len(candidates) > 1:
        raise ValidationError(
            {"permission_request": f"The creator has several {wanted_status} requests; choose the one this answers."}
        )
    return candidates[0]


def _creator_of(message: InboundMessage) -> tuple[Creator, SocialAccount | None]:
    """Match the sender to a creator, learning ids as we go; a stranger becomes a new prospect."""
    if message.platform == "email":
        return _email_creator(message), None
    platform = RECIPIENT_PLATFORM[message.platform]
    account = (
        SocialAccount.objects.select_related("creator")
        .filter(platform=platform, platform_user_id=message.sender_id)
        .first()
    )
    if account is None and message.sender_handle:
        account = (
            SocialAccount.objects.select_related("creator")
            .filter(platform=platform, handle=message.sender_handle.lower(), platform_user_id__isnull=True)
            .first()
        )
        if account:
            account.platform_user_id = message.sender_id
            account.save(update_fields=["platform_user_id", "updated_at"])
    if account is None:
        creator = Creator.objects.create(
            name=message.sender_name
            or message.sender_handle
            or f"New {message.platform} contact {message.sender_id[-6:]}",
            notes=f"Wrote to us first on {message.platform} (a message request).",
        )
        account = SocialAccount.objects.create(
            creator=creator,
            platform=platform,
            handle=_placeholder_handle(platform, message),
            platform_user_id=message.sender_id,
        )
        return creator, account
    if message.platform == "x" and account.accepts_dms is not True:
        account.accepts_dms = True  # they wrote to us: replies in this conversation are allowed
        account.save(update_fields=["accepts_dms", "updated_at"])
    return account.creator, account


def _placeholder_handle(platform: str, message: InboundMessage) -> str:
    """A valid handle for someone known only by id, until a person fills in the real one."""
    if message.sender_handle:
        return message.sender_handle.lower()
    digits = re.sub(r"[^a-z0-9]", "", message.sender_id.lower())
    if platform == "whatsapp":
        return re.sub(r"\D", "", message.sender_id)
    if platform == "x":
        return ("id" + digits)[:15]
    return ("id." + digits)[:24]


def _email_creator(message: InboundMessage) -> Creator:
    ours = (
        OutreachMessage.objects.filter(provider_message_id__in=[ref.strip() for ref in message.references])
        .select_related("creator")
        .first()
        if message.references
        else None
    )
    if ours:
        return ours.creator
    creator = Creator.objects.filter(email=message.sender_id).order_by("id").first()
    if creator:
        return creator
    return Creator.objects.create(
        name=message.sender_name or message.sender_id.split("@")[0],
        email=message.sender_id,
        notes="Wrote to us first by email.",
    )


def _echo(message: InboundMessage) -> ConversationMessage | None:
    """Our own message, reported back by the platform: never a reply; it clears the manual queue."""
    if _already_recorded(message):
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
            from outreach.worker import after_sent, mark_request_sent

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
    return _record_message(conversation, message, ConversationMessage.Direction.OUT, outreach_message=ours)


def _record_message(conversation, message: InboundMessage, direction, outreach_message=None):
    """Add a message to the conversation once; None when the platform's id is already there."""
    try:
        with transaction.atomic():
            return ConversationMessage.objects.create(
                conversation=conversation,
                platform=message.platform,
                direction=direction,
                platform_message_id=message.message_id or None,
                text=message.text,
                at=message.at,
                outreach_message=outreach_message,
            )
    except IntegrityError:
        return None


def _read_receipt(message: InboundMessage) -> None:
    read = ConversationMessage.objects.filter(
        platform=message.platform, direction=ConversationMessage.Direction.OUT, read_at__isnull=True
    )
    if message.message_id.isdigit() and message.platform == "messenger":  # a watermark: all before it
        from outreach.webhooks import from_millis

        account = SocialAccount.objects.filter(platform="facebook", platform_user_id=message.recipient_id).first()
        if account:
            read.filter(conversation__creator=account.creator, at__lte=from_millis(message.message_id)).update(
                read_at=message.at
            )
        return
    read.filter(platform_message_id=message.message_id).update(read_at=message.at)


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
