"""Answering a creator from the inbox: through the outbox like everything else, so the policy checks
the platform's window, and a second click sends nothing twice."""

import hashlib
import uuid

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crm.errors import DomainError
from outreach import templating
from outreach.models import Conversation, FollowUpTask, OutreachMessage, SenderAccount
from outreach.policy import API, MANUAL, decide, gather_facts
from outreach.queue import enqueue_sending


def reply_in_conversation(
    conversation: Conversation, *, actor, text: str, sender_account: SenderAccount | None = None, key: str = ""
) -> OutreachMessage:
    """A person answers a creator from the inbox. It goes through the outbox like everything else,
    so the policy checks the platform's window (a person's reply gets Meta's 7-day HUMAN_AGENT one)
    and a second click with the same `key` creates nothing new."""
    sender_account = sender_account or conversation.sender_account
    if sender_account is None:
        sender_account = SenderAccount.objects.filter(platform=conversation.platform).order_by("id").first()
    if sender_account is None or sender_account.platform != conversation.platform:
        raise DomainError(
            {"sender_account": f"Choose one of the brand's {conversation.get_platform_display()} sender accounts."}
        )
    text = (text or "").strip()
    if not text:
        raise DomainError({"text": "Write the answer."})
    problem = templating.check_length(sender_account.platform, text)
    if problem:
        raise DomainError({"text": problem})
    # The key is the caller's: scoped to them, hashed so any length fits and two never collide.
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
        enqueue_sending(sender_account.pk)
    return message


def reply_window(conversation: Conversation, *, actor=None, now=None) -> dict:
    """What happens to an answer a person writes now, as the policy decides it when it is due: by API
    (with the time the window closes), to the manual queue, or nowhere, with the policy's reason.
    The inbox shows this instead of working the window out on its own."""
    draft = OutreachMessage(
        creator=conversation.creator,
        platform=conversation.platform,
        human_agent=True,
        created_by=actor,
        rendered_text="",
    )
    decision = decide(gather_facts([draft], now or timezone.now())[0])
    headline = {
        API: "Your answer goes out by API now.",
        MANUAL: "Your answer goes to the manual queue, to send by hand.",
    }.get(decision.mode, "Your answer would not go out.")
    return {
        "mode": decision.mode,
        "open": decision.mode == API,
        "text": f"{headline} {decision.reason}",
        "until": decision.window_ends_at,
    }


def complete_follow_up(task: FollowUpTask, *, actor) -> FollowUpTask:
    """A person answered the creator the automatic reply was for: the task is done (once, by them)."""
    updated = FollowUpTask.objects.filter(pk=task.pk, done_at__isnull=True).update(
        done_at=timezone.now(), done_by=actor
    )
    task.refresh_from_db()
    if not updated:
        raise DomainError({"done_at": [f"This follow-up was already done on {task.done_at:%Y-%m-%d %H:%M}."]})
    return task


def open_follow_ups(user):
    """The follow-ups waiting for this person first (theirs, then nobody's), oldest due first."""
    return (
        FollowUpTask.objects.filter(done_at__isnull=True)
        .filter(Q(assignee=user) | Q(assignee__isnull=True))
        .select_related("creator", "conversation")
        .order_by("due_at", "id")
    )
