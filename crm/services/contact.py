"""Whether a creator may be contacted at all: opt-outs, opt-ins and contact consents, each an entry of
the ledger, with the creator's cached state (`opted_out_at`, `contact_allowed_at`) derived from it.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from crm import events
from crm.errors import DomainError
from crm.models import ConsentEvent, Creator
from crm.services.ledger import Evidence, family, record_consent_event, voided_ids

Kind = ConsentEvent.Kind


def derive_contactability(creator: Creator) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """(opted_out_at, contact_allowed_at) as the ledger says: the latest opt-out stands until an opt-in."""
    opted_out_at = contact_allowed_at = None
    # Records merged into this creator keep their own ledger entries: they count here too; entries
    # a correction says were recorded in error do not.
    events = ConsentEvent.objects.filter(
        creator_id__in=family(creator), kind__in=[Kind.OPTED_OUT, Kind.OPTED_IN, Kind.CONTACT_ALLOWED]
    ).order_by("id")
    voided = voided_ids(events)
    for pk, kind, occurred_at in events.values_list("pk", "kind", "occurred_at"):
        if pk in voided:
            continue
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
    """The creator asked to be contacted again after opting out. Only on their own new message: the
    evidence quotes their words, said after the opt-out (the rules also name the message id); nobody
    opts a creator back in on their behalf."""
    said_at = evidence.occurred_at or timezone.now()
    if not (evidence.text or "").strip():
        raise DomainError({"text": ["Quote the creator's own message asking to hear from us again."]})
    if actor is None and not evidence.message_id:
        raise DomainError({"message_id": ["An automatic opt-in needs the id of the creator's message."]})
    current = Creator.objects.filter(pk=creator.pk).values_list("opted_out_at", flat=True).first()
    if current and said_at <= current:
        raise DomainError({"occurred_at": ["The creator's message must come after their opt-out."]})
    return _record_contact_choice(creator, Kind.OPTED_IN, actor=actor, evidence=evidence)


def allow_contact(creator: Creator, *, actor, evidence: Evidence) -> ConsentEvent:
    """The creator agreed to be contacted (where the law or a policy needs it first)."""
    return _record_contact_choice(creator, Kind.CONTACT_ALLOWED, actor=actor, evidence=evidence)
