"""Outreach verbs: launch a campaign step, preview it, follow up, and the manual queue's actions.

Views, the API, tasks and commands call these; they take objects and an actor, never a request.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crm import events
from crm.models import Campaign, CampaignMember, Creator, SocialAccount
from outreach import templating
from outreach.models import (
    RECIPIENT_PLATFORM,
    Conversation,
    MessageTemplate,
    OutreachMessage,
    SenderAccount,
    SenderPlatform,
    Sequence,
)
from outreach.policy import BLOCKED, decide, gather_facts

Status = OutreachMessage.Status
CHUNK = 1000


@dataclass
class LaunchSummary:
    """What a launch did (or would do): counts by delivery mode and by (mode, reason)."""

    members: int = 0
    created: int = 0
    already_queued: int = 0
    by_mode: Counter = field(default_factory=Counter)
    by_reason: Counter = field(default_factory=Counter)
    preview: dict | None = None

    def as_dict(self) -> dict:
        return {
            "members": self.members,
            "created": self.created,
            "already_queued": self.already_queued,
            "by_mode": dict(self.by_mode),
            "by_reason": [
                {"mode": mode, "reason": reason, "count": count}
                for (mode, reason), count in self.by_reason.most_common()
            ],
            "preview": self.preview,
        }


def render_for(
    template: MessageTemplate,
    creator: Creator,
    *,
    platform: str,
    handle: str = "",
    campaign=None,
    sender=None,
    permission_request=None,
    content=None,
) -> tuple[str, str]:
    """(subject, text) of a template for one creator; raises RenderError with the reason."""
    context = templating.build_context(
        creator,
        platform=platform,
        handle=handle,
        campaign=campaign,
        content=content,
        sender=sender,
        permission_request=permission_request,
    )
    text = templating.render(template.body, context)
    subject = templating.render(template.subject, context) if template.subject else ""
    problem = templating.check_length(platform, text)
    if problem:
        raise templating.RenderError(problem)
    if platform == SenderPlatform.EMAIL and not subject:
        raise templating.RenderError("An email needs a subject; the template has none.")
    return subject, text


def handle_on(creator: Creator, platform: str) -> str:
    """The creator's handle on the account a sender platform writes to ("" for email or none)."""
    wanted = RECIPIENT_PLATFORM.get(platform)
    if not wanted:
        return ""
    return SocialAccount.objects.filter(creator=creator, platform=wanted).values_list("handle", flat=True).first() or ""


def _first_template(template, sequence) -> MessageTemplate:
    if bool(template) == bool(sequence):
        raise ValidationError({"template": "Choose a template or a sequence (one of them)."})
    if sequence:
        step = sequence.steps.select_related("template").filter(position=0).first()
        if step is None:
            raise ValidationError({"sequence": "This sequence has no first step (position 0)."})
        return step.template
    return template


def launch_campaign(
    campaign: Campaign,
    *,
    actor,
    sender_account: SenderAccount,
    template: MessageTemplate | None = None,
    sequence: Sequence | None = None,
    member_ids: list[int] | None = None,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> LaunchSummary:
    """Queue the first message of a template or sequence for the campaign's members, once each.

    Every message is rendered now; one that cannot be (a missing value, too long) is stored as
    blocked with the reason. The summary says how many would go by API, to the manual queue, or
    nowhere, as the policy sees it now; the policy decides again when each message is due.
    With `dry_run` nothing is written.
    """
    if campaign.status != Campaign.Status.ACTIVE and not dry_run:
        raise ValidationError(
            {"campaign": f"The campaign is {campaign.get_status_display().lower()}; activate it to send."}
        )
    first = _first_template(template, sequence)
    if first.platforms and sender_account.platform not in first.platforms:
        raise ValidationError(
            {"template": f"This template is written for {', '.join(first.platforms)}, not {sender_account.platform}."}
        )
    now = now or timezone.now()
    members = campaign.members.select_related("creator").order_by("id")
    if member_ids is not None:
        members = members.filter(id__in=member_ids)
    summary = LaunchSummary()
    chunk: list[CampaignMember] = []
    with transaction.atomic():
        for member in members.iterator(chunk_size=CHUNK):
            chunk.append(member)
            if len(chunk) == CHUNK:
                _launch_chunk(chunk, campaign, actor, sender_account, first, sequence, dry_run, now, summary)
                chunk = []
        if chunk:
            _launch_chunk(chunk, campaign, actor, sender_account, first, sequence, dry_run, now, summary)
        if dry_run:
            transaction.set_rollback(True)
        elif summary.created:
            from outreach.tasks import enqueue_sending

            enqueue_sending(sender_account.pk)
    return summary


def _launch_chunk(chunk, campaign, actor, sender, template, sequence, dry_run, now, summary):
    creator_ids = [member.creator_id for member in chunk]
    already = set(
        OutreachMessage.objects.filter(
            campaign=campaign, permission_request__isnull=True, step=0, creator_id__in=creator_ids
        ).values_list("creator_id", flat=True)
    )
    wanted = RECIPIENT_PLATFORM.get(sender.platform)
    handles = {}
    if wanted:
        for creator_id, handle in SocialAccount.objects.filter(creator_id__in=creator_ids, platform=wanted).values_list(
            "creator_id", "handle"
        ):
            handles.setdefault(creator_id, handle)
    rows = []
    for member in chunk:
        summary.members += 1
        if member.creator_id in already:
            summary.already_queued += 1
            continue
        row = OutreachMessage(
            campaign=campaign,
            creator=member.creator,
            sequence=sequence,
            step=0,
            template=template,
            sender_account=sender,
            platform=sender.platform,
            due_at=now,
            created_by=actor,
            max_attempts=settings.OUTREACH_MAX_ATTEMPTS,
        )
        try:
            row.rendered_subject, row.rendered_text = render_for(
                template,
                member.creator,
                platform=sender.platform,
                handle=handles.get(member.creator_id, ""),
                campaign=campaign,
                sender=sender,
            )
        except templating.RenderError as error:
            row.status, row.delivery_mode, row.reason = Status.BLOCKED, BLOCKED, f"Cannot render the template: {error}"
        rows.append(row)
    if not rows:
        return
    for row, facts in zip(rows, gather_facts(rows, now), strict=True):
        if row.status == Status.BLOCKED:
            mode, reason = BLOCKED, row.reason
        else:
            decision = decide(facts)
            mode, reason = decision.mode, decision.reason
        summary.by_mode[mode] += 1
        summary.by_reason[(mode, reason)] += 1
        if summary.preview is None and row.status != Status.BLOCKED:
            summary.preview = {
                "creator": row.creator.name,
                "subject": row.rendered_subject,
                "text": row.rendered_text,
                "mode": mode,
                "reason": reason,
            }
    if not dry_run:
        OutreachMessage.objects.bulk_create(rows, ignore_conflicts=True)
    summary.created += len(rows)


def create_due_follow_ups(now: datetime.datetime | None = None) -> int:
    """Queue the next step of each sequence whose wait is over and whose creator has not replied."""
    from outreach.models import SequenceStep

    now = now or timezone.now()
    next_step = SequenceStep.objects.filter(sequence=OuterRef("sequence"), position=OuterRef("step") + 1)
    already_queued = OutreachMessage.objects.filter(
        campaign=OuterRef("campaign"), creator=OuterRef("creator"), step=OuterRef("step") + 1
    )
    replied = Conversation.objects.filter(creator=OuterRef("creator"), last_inbound_at__gt=OuterRef("sent_at"))
    candidates = (
        OutreachMessage.objects.filter(
            status=Status.SENT, sequence__isnull=False, campaign__status=Campaign.Status.ACTIVE
        )
        .filter(Exists(next_step))
        .exclude(Exists(already_queued))
        .exclude(Exists(replied))  # the creator answered somewhere: a person takes it from here
        .select_related("creator", "campaign", "sender_account")
        .order_by("id")
    )
    steps: dict[tuple[int, int], SequenceStep] = {}
    created = 0
    for message in candidates.iterator(chunk_size=500):
        key = (message.sequence_id, message.step + 1)
        if key not in steps:
            steps[key] = SequenceStep.objects.select_related("template").get(sequence_id=key[0], position=key[1])
        step = steps[key]
        if message.sent_at + datetime.timedelta(days=step.delay_days) > now:
            continue
        follow_up = OutreachMessage(
            campaign=message.campaign,
            creator=message.creator,
            sequence_id=message.sequence_id,
            step=step.position,
            template=step.template,
            sender_account=message.sender_account,
            platform=message.platform,
            due_at=now,
            created_by=message.created_by,
            max_attempts=settings.OUTREACH_MAX_ATTEMPTS,
        )
        handle = handle_on(message.creator, message.platform)
        try:
            follow_up.rendered_subject, follow_up.rendered_text = render_for(
                step.template,
                message.creator,
                platform=message.platform,
                handle=handle or "",
                campaign=message.campaign,
                sender=message.sender_account,
            )
        except templating.RenderError as error:
            follow_up.status, follow_up.delivery_mode = Status.BLOCKED, BLOCKED
            follow_up.reason = f"Cannot render the template: {error}"
        created += len(OutreachMessage.objects.bulk_create([follow_up], ignore_conflicts=True))
    return created


def stop_sequences(creator: Creator, *, reason: str = "The creator replied; the sequence stops.") -> int:
    """A reply on any channel cancels the creator's follow-ups that have not gone out."""
    return OutreachMessage.objects.filter(creator=creator, step__gt=0, status=Status.PENDING).update(
        status=Status.CANCELLED, reason=reason, updated_at=timezone.now()
    )


def mark_sent_manually(message: OutreachMessage, *, actor, provider_message_id: str = "") -> OutreachMessage:
    """A person sent a queued message from the platform's own app; record it as sent by them."""
    from outreach.worker import after_sent, mark_request_sent

    with transaction.atomic():
        message = (
            OutreachMessage.objects.select_for_update(of=("self",))
            .select_related("permission_request")
            .get(pk=message.pk)
        )
        if message.status not in {Status.MANUAL, Status.NEEDS_REVIEW}:
            raise ValidationError(
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


def cancel_message(message: OutreachMessage, *, actor) -> OutreachMessage:
    """Withdraw a message that has not gone out."""
    updated = OutreachMessage.objects.filter(
        pk=message.pk, status__in=[Status.PENDING, Status.MANUAL, Status.NEEDS_REVIEW, Status.FAILED]
    ).update(status=Status.CANCELLED, reason=f"Cancelled by {actor.get_username()}.", updated_at=timezone.now())
    message.refresh_from_db()
    if not updated:
        raise ValidationError({"status": f"A message that is {message.status} cannot be cancelled."})
    return message


def resume_sender(sender: SenderAccount, *, actor) -> None:
    """A person fixed what paused the account (e.g. a new token): close the breaker, send again."""
    SenderAccount.objects.filter(pk=sender.pk).update(
        paused=False,
        breaker_state=SenderAccount.Breaker.CLOSED,
        breaker_reason="",
        breaker_until=None,
        consecutive_failures=0,
        rate_limited_until=None,
    )
    from outreach.tasks import enqueue_sending

    transaction.on_commit(lambda: enqueue_sending(sender.pk))


def send_permission_request(
    request, *, actor, sender_account: SenderAccount, template: MessageTemplate
) -> OutreachMessage:
    """Ask for rights to a post through the outbox: by API inside the window, a person otherwise, or email.

    The rendered text must show the approval hashtag, or the creator could not know how to agree.
    The request becomes `requested` when the message is actually sent (by the worker or a person).
    """
    from crm.models import PermissionRequest

    if request.status != PermissionRequest.Status.DRAFT:
        raise ValidationError({"permission_request": f"This request was already sent; it is {request.status}."})
    handle = handle_on(request.creator, sender_account.platform)
    try:
        subject, text = render_for(
            template,
            request.creator,
            platform=sender_account.platform,
            handle=handle or "",
            campaign=request.campaign,
            sender=sender_account,
            permission_request=request,
            content=request.content,
        )
    except templating.RenderError as error:
        raise ValidationError({"template": str(error)}) from None
    if request.approval_hashtag.lower() not in text.lower():
        raise ValidationError(
            {"template": f"The message must show {request.approval_hashtag} so the creator knows how to agree."}
        )
    message, created = OutreachMessage.objects.get_or_create(
        permission_request=request,
        step=0,
        defaults={
            "campaign": request.campaign,
            "creator": request.creator,
            "template": template,
            "sender_account": sender_account,
            "platform": sender_account.platform,
            "rendered_subject": subject,
            "rendered_text": text,
            "created_by": actor,
        },
    )
    if created:
        from outreach.tasks import enqueue_sending

        enqueue_sending(sender_account.pk)
    return message


def ask_for_permission(
    content,
    *,
    actor,
    sender_account: SenderAccount,
    template: MessageTemplate,
    scope,
    terms_url: str,
    terms_text: str,
    terms_version: str = "",
    approval_hashtag: str = "",
    campaign: Campaign | None = None,
):
    """Draft a permission request for a post and send it through the outbox, both or neither.

    The request belongs to the post's campaign; only someone who works on that campaign may ask."""
    from crm import services as crm_services

    if campaign is not None and content.campaign_id and campaign.pk != content.campaign_id:
        raise ValidationError({"campaign": f"The post belongs to campaign {content.campaign_id}; ask within it."})
    campaign = campaign or content.campaign
    if campaign is not None and not crm_services.can_work_on(campaign, actor):
        raise ValidationError({"campaign": "No campaign you work on has this id."})
    with transaction.atomic():
        request = crm_services.request_permission(
            content,
            actor=actor,
            scope=scope,
            terms_url=terms_url,
            terms_text=terms_text,
            terms_version=terms_version,
            approval_hashtag=approval_hashtag,
            campaign=campaign,
        )
        send_permission_request(request, actor=actor, sender_account=sender_account, template=template)
    return request


def erase_creator(creator: Creator, *, actor) -> Creator:
    """The right to erasure, everywhere: the CRM's personal data, and the bodies of every message to
    and from the creator; decisions stay provable through the ledger's hashes and ids."""
    from crm import services as crm_services
    from outreach.models import ConversationMessage, InboundEvent

    with transaction.atomic():
        creator = crm_services.erase_creator_personal_data(creator, actor=actor)
        OutreachMessage.objects.filter(creator=creator, status__in=[Status.PENDING, Status.MANUAL]).update(
            status=Status.CANCELLED, reason="The creator's data was erased.", updated_at=timezone.now()
        )
        OutreachMessage.objects.filter(creator=creator).update(
            rendered_text="[erased]", rendered_subject="", recipient_id="", updated_at=timezone.now()
        )
        # The raw webhook deliveries that carried their messages go too (kept: that they arrived).
        InboundEvent.objects.filter(messages__conversation__creator=creator).update(body=b"", headers={})
        ConversationMessage.objects.filter(conversation__creator=creator).update(text="")
        Conversation.objects.filter(creator=creator).update(social_account=None, platform_conversation_id="")
    return creator


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
    from outreach.tasks import enqueue_sending

    now = timezone.now()
    updated = OutreachMessage.objects.filter(pk=message.pk, status=from_status).update(
        status=Status.PENDING, due_at=now, next_attempt_at=None, updated_at=now, **changes
    )
    message.refresh_from_db()
    if not updated:
        raise ValidationError({"status": f"{refusal}; it is {message.status}."})
    enqueue_sending(message.sender_account_id)
    return message


def reply_in_conversation(
    conversation: Conversation, *, actor, text: str, sender_account: SenderAccount | None = None, key: str = ""
) -> OutreachMessage:
    """A person answers a creator from the inbox. It goes through the outbox like everything else,
    so the policy checks the platform's window (a person's reply gets Meta's 7-day HUMAN_AGENT one)
    and a second click with the same `key` creates nothing new."""
    import uuid

    sender_account = sender_account or conversation.sender_account
    if sender_account is None:
        sender_account = SenderAccount.objects.filter(platform=conversation.platform).order_by("id").first()
    if sender_account is None or sender_account.platform != conversation.platform:
        raise ValidationError(
            {"sender_account": f"Choose one of the brand's {conversation.get_platform_display()} sender accounts."}
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the answer."})
    problem = templating.check_length(sender_account.platform, text)
    if problem:
        raise ValidationError({"text": problem})
    # The key is the caller's: scoped to them, hashed so any length fits and two never collide.
    import hashlib

    token = hashlib.sha256(key.encode()).hexdigest()[:48] if key else uuid.uuid4().hex
    dedupe_key = f"reply:{conversation.pk}:{getattr(actor, 'pk', 0)}:{token}"
    message, created = OutreachMessage.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "creator": conversation.creator,
            "sender_account": sender_account,
            "platform": sender_account.platform,
            "rendered_text": text,
            "human_agent": True,
            "created_by": actor,
            "max_attempts": settings.OUTREACH_MAX_ATTEMPTS,
        },
    )
    if created:
        from outreach.tasks import enqueue_sending

        enqueue_sending(sender_account.pk)
    return message


def save_sequence(sequence: Sequence | None, *, actor, name: str | None = None, steps: list[dict] | None = None):
    """Create or change a sequence; given steps replace the old ones, in order (position 0 first)."""
    from outreach.models import SequenceStep

    with transaction.atomic():
        if sequence is None:
            sequence = Sequence.objects.create(name=name, created_by=actor)
        elif name is not None:
            sequence.name = name
            sequence.save(update_fields=["name"])
        if steps is not None:
            sequence.steps.all().delete()
            SequenceStep.objects.bulk_create(
                SequenceStep(
                    sequence=sequence,
                    position=position,
                    template=step["template"],
                    delay_days=step.get("delay_days", 0),
                )
                for position, step in enumerate(steps)
            )
    return sequence


def pause_sender(sender: SenderAccount, *, actor) -> None:
    """Stop an account's sending until a person resumes it; queued messages wait."""
    SenderAccount.objects.filter(pk=sender.pk).update(paused=True)


def sender_settings_problems(platform: str, variant: str, base_url: str) -> dict[str, str]:
    """What is wrong with a sender account's platform, variant and address, by field (API and pages).

    A platform is reached over https (plain http only with ALLOW_INSECURE_PLATFORM_URLS, for the
    sandbox), an email sender through smtp(s)://."""
    problems = {}
    if variant and platform != SenderPlatform.INSTAGRAM:
        problems["variant"] = "Only Instagram accounts have a variant."
    if base_url and platform == SenderPlatform.EMAIL and not base_url.startswith(("smtp://", "smtps://")):
        problems["api_base_url"] = "An email sender needs smtp://host:port."
    schemes = ("https://", "http://") if settings.ALLOW_INSECURE_PLATFORM_URLS else ("https://",)
    if base_url and platform and platform != SenderPlatform.EMAIL and not base_url.startswith(schemes):
        problems["api_base_url"] = "Use an https:// address."
    return problems
