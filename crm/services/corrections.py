"""Correcting the ledger without rewriting it: an entry recorded in error (a misclick, the wrong
request, a reply misread) is voided by a new entry of its own kind, `recorded_in_error`, which names
who corrected it, why, and the entry it voids. Both stay in the chain and in the proof; statuses are
derived again as if the voided entry had not been written. This is not the creator withdrawing
consent (that is `rights_revoked`, the creator's own act)."""

from django.db import IntegrityError, transaction

from crm import events
from crm.errors import DomainError
from crm.models import ConsentEvent, Creator
from crm.services.contact import derive_contactability
from crm.services.ledger import Evidence, record_consent_event
from crm.services.rights import rederive

Kind = ConsentEvent.Kind
CONTACT_KINDS = {Kind.OPTED_OUT, Kind.OPTED_IN, Kind.CONTACT_ALLOWED}


def void_entry(event: ConsentEvent, *, actor, reason: str) -> ConsentEvent:
    """A person says `event` was recorded in error; returns the correction entry. Once per entry."""
    reason = (reason or "").strip()
    if actor is None:
        raise DomainError({"actor": ["Only a person corrects the ledger; the rules never do."]})
    if not reason:
        raise DomainError({"reason": ["Say why this entry was recorded in error."]})
    if event.kind == Kind.RECORDED_IN_ERROR:
        raise DomainError({"entry": ["A correction cannot itself be voided; record the right decision instead."]})
    if ConsentEvent.objects.filter(voids=event).exists():
        raise DomainError({"entry": [f"Entry {event.pk} was already recorded as an error."]})
    evidence = Evidence(
        channel=event.channel,
        message_id=event.inbound_message_id,
        rule=f"correction by {actor.get_username()}: entry {event.pk} ({event.kind}) recorded in error",
        note=reason,
    )
    try:
        with transaction.atomic():
            correction = record_consent_event(
                kind=Kind.RECORDED_IN_ERROR,
                creator=event.creator,
                actor=actor,
                evidence=evidence,
                permission_request=event.permission_request,
                voids=event,
            )
            if event.permission_request_id:
                request = rederive(event.permission_request)
                events.publish(events.CONSENT_CORRECTED, events.permission_request_data(request, correction))
            if event.kind in CONTACT_KINDS:
                creator = event.creator
                creator.opted_out_at, creator.contact_allowed_at = derive_contactability(creator)
                Creator.objects.filter(pk=creator.pk).update(
                    opted_out_at=creator.opted_out_at, contact_allowed_at=creator.contact_allowed_at
                )
    except IntegrityError:  # two people correcting the same entry at once: one correction stands
        raise DomainError({"entry": [f"Entry {event.pk} was already recorded as an error."]}) from None
    return correction
