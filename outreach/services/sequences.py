"""Sequences: a first message and follow-ups, each sent N days after the one before unless the
creator replied. Saving checks the rules (the API and the pages only call this)."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from crm.errors import DomainError
from crm.models import Campaign, Creator
from outreach import templating
from outreach.models import Conversation, OutreachMessage, Sequence, SequenceStep
from outreach.policy import BLOCKED
from outreach.services.rendering import handle_on, render_for

Status = OutreachMessage.Status
MAX_STEPS = 20
MAX_DELAY_DAYS = 365


def create_due_follow_ups(now: datetime.datetime | None = None) -> int:
    """Queue the next step of each sequence whose wait is over and whose creator has not replied."""
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


def save_sequence(sequence: Sequence | None, *, actor, name: str | None = None, steps: list[dict] | None = None):
    """Create or change a sequence; given steps replace the old ones, in order (position 0 first).

    The rules, for the API and the pages alike: a name, at least one step, each with a template, the
    first sent at launch (no delay), delays of 0-365 days, at most 20 steps."""
    check_sequence(sequence, name=name, steps=steps)
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


def _archived(template, sequence) -> bool:
    """An archived template may stay where it already was in a saved sequence, not be newly chosen."""
    if getattr(template, "archived_at", None) is None:
        return False
    return sequence is None or not sequence.steps.filter(template=template).exists()


def check_sequence(sequence: Sequence | None, *, name: str | None, steps: list[dict] | None) -> None:
    """The sequence rules, errors by field (`steps` errors by step index, as the API shows them)."""
    errors = {}
    if sequence is None and not (name or "").strip():
        errors["name"] = ["Give the sequence a name."]
    if sequence is None and steps is None:
        errors["steps"] = ["A sequence needs at least one step."]
    if steps is not None:
        if not steps:
            errors["steps"] = ["A sequence needs at least one step."]
        elif len(steps) > MAX_STEPS:
            errors["steps"] = [f"A sequence has at most {MAX_STEPS} steps."]
        else:
            by_step = {}
            for index, step in enumerate(steps):
                problems = {}
                if not step.get("template"):
                    problems["template"] = ["Each step needs a template."]
                elif _archived(step["template"], sequence):
                    problems["template"] = [
                        f"The template “{step['template'].name}” is archived; unarchive it or choose another."
                    ]
                delay = step.get("delay_days") or 0
                if index == 0 and delay:
                    problems["delay_days"] = ["The first step goes out at launch: its delay must be 0."]
                elif not 0 <= delay <= MAX_DELAY_DAYS:
                    problems["delay_days"] = [f"Use 0 to {MAX_DELAY_DAYS} days."]
                if problems:
                    by_step[str(index)] = problems
            if by_step:
                errors["steps"] = by_step
    if errors:
        raise DomainError(errors)
