"""Launching a campaign: the first message of a template or sequence, rendered for every member and
put in the outbox once each, with the counts by delivery mode and reason the policy gives now."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.errors import DomainError
from crm.models import Campaign, CampaignMember, SocialAccount
from outreach import templating
from outreach.models import RECIPIENT_PLATFORM, MessageTemplate, OutreachMessage, SenderAccount, Sequence
from outreach.policy import BLOCKED, decide, gather_facts
from outreach.queue import enqueue_sending
from outreach.services.rendering import first_template, render_for

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
        raise DomainError(
            {"campaign": f"The campaign is {campaign.get_status_display().lower()}; activate it to send."}
        )
    first = first_template(template, sequence)
    if first.platforms and sender_account.platform not in first.platforms:
        raise DomainError(
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
