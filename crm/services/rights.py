"""Permission requests and the rights they grant: draft a request with frozen terms, record that it
was sent, and record each decision (granted, declined, revoked, expired) in the ledger; the request's
status is derived from the ledger. Also the proof a lawyer asks for, and the rights ending soon.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm import events, territories
from crm.errors import DomainError, TransitionNotAllowed, check
from crm.models import Campaign, ConsentEvent, Content, PermissionRequest, UsageChannel, normalize_hashtag
from crm.services.ledger import Evidence, record_consent_event, verify_ledger, voided_ids

Kind = ConsentEvent.Kind
Status = PermissionRequest.Status

MAX_DURATION_DAYS = 36_500  # a hundred years: longer is "no end date"

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
        else:
            try:
                territories.parse(self.territory)
            except territories.UnknownTerritory as error:
                errors["territory"] = (
                    f"{str(error)!r} is not a country code or region; use ISO codes (GB, IE, DE), EU, EEA or worldwide."
                )
        if self.duration_days is not None and not 0 < self.duration_days <= MAX_DURATION_DAYS:
            errors["duration_days"] = (
                f"Use a number of days from 1 to {MAX_DURATION_DAYS}, or leave empty for no end date."
            )
        if errors:
            raise DomainError(errors)


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
        raise DomainError(errors)
    request = PermissionRequest(
        content=content,
        creator=content.creator,
        campaign=campaign,
        channels=list(scope.channels),
        territory=territories.normalise(scope.territory),
        exclusive=scope.exclusive,
        duration_days=scope.duration_days,
        terms_url=terms_url.strip(),
        terms_version=terms_version or (campaign.terms_version if campaign else ""),
        terms_text=terms_text,
        terms_sha256=PermissionRequest.hash_terms(terms_text),
        approval_hashtag=hashtag,
        created_by=actor,
    )
    check(request)
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
    """The request's status as the ledger says it is: its latest decision that no correction voided,
    else its send state."""
    return _standing_decision(request)[0]


def _standing_decision(request: PermissionRequest) -> tuple[str, ConsentEvent | None]:
    """(status, the entry it rests on): the latest decision not recorded in error."""
    decisions = request.consent_events.filter(kind__in=list(STATUS_AFTER)).order_by("-id")
    voided = voided_ids(decisions)
    for event in decisions.only("id", "kind", "occurred_at"):
        if event.pk not in voided:
            return STATUS_AFTER[event.kind], event
    return (Status.REQUESTED if request.requested_at else Status.DRAFT), None


def rederive(request: PermissionRequest) -> PermissionRequest:
    """Set the request's cached status, decision time and end of rights from the ledger again, replaying
    its decisions that no correction voided with the same effects `_decide` gives them."""
    decisions = list(request.consent_events.filter(kind__in=list(STATUS_AFTER)).order_by("id"))
    voided = voided_ids(decisions)
    request.status = Status.REQUESTED if request.requested_at else Status.DRAFT
    request.decided_at = request.rights_expire_at = None
    for event in decisions:
        if event.pk in voided:
            continue
        request.status = STATUS_AFTER[event.kind]
        if event.kind == Kind.RIGHTS_GRANTED:
            request.decided_at = event.occurred_at
            days = request.duration_days
            request.rights_expire_at = event.occurred_at + datetime.timedelta(days=days) if days else None
        elif event.kind == Kind.RIGHTS_DECLINED:
            request.decided_at = event.occurred_at
    request.save(update_fields=["status", "decided_at", "rights_expire_at", "updated_at"])
    return request


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


def permission_proof(request: PermissionRequest) -> dict:
    """Everything a lawyer asks about a permission: who asked what and when, under which terms, the
    exact answer with its platform id and time, who or what recorded it, scope and expiry, and
    whether the ledger that holds it is intact."""
    events = []
    for event in request.consent_events.select_related("recorded_by").order_by("id"):
        events.append(
            {
                "id": event.pk,
                "kind": event.kind,
                "kind_label": event.get_kind_display(),
                "voids": event.voids_id,
                "note": event.note,
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
