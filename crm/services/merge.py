"""Merging a prospect into the creator it turns out to be (a person's act, or the platform telling
us the handle of a provisional contact). Everything that hangs off the prospect moves to the
creator, except the consent ledger: its entries stay on the record they were written to (the chain
is per record and nothing rewrites it), and the prospect keeps a `merged_into` pointer that proof
and lookups follow (`family`, `current`)."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm import access
from crm.errors import DomainError
from crm.models import ConsentEvent, Creator, EvidenceText
from crm.services.contact import derive_contactability
from crm.services.ledger import current, family

logger = logging.getLogger(__name__)

# The ledger and its evidence texts stay where they were written.
STAYS = {ConsentEvent, EvidenceText}


def merge_creators(prospect: Creator, into: Creator, *, actor=None) -> Creator:
    """Move the prospect's accounts, conversations, memberships, requests and messages to `into`
    and leave a pointer. Rows that would clash with the creator's own (a second conversation on the
    same platform, a second membership of one campaign) stay on the prospect and are still found
    through the pointer. Returns the creator merged into."""
    if into is None:
        raise DomainError({"into": ["Name the creator to merge into."]})
    into = current(into)
    if prospect.pk == into.pk:
        raise DomainError({"into": ["A creator cannot be merged into itself."]})
    if prospect.merged_into_id:
        raise DomainError({"into": [f"This record was already merged into creator {prospect.merged_into_id}."]})
    if actor is not None and not (access.can_change(prospect, actor) and access.can_change(into, actor)):
        raise DomainError({"into": ["Your role cannot merge creators."]})
    if prospect.erased_at or into.erased_at:
        raise DomainError({"into": ["An erased creator cannot be merged."]})
    with transaction.atomic():
        locked = {c.pk: c for c in Creator.objects.select_for_update().filter(pk__in=[prospect.pk, into.pk])}
        prospect, into = locked[prospect.pk], locked[into.pk]
        if prospect.merged_into_id:
            raise DomainError({"into": [f"This record was already merged into creator {prospect.merged_into_id}."]})
        left = []
        for relation in Creator._meta.related_objects:
            model = relation.related_model
            if not relation.one_to_many or model in STAYS or model is Creator:
                continue
            name = relation.field.name
            for pk in list(model._default_manager.filter(**{name: prospect}).values_list("pk", flat=True)):
                try:
                    with transaction.atomic():
                        model._default_manager.filter(pk=pk).update(**{name: into})
                except IntegrityError:
                    left.append(f"{model._meta.label} {pk}")
        into.tags.add(*prospect.tags.all())
        changed = ["updated_at"]
        for field in ("email", "country", "language"):
            if not getattr(into, field) and getattr(prospect, field):
                setattr(into, field, getattr(prospect, field))
                changed.append(field)
        who = actor.get_username() if actor is not None else "the system (the platform named the handle)"
        into.notes = f"{into.notes}\n\nMerged with record {prospect.pk} ({prospect.name}) by {who}.".strip()
        changed.append("notes")
        into.save(update_fields=changed)
        note = f"Merged into creator {into.pk} by {who} on {timezone.now():%Y-%m-%d}."
        if left:
            note += f" Left here (they clash with the creator's own): {', '.join(left)}."
        Creator.objects.filter(pk=prospect.pk).update(
            merged_into=into, notes=f"{prospect.notes}\n\n{note}".strip(), updated_at=timezone.now()
        )
        # Derived from the ledgers, now both of them (an opt-out on the prospect's record stands).
        opted_out_at, contact_allowed_at = derive_contactability(into)
        Creator.objects.filter(pk=into.pk).update(opted_out_at=opted_out_at, contact_allowed_at=contact_allowed_at)
    logger.info("creator %s merged into %s (%s left)", prospect.pk, into.pk, len(left))
    return into


__all__ = ["current", "family", "merge_creators"]
