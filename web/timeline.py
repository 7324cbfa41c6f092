"""A creator's story in one list: every message in and out, every consent decision, newest first."""

from dataclasses import dataclass
from datetime import datetime

from crm import access
from crm.models import ConsentEvent, Creator
from outreach.models import ConversationMessage, OutreachMessage

LIMIT = 200  # per kind; a page shows the latest, the admin and the API have the rest


@dataclass
class Entry:
    at: datetime
    kind: str  # in, out, outbox, consent
    title: str
    text: str = ""
    detail: str = ""


def creator_timeline(creator: Creator, user) -> list[Entry]:
    """What this person may see of the creator's story (crm/access.py: not another team's messages or
    decisions), in three queries whatever its length: conversation messages, outbox rows, ledger."""
    entries = []
    seen_outbox = set()
    messages = (
        access.visible(ConversationMessage.objects.filter(conversation__creator=creator), user)
        .select_related("classified_by")
        .order_by("-at", "-id")[:LIMIT]
    )
    for message in messages:
        incoming = message.direction == ConversationMessage.Direction.IN
        if message.outreach_message_id:
            seen_outbox.add(message.outreach_message_id)
        detail = ""
        if incoming and message.classification:
            by = message.classified_by.get_username() if message.classified_by else "the rules"
            rule = f": {message.classification_rule}" if message.classification_rule else ""
            detail = f"{message.get_classification_display()} ({by}{rule})"
        entries.append(
            Entry(
                at=message.at,
                kind="in" if incoming else "out",
                title=f"{'Received' if incoming else 'Sent'} on {message.get_platform_display()}",
                text=message.text,
                detail=detail,
            )
        )
    outbox = (
        access.visible(OutreachMessage.objects.filter(creator=creator), user)
        .select_related("campaign", "sender_account")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    for row in outbox:
        if row.pk in seen_outbox:
            continue  # already shown as the sent message of its conversation
        where = f" for {row.campaign.name}" if row.campaign else ""
        entries.append(
            Entry(
                at=row.sent_at or row.updated_at,
                kind="out" if row.status == OutreachMessage.Status.SENT else "outbox",
                title=f"{row.get_status_display()}: {row.get_platform_display()} from {row.sender_account.name}{where}",
                text=row.rendered_text,
                detail=row.reason or row.error_message,
            )
        )
    for event in access.visible(ConsentEvent.objects.filter(creator=creator), user).order_by("-id")[:LIMIT]:
        entries.append(
            Entry(
                at=event.occurred_at,
                kind="consent",
                title=event.get_kind_display(),
                detail=f"recorded by {event.recorded_by_label}" + (f" — {event.rule}" if event.rule else ""),
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
