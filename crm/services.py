"""The CRM's verbs: every change to consent, permission requests and contactability goes here.

Each function takes model objects and an actor (a user, or None for the system, which must then
name the rule that decided), runs in one transaction, appends to the consent ledger with the
evidence, and re-derives the cached status from the ledger. Views, API, tasks and commands call
these; none of them decides on its own.
"""

import datetime
import hashlib
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm import events
from crm.models import (
    AccessRole,
    ApiToken,
    Campaign,
    ConsentEvent,
    Content,
    Creator,
    EvidenceText,
    PermissionRequest,
    Role,
    UsageChannel,
    normalize_hashtag,
    role_of,
)

Kind = ConsentEvent.Kind
Status = PermissionRequest.Status

SYSTEM_LABEL = "system"
MAX_DURATION_DAYS = 36_500  # a hundred years: longer is "no end date"
MAX_FOLLOWERS = 10**11  # more than anyone has; keeps a typo from overflowing the column

# What a request's status becomes after each ledger entry, and the statuses it may follow.
STATUS_AFTER = {
    Kind.RIGHTS_GRANTED: Status.GRANTED,
    Kind.RIGHTS_DECLINED: Status.DECLINED,
    Kind.RIGHTS_REVOKED: Status.REVOKED,
    Kind.RIGHTS_EXPIRED: Status.EXPIRED,
}
ALLOWED_FROM = {
    # A creator may say yes late (after a lapse) or change their mind after a no.
    Kind.RIGHTS_GRANTED: {Status.REQUESTED, Status.DECLINED, Status.EXPIRED},
    Kind.RIGHTS_DECLINED: {Status.REQUESTED, Status.EXPIRED},
    Kind.RIGHTS_REVOKED: {Status.GRANTED},
    # An unanswered request lapses; granted rights reach their end date.
    Kind.RIGHTS_EXPIRED: {Status.REQUESTED, Status.GRANTED},
}


class TransitionNotAllowed(ValidationError):
    """The request is not in a status that allows this decision; the message says which."""


@dataclass(frozen=True)
class Evidence:
    """What proves a decision: where and when it was said, the exact words, and what matched."""

    channel: str = ""
    message_id: str = ""
    text: str = ""
    rule: str = ""
    note: str = ""
    occurred_at: datetime.datetime | None = None


@dataclass(frozen=True)
class Scope:
    """Where, how and for how long a post may be reused."""

    channels: list[str] = field(default_factory=lambda: [UsageChannel.ORGANIC_SOCIAL])
    territory: str = "worldwide"
    exclusive: bool = False
    duration_days: int | None = None

    def validate(self) -> None:
        errors = {}
        unknown = [channel for channel in self.channels if channel not in UsageChannel.values]
        if not self.channels:
            errors["channels"] = "Name at least one channel: " + ", ".join(UsageChannel.values) + "."
        elif unknown:
            errors["channels"] = f"Unknown channel(s) {', '.join(map(str, unknown))}; use " + ", ".join(
                UsageChannel.values
            )
        if not (self.territory or "").strip():
            errors["territory"] = "Name the territory, e.g. worldwide or GB, IE."
        if self.duration_days is not None and not 0 < self.duration_days <= MAX_DURATION_DAYS:
            errors["duration_days"] = (
                f"Use a number of days from 1 to {MAX_DURATION_DAYS}, or leave empty for no end date."
            )
        if errors:
            raise ValidationError(errors)


def _actor_label(actor, evidence: Evidence) -> str:
    if actor is None:
        if not evidence.rule:
            raise ValueError("A decision recorded by the system must name the rule that matched.")
        return SYSTEM_LABEL
    return actor.get_username()


def keep_evidence_text(creator: Creator, text: str) -> str:
    """Store a message body as evidence (erasable, apart from the ledger); return its SHA-256."""
    if not text:
        return ""
    digest = EvidenceText.digest(text)
    EvidenceText.objects.get_or_create(creator=creator, sha256=digest, defaults={"text": text})
    return digest


def record_consent_event(
    *, kind: str, creator: Creator, actor, evidence: Evidence, permission_request=None
) -> ConsentEvent:
    """Append one entry to the creator's ledger chain; the creator row lock keeps the chain linear."""
    with transaction.atomic():
        Creator.objects.select_for_update().filter(pk=creator.pk).first()
        last = ConsentEvent.objects.filter(creator=creator).order_by("-id").only("entry_hash").first()
        now = timezone.now()
        event = ConsentEvent(
            kind=kind,
            creator=creator,
            permission_request=permission_request,
            occurred_at=evidence.occurred_at or now,
            recorded_at=now,
            recorded_by=actor,
            recorded_by_label=_actor_label(actor, evidence),
            rule=evidence.rule or ("recorded by hand" if actor is not None else ""),
            channel=evidence.channel,
            inbound_message_id=evidence.message_id,
            inbound_text_sha256=keep_evidence_text(creator, evidence.text),
            outbound_text_sha256=keep_evidence_text(
                creator, permission_request.request_text if permission_request else ""
            ),
            terms_sha256=permission_request.terms_sha256 if permission_request else "",
            scope=permission_request.scope if permission_request else {},
            note=evidence.note,
            previous_hash=last.entry_hash if last else "",
        )
        event.entry_hash = event.compute_hash()
        event.save()
        # The head anchors the chain: removing the newest entries no longer goes unnoticed.
        Creator.objects.filter(pk=creator.pk).update(ledger_head=event.entry_hash)
        return event


# --- Permission requests --------------------------------------------------------------------


def request_permission(
    content: Content,
    *,
    actor,
    scope: Scope,
    terms_url: str,
    terms_text: str,
    terms_version: str = "",
    approval_hashtag: str = "",
    campaign: Campaign | None = None,
) -> PermissionRequest:
    """Draft a request to reuse a post, freezing the terms text by its hash.

    The hashtag defaults to the campaign's; the request becomes `requested` when the outreach
    engine sends it (`mark_permission_requested`).
    """
    scope.validate()
    campaign = campaign or content.campaign
    errors = {}
    try:
        hashtag = normalize_hashtag(approval_hashtag or (campaign.approval_hashtag if campaign else ""))
    except ValidationError as error:
        errors["approval_hashtag"] = error.messages
        hashtag = ""
    if not hashtag and "approval_hashtag" not in errors:
        errors["approval_hashtag"] = "Give an approval hashtag, or set one on the campaign."
    if not (terms_text or "").strip():
        errors["terms_text"] = "The terms text is what the creator agrees to; it cannot be empty."
    if not (terms_url or "").strip():
        errors["terms_url"] = "Link the terms the creator can read."
    if errors:
        raise ValidationError(errors)
    request = PermissionRequest(
        content=content,
        creator=content.creator,
        campaign=campaign,
        channels=list(scope.channels),
        territory=scope.territory.strip(),
        exclusive=scope.exclusive,
        duration_days=scope.duration_days,
        terms_url=terms_url.strip(),
        terms_version=terms_version or (campaign.terms_version if campaign else ""),
        terms_text=terms_text,
        terms_sha256=PermissionRequest.hash_terms(terms_text),
        approval_hashtag=hashtag,
        created_by=actor,
    )
    request.full_clean()
    request.save()
    return request


def mark_permission_requested(
    request: PermissionRequest, *, request_text: str, sent_at: datetime.datetime | None = None
) -> PermissionRequest:
    """Record that the request went out, with the exact text that asked (kept as evidence)."""
    with transaction.atomic():
        request = PermissionRequest.objects.select_for_update().get(pk=request.pk)
        if request.status != Status.DRAFT:
            raise TransitionNotAllowed(f"This request was already sent; it is {request.get_status_display()}.")
        request.request_text = request_text
        request.requested_at = sent_at or timezone.now()
        request.status = Status.REQUESTED
        request.save(update_fields=["request_text", "requested_at", "status", "updated_at"])
        return request


def derive_permission_status(request: PermissionRequest) -> str:
    """The request's status as the ledger says it is: its latest decision, else its send state."""
    last = request.consent_events.order_by("-id").values_list("kind", flat=True).first()
    if last in STATUS_AFTER:
        return STATUS_AFTER[last]
    return Status.REQUESTED if request.requested_at else Status.DRAFT


def _decide(request: PermissionRequest, kind: str, *, actor, evidence: Evidence) -> ConsentEvent:
    with transaction.atomic():
        request = PermissionRequest.objects.select_for_update().select_related("creator").get(pk=request.pk)
        current = derive_permission_status(request)
        if current not in ALLOWED_FROM[kind]:
            raise TransitionNotAllowed(
                f"Cannot record '{Kind(kind).label.lower()}' on a request that is {Status(current).label.lower()}."
            )
        event = record_consent_event(
            kind=kind, creator=request.creator, actor=actor, evidence=evidence, permission_request=request
        )
        request.status = derive_permission_status(request)
        if kind == Kind.RIGHTS_GRANTED:
            request.decided_at = event.occurred_at
            request.rights_expire_at = (
                event.occurred_at + datetime.timedelta(days=request.duration_days) if request.duration_days else None
            )
        elif kind == Kind.RIGHTS_DECLINED:
            request.decided_at = event.occurred_at
        request.save(update_fields=["status", "decided_at", "rights_expire_at", "updated_at"])
        if kind in events.CONSENT_EVENT_TYPE:  # other tools hear of it (crm/events.py); expiry is not told
            events.publish(events.CONSENT_EVENT_TYPE[kind], events.permission_request_data(request, event))
        return event


def grant_rights(request: PermissionRequest, *, actor, evidence: Evidence) -> ConsentEvent:
    """The creator agreed to the request's terms (hashtag reply, or a person recording it)."""
    return _decide(request, Kind.RIGHTS_GRANTED, actor=actor, evidence=evidence)


def decline_rights(request: PermissionRequest, *, actor, evidence: Evidence) -> ConsentEvent:
    """The creator said no to this request."""
    return _decide(request, Kind.RIGHTS_DECLINED, actor=actor, evidence=evidence)


def revoke_rights(request: PermissionRequest, *, actor, evidence: Evidence) -> ConsentEvent:
    """The creator withdrew rights they had granted; the post must stop being used."""
    return _decide(request, Kind.RIGHTS_REVOKED, actor=actor, evidence=evidence)


def expire_rights(request: PermissionRequest, *, actor=None, evidence: Evidence | None = None) -> ConsentEvent:
    """An unanswered request lapsed, or granted rights reached their end date."""
    evidence = evidence or Evidence(rule="expiry: end date reached or no answer in time")
    return _decide(request, Kind.RIGHTS_EXPIRED, actor=actor, evidence=evidence)


def expire_due_permissions(*, unanswered_after_days: int, now: datetime.datetime | None = None) -> int:
    """Expire granted rights past their end date and requests unanswered for too long; returns how many."""
    now = now or timezone.now()
    due = PermissionRequest.objects.filter(status=Status.GRANTED, rights_expire_at__lte=now) | (
        PermissionRequest.objects.filter(
            status=Status.REQUESTED, requested_at__lte=now - datetime.timedelta(days=unanswered_after_days)
        )
    )
    expired = 0
    for request in due.only("pk").iterator():
        try:
            expire_rights(request, evidence=Evidence(rule="expiry schedule", occurred_at=now))
        except TransitionNotAllowed:
            continue  # decided by someone else meanwhile
        expired += 1
    return expired


# --- Contactability -------------------------------------------------------------------------


def derive_contactability(creator: Creator) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(opted_out_at, contact_allowed_at) as the ledger says: the latest opt-out stands until an opt-in."""
    opted_out_at = contact_allowed_at = None
    events = creator.consent_events.filter(kind__in=[Kind.OPTED_OUT, Kind.OPTED_IN, Kind.CONTACT_ALLOWED]).order_by(
        "id"
    )
    for kind, occurred_at in events.values_list("kind", "occurred_at"):
        if kind == Kind.OPTED_OUT:
            opted_out_at = occurred_at
        elif kind == Kind.OPTED_IN:
            opted_out_at = None
            contact_allowed_at = occurred_at
        else:
            contact_allowed_at = occurred_at
    return opted_out_at, contact_allowed_at


def _record_contact_choice(creator: Creator, kind: str, *, actor, evidence: Evidence) -> ConsentEvent:
    with transaction.atomic():
        event = record_consent_event(kind=kind, creator=creator, actor=actor, evidence=evidence)
        creator.opted_out_at, creator.contact_allowed_at = derive_contactability(creator)
        Creator.objects.filter(pk=creator.pk).update(
            opted_out_at=creator.opted_out_at, contact_allowed_at=creator.contact_allowed_at, updated_at=timezone.now()
        )
        if kind == Kind.OPTED_OUT:  # other tools hear of it (crm/events.py)
            events.publish(events.CREATOR_OPTED_OUT, events.creator_opted_out_data(creator, event))
        return event


def opt_out(creator: Creator, *, actor, evidence: Evidence) -> ConsentEvent:
    """The creator asked not to be messaged: no campaign may contact them until they opt in again."""
    return _record_contact_choice(creator, Kind.OPTED_OUT, actor=actor, evidence=evidence)


def opt_in(creator: Creator, *, actor, evidence: Evidence) -> ConsentEvent:
    """The creator asked to be contacted again after opting out."""
    return _record_contact_choice(creator, Kind.OPTED_IN, actor=actor, evidence=evidence)


def allow_contact(creator: Creator, *, actor, evidence: Evidence) -> ConsentEvent:
    """The creator agreed to be contacted (where the law or a policy needs it first)."""
    return _record_contact_choice(creator, Kind.CONTACT_ALLOWED, actor=actor, evidence=evidence)


def verify_ledger(creator: Creator) -> list[str]:
    """Problems found in the creator's hash chain; an empty list means it is intact."""
    problems = []
    previous = ""
    for event in creator.consent_events.order_by("id"):
        if event.previous_hash != previous:
            problems.append(f"entry {event.pk} does not follow the entry before it (one is missing or altered)")
        if event.compute_hash() != event.entry_hash:
            problems.append(f"entry {event.pk} was altered after it was recorded")
        previous = event.entry_hash
    head = Creator.objects.filter(pk=creator.pk).values_list("ledger_head", flat=True).first()
    if head != previous:
        problems.append("the newest entries are missing: the chain ends before its recorded head")
    return problems


# --- Proof, expiry alerts, erasure ------------------------------------------------------------


def permission_proof(request: PermissionRequest) -> dict:
    """Everything a lawyer asks about a permission: who asked what and when, under which terms, the
    exact answer with its platform id and time, who or what recorded it, scope and expiry, and
    whether the ledger that holds it is intact."""
    events = []
    for event in request.consent_events.select_related("recorded_by").order_by("id"):
        events.append(
            {
                "kind": event.kind,
                "occurred_at": event.occurred_at.isoformat(),
                "recorded_at": event.recorded_at.isoformat(),
                "recorded_by": event.recorded_by_label,
                "rule": event.rule,
                "channel": event.channel,
                "platform_message_id": event.inbound_message_id,
                "creator_text": event.inbound_text,
                "creator_text_sha256": event.inbound_text_sha256,
                "our_text_sha256": event.outbound_text_sha256,
                "terms_sha256": event.terms_sha256,
                "scope": event.scope,
                "entry_hash": event.entry_hash,
                "previous_hash": event.previous_hash,
            }
        )
    creator = request.creator
    return {
        "permission_request": request.pk,
        "status": request.status,
        "content_url": request.content.url,
        "creator": {"id": creator.pk, "name": creator.name, "erased": creator.erased_at is not None},
        "asked_by": request.created_by.get_username() if request.created_by else None,
        "asked_at": request.requested_at.isoformat() if request.requested_at else None,
        "asked_with_text": request.request_text,
        "terms": {
            "url": request.terms_url,
            "version": request.terms_version,
            "sha256": request.terms_sha256,
            "text": request.terms_text,
        },
        "approval_hashtag": request.approval_hashtag,
        "scope": request.scope,
        "decided_at": request.decided_at.isoformat() if request.decided_at else None,
        "rights_expire_at": request.rights_expire_at.isoformat() if request.rights_expire_at else None,
        "ledger": events,
        "ledger_intact": verify_ledger(creator) == [],
    }


def rights_expiring(*, within_days: int = 14, now: datetime.datetime | None = None):
    """Granted rights that end within the coming days: the alert list for people and other tools."""
    now = now or timezone.now()
    return (
        PermissionRequest.objects.filter(
            status=Status.GRANTED,
            rights_expire_at__gt=now,
            rights_expire_at__lte=now + datetime.timedelta(days=within_days),
        )
        .select_related("creator", "content", "campaign")
        .order_by("rights_expire_at")
    )


def erase_creator_personal_data(creator: Creator, *, actor) -> Creator:
    """GDPR erasure of the CRM's part: the person and their words go; the proof of decisions stays.

    Their name, email, notes, tags, accounts and every message body kept as evidence are removed;
    the ledger keeps kind, time, scope, platform message ids and the hashes (of texts and of each
    handle, kept on the creator), so a decision can still be shown to have been made.
    """
    with transaction.atomic():
        creator = Creator.objects.select_for_update().get(pk=creator.pk)
        if creator.erased_at:
            return creator
        handles = sorted(
            hashlib.sha256(f"{platform}:{handle}".encode()).hexdigest()
            for platform, handle in creator.accounts.values_list("platform", "handle")
        )
        EvidenceText.objects.filter(creator=creator).delete()
        creator.accounts.all().delete()
        creator.tags.clear()
        creator.name = f"Erased creator {creator.pk}"
        creator.email = ""
        creator.notes = f"Erased on request by {actor.get_username() if actor else 'the system'}."
        creator.erased_handle_hashes = handles
        creator.erased_at = timezone.now()
        creator.save()
        return creator


def create_api_token(user, *, name: str, role: str | None = None, expires_at=None) -> tuple[ApiToken, str]:
    """A new API key for a user, with their role set if given; returns (token, key). The key is not
    stored and cannot be shown again."""
    import secrets

    if role is not None:
        if role not in Role.values:
            raise ValidationError({"role": f"Choose one of {', '.join(Role.values)}."})
        AccessRole.objects.update_or_create(user=user, defaults={"role": role})
    key = "crm_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name or "API token", prefix=key[:12], key_sha256=ApiToken.digest(key), expires_at=expires_at
    )
    return token, key


def revoke_api_token(token) -> None:
    """The key stops working at once; the record stays for the audit trail."""
    type(token).objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


class InvalidInput(ValueError):
    """Errors by field (nested for lists, e.g. one entry per account) for the caller to show."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


def _set_checked(instance, fields: dict) -> None:
    """Set fields on a model and check it as a form would, errors by field."""
    for name, value in fields.items():
        setattr(instance, name, value)
    try:
        instance.full_clean()
    except ValidationError as error:
        raise InvalidInput(error.message_dict) from None


def tag_named(name: str):
    """The tag of this name in any case, created if new (also when two requests create it at once)."""
    from django.db import IntegrityError

    from crm.models import Tag

    name = name.strip()
    found = Tag.objects.filter(name__iexact=name).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:
        return Tag.objects.get(name__iexact=name)


def create_creator(*, actor, name: str, accounts: list[dict], tags: list[str] | None = None, **fields) -> Creator:
    """A creator with their accounts, owned by whoever adds them; every problem is named by field."""
    from crm import handles
    from crm.models import SocialAccount

    creator = Creator(name=name, owner=actor if getattr(actor, "is_authenticated", False) else None, **fields)
    try:
        creator.full_clean()
    except ValidationError as error:
        raise InvalidInput(error.message_dict) from None
    problems, normalised, seen = [], [], set()
    for account in accounts:
        try:
            handle = handles.normalize_handle(account.get("platform", ""), account.get("handle", ""))
        except handles.InvalidHandle as error:
            problems.append({"handle": [str(error)]})
            normalised.append(None)
            continue
        taken = SocialAccount.objects.filter(platform=account["platform"], handle=handle).values_list(
            "creator_id", flat=True
        )
        if taken:
            problems.append({"handle": [f"{account['platform']} @{handle} already belongs to creator {taken[0]}."]})
            normalised.append(None)
            continue
        if (account["platform"], handle) in seen:
            problems.append({"handle": [f"{account['platform']} @{handle} is listed twice."]})
            normalised.append(None)
            continue
        seen.add((account["platform"], handle))
        problems.append({})
        normalised.append(handle)
    if any(problems):
        raise InvalidInput({"accounts": problems})
    with transaction.atomic():
        creator.save()
        for account, handle in zip(accounts, normalised, strict=True):
            SocialAccount.objects.create(
                creator=creator,
                platform=account["platform"],
                handle=handle,
                follower_count=account.get("follower_count"),
            )
        for tag_name in tags or []:
            tag = tag_named(tag_name)
            creator.tags.add(tag)
    return creator


def can_work_on(campaign: Campaign, user) -> bool:
    """Managers work on the campaigns they own or are on the team of; admins on all; viewers on none."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role != Role.MANAGER:
        return False
    return campaign.owner_id == user.pk or campaign.team.filter(pk=user.pk).exists()


def create_campaign(*, actor, team=(), **fields) -> Campaign:
    """A campaign owned by whoever creates it, checked like a form (dates, hashtag) before it is saved."""
    campaign = Campaign(owner=actor, **fields)
    try:
        campaign.full_clean()
    except ValidationError as error:
        raise InvalidInput(error.message_dict) from None
    with transaction.atomic():
        campaign.save()
        campaign.team.set(team)
    return campaign


def update_campaign(campaign: Campaign, *, actor, team=None, **fields) -> Campaign:
    """Change a campaign's details or team; the owner stays (an admin can reassign it in the admin)."""
    _set_checked(campaign, fields)
    with transaction.atomic():
        campaign.save()
        if team is not None:
            campaign.team.set(team)
    return campaign


def check_assignee(campaign: Campaign, assignee) -> None:
    """A member is assigned to someone who works on the campaign: its owner, its team, or an admin."""
    if assignee is None:
        return
    if role_of(assignee) != Role.ADMIN and not (
        campaign.owner_id == assignee.pk or campaign.team.filter(pk=assignee.pk).exists()
    ):
        raise InvalidInput({"assignee": ["Assign the campaign's owner, a teammate on it, or an admin."]})


def add_to_campaign(campaign: Campaign, creators, *, actor, assignee=None) -> int:
    """Add creators to a campaign as prospects; creators already in it are left as they are.
    Returns how many were added. Safe to run twice or at once from two places (unique member)."""
    from crm.models import CampaignMember

    check_assignee(campaign, assignee)
    creator_ids = [getattr(creator, "pk", creator) for creator in creators]
    members = CampaignMember.objects.filter(campaign=campaign, creator_id__in=creator_ids)
    already = set(members.values_list("creator_id", flat=True))
    new = [
        CampaignMember(campaign=campaign, creator_id=creator_id, assignee=assignee)
        for creator_id in dict.fromkeys(creator_ids)
        if creator_id not in already
    ]
    return len(CampaignMember.objects.bulk_create(new, ignore_conflicts=True))


def update_member(member, *, actor, **changes):
    """Move a member to another stage and/or assign them, in one transaction."""
    with transaction.atomic():
        if "assignee" in changes:
            check_assignee(member.campaign, changes["assignee"])
            member.assignee = changes["assignee"]
            member.save(update_fields=["assignee"])
        if "stage" in changes:
            move_member(member, changes["stage"], actor=actor)
    return member


def move_member(member, stage: str, *, actor):
    """Move a campaign member to another stage (the board's one action)."""
    from crm.models import CampaignMember

    if stage not in CampaignMember.Stage.values:
        raise InvalidInput({"stage": [f"Choose one of {', '.join(CampaignMember.Stage.values)}."]})
    if member.stage != stage:
        member.stage, member.stage_changed_at = stage, timezone.now()
        member.save(update_fields=["stage", "stage_changed_at"])
    return member


def tag_creators(creators, tag_name: str, *, actor) -> int:
    """Put one tag on many creators (a bulk action); the tag is created if new. Returns how many got it."""

    tag_name = (tag_name or "").strip()
    if not tag_name:
        raise InvalidInput({"tag": ["Give the tag a name."]})
    creator_ids = [getattr(creator, "pk", creator) for creator in creators]
    with transaction.atomic():
        tag = tag_named(tag_name)
        through = Creator.tags.through
        already = set(through.objects.filter(tag=tag, creator_id__in=creator_ids).values_list("creator_id", flat=True))
        rows = [through(creator_id=pk, tag=tag) for pk in dict.fromkeys(creator_ids) if pk not in already]
        return len(through.objects.bulk_create(rows, ignore_conflicts=True))


def add_social_account(creator: Creator, *, actor, platform: str, handle: str, follower_count=None):
    """Another account of a known creator, by handle or profile URL, refused when it is someone else's."""
    from crm import handles
    from crm.models import SocialAccount

    try:
        handle = handles.normalize_handle(platform, handle)
    except handles.InvalidHandle as error:
        raise InvalidInput({"handle": [str(error)]}) from None
    owner_id = SocialAccount.objects.filter(platform=platform, handle=handle).values_list("creator_id", flat=True)
    if owner_id:
        raise InvalidInput({"handle": [f"{platform} @{handle} already belongs to creator {owner_id[0]}."]})
    return SocialAccount.objects.create(
        creator=creator, platform=platform, handle=handle, follower_count=follower_count
    )


def add_content(creator: Creator, *, actor, url: str, campaign=None, **fields) -> Content:
    """Register a creator's post; its link is normalised, so a post is known once however it was copied."""
    from crm import handles

    try:
        normalised = handles.normalize_content_url(url)
    except ValueError as error:
        raise InvalidInput({"url": [f"The link {error}."]}) from None
    platform = handles.platform_of_url(normalised)
    if platform is None:
        raise InvalidInput({"url": ["The link is not on a platform we know (Instagram, TikTok, X, YouTube, ...)."]})
    if len(normalised) > Content._meta.get_field("url").max_length:
        raise InvalidInput(
            {"url": [f"The link is longer than {Content._meta.get_field('url').max_length} characters."]}
        )
    if campaign is not None and not can_work_on(campaign, actor):
        raise InvalidInput({"campaign": ["No campaign you work on has this id."]})
    known = Content.objects.filter(url=normalised).values_list("pk", flat=True).first()
    if known:
        raise InvalidInput({"url": [f"This post is already registered as content {known}."]})
    account = creator.accounts.filter(platform=platform).first()
    return Content.objects.create(
        creator=creator, social_account=account, campaign=campaign, platform=platform, url=normalised, **fields
    )


def update_creator(creator: Creator, *, actor, tags: list[str] | None = None, **fields) -> Creator:
    """Change a creator's details (and, when given, replace their tags); checked like a form."""

    if creator.erased_at:
        raise InvalidInput({"creator": ["This creator's data was erased; it cannot be edited."]})
    _set_checked(creator, fields)
    with transaction.atomic():
        creator.save()
        if tags is not None:
            wanted = []
            for tag_name in dict.fromkeys(t.strip() for t in tags if t.strip()):
                wanted.append(tag_named(tag_name))
            creator.tags.set(wanted)
    return creator
