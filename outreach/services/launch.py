"""Launching a campaign: the first message of a template or sequence, rendered for every member and
put in the outbox once each, on the channel a plan chooses for that member.

A plan is an ordered list of channels (a sender account with its template or sequence): each member
gets the first channel the policy lets go by API now, else (if the plan says so) the first channel
that goes to the manual queue, else nothing, with the policy's own reasons kept on a blocked row.
Each launch is recorded (`Launch`); a later launch with `again` reaches the members no earlier
launch reached (all their rows for the step blocked, cancelled or failed), and the database keeps at
most one live message per creator and step (`OutreachMessage` constraints)."""

import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from crm.errors import DomainError
from crm.models import Campaign, CampaignMember, Creator
from outreach import templating
from outreach.models import (
    Launch,
    MessageTemplate,
    OutreachMessage,
    SenderAccount,
    SenderPlatform,
    Sequence,
)
from outreach.policy import API, BLOCKED, MANUAL, Known, decide
from outreach.queue import enqueue_sending
from outreach.services.rendering import Renderer, first_template, handle_on

Status = OutreachMessage.Status
CHUNK = 1000
PREVIEW_CHUNK = 10_000  # members (with their creator's values) a dry run reads per query
MAX_CHANNELS = 5
PREVIEW_ROWS = 500  # members listed one by one in a summary; the counts cover everyone
NOT_REACHED = (Status.BLOCKED, Status.CANCELLED, Status.FAILED)


@dataclass
class Channel:
    """One step of a channel plan: send from this account with this template (or sequence)."""

    sender_account: SenderAccount
    template: MessageTemplate | None = None
    sequence: Sequence | None = None

    @property
    def label(self) -> str:
        return SenderPlatform(self.sender_account.platform).label

    def as_dict(self) -> dict:
        return {
            "sender_account": self.sender_account.pk,
            "sender_name": self.sender_account.name,
            "platform": self.sender_account.platform,
            "template": self.template.pk if self.template else None,
            "sequence": self.sequence.pk if self.sequence else None,
        }


@dataclass
class LaunchSummary:
    """What a launch did (or would do): counts by delivery mode, by (mode, reason) and by channel, and
    member by member (the first PREVIEW_ROWS) which channel was chosen and the policy's reason."""

    members: int = 0
    created: int = 0
    already_queued: int = 0
    by_mode: Counter = field(default_factory=Counter)
    by_reason: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)  # (platform, mode) -> count
    choices: list = field(default_factory=list)
    preview: dict | None = None
    launch: Launch | None = None

    def as_dict(self) -> dict:
        return {
            "launch": self.launch.pk if self.launch else None,
            "number": self.launch.number if self.launch else None,
            "members": self.members,
            "created": self.created,
            "already_queued": self.already_queued,
            "by_mode": dict(self.by_mode),
            "by_reason": [
                {"mode": mode, "reason": reason, "count": count}
                for (mode, reason), count in self.by_reason.most_common()
            ],
            "by_channel": [
                {"channel": channel, "mode": mode, "count": count}
                for (channel, mode), count in sorted(self.by_channel.items())
            ],
            "choices": self.choices,
            "preview": self.preview,
        }


def launch_campaign(
    campaign: Campaign,
    *,
    actor,
    sender_account: SenderAccount | None = None,
    template: MessageTemplate | None = None,
    sequence: Sequence | None = None,
    plan: list[Channel] | None = None,
    manual_fallback: bool = True,
    again: bool = False,
    member_ids: list[int] | None = None,
    dry_run: bool = False,
    now: datetime.datetime | None = None,
    preview_member=None,
) -> LaunchSummary:
    """Queue the first message for the campaign's members, once each, on the channel the plan picks.

    Without `plan`, one channel (`sender_account` with `template` or `sequence`). Every message is
    rendered now; one that cannot be (a missing value, too long) does not go on that channel. A member
    nothing reaches is stored as blocked with every channel's reason. With `again`, members whose
    earlier messages for this step were all blocked, cancelled or failed get a new one; without it, a
    member who has any is left alone. With `dry_run` nothing is written. The policy decides again
    when each message is due. `preview_member` (a CampaignMember with its creator): the summary's
    preview is the message as they would get it, on the channel chosen for them (the first channel
    when they are not to be sent to), instead of the first member's who can get it.
    """
    if campaign.status != Campaign.Status.ACTIVE and not dry_run:
        raise DomainError(
            {"campaign": f"The campaign is {campaign.get_status_display().lower()}; activate it to send."}
        )
    if plan is None:
        if sender_account is None:
            raise DomainError({"sender_account": "Choose the account to send from."})
        plan = [Channel(sender_account, template, sequence)]
    firsts = _check_plan(plan)
    now = now or timezone.now()
    members = campaign.members.all()
    if member_ids is not None:
        members = members.filter(id__in=member_ids)
    # A member with a message for this step (with `again`: one not blocked, cancelled or failed) is
    # left alone: counted in SQL, never loaded.
    step_rows = OutreachMessage.objects.filter(
        campaign=campaign, permission_request__isnull=True, step=0, creator_id=OuterRef("creator_id")
    )
    reached = Exists(step_rows.exclude(status__in=NOT_REACHED) if again else step_rows)
    summary = LaunchSummary()
    launch = None
    with transaction.atomic():
        if not dry_run:
            # One launch of a campaign at a time: the next one sees this one's rows (the constraints
            # would refuse a second message anyway).
            Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
            number = (campaign.launches.aggregate(n=Max("number"))["n"] or 0) + 1
            launch = Launch.objects.create(
                campaign=campaign,
                number=number,
                plan=[channel.as_dict() for channel in plan],
                manual_fallback=manual_fallback,
                again=again,
                created_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
            )
        summary.already_queued = members.filter(reached).count()
        summary.members = summary.already_queued
        renderers = [
            Renderer(first, platform=channel.sender_account.platform, campaign=campaign, sender=channel.sender_account)
            for channel, first in zip(plan, firsts, strict=True)
        ]
        preview_id = preview_member.pk if preview_member is not None else None
        args = (campaign, actor, plan, renderers, firsts, manual_fallback, again, launch, now, summary, preview_id)
        todo = members.filter(~reached).order_by("id")
        if dry_run:
            for chunk, scope in _dry_run_chunks(members, todo):
                _launch_chunk(chunk, scope, *args)
        else:
            # Read once, before any row is written (a cursor kept open would re-run the anti-join over
            # the rows being inserted); a pair of ints per member.
            pairs = list(todo.values_list("id", "creator_id"))
            for start in range(0, len(pairs), CHUNK):
                _launch_chunk(*_with_creators(pairs[start : start + CHUNK]), *args)
        if preview_member is not None and summary.preview is None:
            summary.preview = _preview_of(preview_member, plan[0], renderers[0])
        if dry_run:
            transaction.set_rollback(True)
        else:
            _record(launch, summary)
            for sender_id in {row["sender_account"] for row in launch.plan}:
                enqueue_sending(sender_id)
    summary.launch = launch
    return summary


def _check_plan(plan: list[Channel]) -> list[MessageTemplate]:
    """The first template of each channel; a DomainError naming the field for a plan that cannot work."""
    if not plan:
        raise DomainError({"plan": "Choose at least one channel to send on."})
    if len(plan) > MAX_CHANNELS:
        raise DomainError({"plan": f"A plan has at most {MAX_CHANNELS} channels."})
    platforms = [channel.sender_account.platform for channel in plan]
    twice = sorted({p for p in platforms if platforms.count(p) > 1})
    if twice:
        label = ", ".join(SenderPlatform(p).label for p in twice)
        raise DomainError({"plan": f"{label} is in the plan twice; each channel once."})
    firsts = []
    for channel in plan:
        first = first_template(channel.template, channel.sequence)
        if first.platforms and channel.sender_account.platform not in first.platforms:
            problem = (
                f"This template is written for {', '.join(first.platforms)}, not {channel.sender_account.platform}."
            )
            if len(plan) == 1:
                raise DomainError({"template": problem})
            raise DomainError({"plan": f"{channel.label} channel: {problem}"})
        firsts.append(first)
    return firsts


@dataclass(slots=True)
class _Creator:
    """What rendering (templating.build_context) and the policy (decide) read of a creator, as plain
    values: thousands of these cost a fraction of model instances."""

    pk: int
    name: str
    email: str
    country: str
    status: str
    opted_out_at: datetime.datetime | None
    contact_allowed_at: datetime.datetime | None
    erased_at: datetime.datetime | None

    first_name = Creator.first_name


CREATOR_FIELDS = [f.name for f in _Creator.__dataclass_fields__.values()]


def _with_creators(ids: list[tuple[int, int]]):
    """(member id, creator) for (member id, creator id) pairs, in their order, and the creator ids the
    chunk's queries filter on (a real launch writes as it goes, and PostgreSQL plans a subquery badly
    over the rows being inserted: 15 s, not 9, for 10,000)."""
    scope = [creator_id for _, creator_id in ids]
    fields = ["id" if name == "pk" else name for name in CREATOR_FIELDS]
    creators = {row[0]: _Creator(*row) for row in Creator.objects.filter(id__in=scope).values_list(*fields)}
    return [(member_id, creators[creator_id]) for member_id, creator_id in ids], scope


def _dry_run_chunks(members, todo):
    """A dry run's members to send to, PREVIEW_CHUNK at a time by id: (member id, creator) with the
    creator's values read in the same query, and a query of the chunk's creator ids (the members in
    its id range: a superset, no parameter per member) for the chunk's other queries. The chunk's ids
    are a LIMIT subquery, so PostgreSQL finds them first and joins only those to the creators (not all
    the creators, hashed, before the anti-join: 30 ms for a campaign whose members all have theirs)."""
    fields = ["id", "creator_id", *(f"creator__{name}" for name in CREATOR_FIELDS[1:])]
    after = 0
    while True:
        ids = todo.filter(id__gt=after).values("id")[:PREVIEW_CHUNK]
        rows = list(CampaignMember.objects.filter(id__in=ids).order_by("id").values_list(*fields))
        if not rows:
            return
        scope = members.filter(id__gte=rows[0][0], id__lte=rows[-1][0]).values("creator_id")
        chunk, after, more = [(row[0], _Creator(*row[1:])) for row in rows], rows[-1][0], len(rows) == PREVIEW_CHUNK
        del rows  # not kept while the chunk is worked on: thousands of tuples fewer for the collector
        yield chunk, scope
        if not more:
            return


def _preview_of(member, channel: Channel, renderer: Renderer) -> dict:
    """The message as a member no channel was chosen for (they are not to be sent to) would get it on
    the plan's first channel, or why it cannot be rendered for them."""
    creator = member.creator
    try:
        subject, text = renderer.render(creator, handle_on(creator, channel.sender_account.platform))
    except templating.RenderError as error:
        return {"creator": creator.name, "error": str(error)}
    return {"creator": creator.name, "subject": subject, "text": text}


def _launch_chunk(
    chunk, scope, campaign, actor, plan, renderers, firsts, manual_fallback, again, launch, now, summary, preview_id
):
    """`chunk`: (member id, creator) in member order, none of them with a live message for the step."""
    earlier: dict[int, int] = {}  # with `again`: the last reach of the members no launch reached
    if again:
        for creator_id, reach in OutreachMessage.objects.filter(
            campaign=campaign, permission_request__isnull=True, step=0, creator_id__in=scope
        ).values_list("creator_id", "reach"):
            earlier[creator_id] = max(earlier.get(creator_id, -1), reach)
    # What the policy reads and the handles the messages name, for every channel of the plan at once.
    known = Known.gather(scope, {channel.sender_account.platform for channel in plan}, now)
    created_by_id = getattr(actor, "pk", None)
    summary.members += len(chunk)
    # Per channel: the rendered text (or why it cannot be) and the policy's decision for each member
    # no earlier channel reaches by API (a later channel is not even rendered for the others).
    options = []  # (channel, template, {index: (subject, text)}, {index: (mode, reason)}, {index: error})
    undecided = list(range(len(chunk)))
    for channel, first, renderer in zip(plan, firsts, renderers, strict=True):
        if not undecided:
            break
        platform = channel.sender_account.platform
        texts, decisions, errors = {}, {}, {}
        for index in undecided:
            creator = chunk[index][1]
            try:
                texts[index] = renderer.render(creator, known.handle(creator.pk, platform))
            except templating.RenderError as error:
                texts[index] = ("", "")
                errors[index] = str(error)
                decisions[index] = (BLOCKED, f"Cannot render the template: {error}")
                continue
            facts = known.facts_for(
                creator, platform, template=first, campaign_id=campaign.pk, created_by_id=created_by_id
            )
            decision = decide(facts)
            decisions[index] = (decision.mode, decision.reason)
        options.append((channel, first, texts, decisions, errors))
        undecided = [index for index in undecided if decisions[index][0] != API]
    chosen_rows = []
    for index, (member_id, creator) in enumerate(chunk):
        at, mode, reason = _choose(options, index, manual_fallback)
        channel, first, texts, _, errors = options[at]
        subject, text = texts[index]
        summary.by_mode[mode] += 1
        summary.by_reason[(mode, reason)] += 1
        summary.by_channel[(channel.sender_account.platform, mode)] += 1
        if len(summary.choices) < PREVIEW_ROWS:
            summary.choices.append(
                {
                    "member": member_id,
                    "creator": creator.name,
                    "channel": channel.sender_account.platform,
                    "sender_account": channel.sender_account.name,
                    "mode": mode,
                    "reason": reason,
                }
            )
        if preview_id is not None:
            if member_id == preview_id:  # as the chosen member would get it, on their channel
                summary.preview = {"creator": creator.name, "subject": subject, "text": text}
                if index in errors:
                    summary.preview = {"creator": creator.name, "error": errors[index]}
        elif summary.preview is None and mode != BLOCKED:
            summary.preview = {"creator": creator.name, "subject": subject, "text": text}
            summary.preview.update(mode=mode, reason=reason)
        if launch is None:
            continue  # a dry run: nothing is written, no row is made
        row = OutreachMessage(
            campaign=campaign,
            creator_id=creator.pk,
            sequence=channel.sequence,
            step=0,
            reach=earlier.get(creator.pk, -1) + 1,
            launch=launch,
            template=first,
            sender_account=channel.sender_account,
            platform=channel.sender_account.platform,
            due_at=now,
            created_by_id=created_by_id,
            max_attempts=settings.OUTREACH_MAX_ATTEMPTS,
            rendered_subject=subject,
            rendered_text=text,
        )
        if mode == BLOCKED:
            row.status, row.delivery_mode, row.reason = Status.BLOCKED, BLOCKED, reason
        chosen_rows.append(row)
    if launch is not None:
        OutreachMessage.objects.bulk_create(chosen_rows, ignore_conflicts=True)
    summary.created += len(chunk)


def _choose(options, index, manual_fallback) -> tuple[int, str, str]:
    """The channel (its place in the plan) to store for one member: the first channel by API, else the
    first to the manual queue (if the plan allows), else the first channel blocked, carrying each
    channel's reason, the policy's words."""
    if len(options) == 1:  # the common plan: the decision as it is, unless only by hand without the queue
        mode, reason = options[0][3][index]
        if mode != MANUAL or manual_fallback:
            return 0, mode, reason
    for wanted in (API, MANUAL) if manual_fallback else (API,):
        for at, (_, _, _, decisions, _) in enumerate(options):
            mode, reason = decisions.get(index, (None, ""))
            if mode == wanted:
                return at, mode, reason
    if len(options) == 1 and options[0][3][index][0] == BLOCKED:
        return 0, BLOCKED, options[0][3][index][1]  # one channel: the policy's reason as it is
    reasons = []
    for channel, _, _, decisions, _ in options:
        mode, why = decisions[index]
        if mode == MANUAL:
            why = f"{why} (only by hand, and this launch does not use the manual queue)"
        reasons.append(f"{channel.label}: {why}")
    return 0, BLOCKED, " · ".join(reasons)


def _record(launch: Launch, summary: LaunchSummary) -> None:
    """The launch's counts: what it decided, by mode and channel, and how many rows it really wrote
    (a row another launch wrote first is not counted twice)."""
    created = OutreachMessage.objects.filter(launch=launch).count()
    summary.already_queued += summary.created - created
    summary.created = created
    by_channel: dict[str, dict[str, int]] = {}
    for (platform, mode), count in summary.by_channel.items():
        by_channel.setdefault(platform, {})[mode] = count
    launch.members, launch.created, launch.already_queued = summary.members, created, summary.already_queued
    launch.counts = {"by_mode": dict(summary.by_mode), "by_channel": by_channel}
    launch.save(update_fields=["members", "created", "already_queued", "counts"])
