"""The consent ledger: append an entry to a creator's hash chain, keep the evidence texts apart
(so they can be erased while their hashes stay), and check that a chain is intact.

Every consent decision of the CRM goes through `record_consent_event`; nothing updates or deletes an
entry (the ORM refuses, and so does the database, with triggers: migration crm/0002).
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from crm.models import ConsentEvent, Creator, EvidenceText

SYSTEM_LABEL = "system"


@dataclass(frozen=True)
class Evidence:
    """What proves a decision: where and when it was said, the exact words, and what matched."""

    channel: str = ""
    message_id: str = ""
    text: str = ""
    rule: str = ""
    note: str = ""
    occurred_at: datetime.datetime | None = None


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
    *, kind: str, creator: Creator, actor, evidence: Evidence, permission_request=None, voids=None
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
            voids=voids,
            previous_hash=last.entry_hash if last else "",
        )
        event.entry_hash = event.compute_hash()
        event.save()
        # The head anchors the chain: removing the newest entries no longer goes unnoticed.
        Creator.objects.filter(pk=creator.pk).update(ledger_head=event.entry_hash)
        return event


def current(creator: Creator) -> Creator:
    """The creator a (possibly merged) record stands for now: follows `merged_into` to its end."""
    seen = set()
    while creator.merged_into_id and creator.pk not in seen:
        seen.add(creator.pk)
        creator = Creator.objects.get(pk=creator.merged_into_id)
    return creator


def family(creator: Creator) -> list[int]:
    """The ids whose ledgers prove this creator's consent: itself and every record merged into it."""
    ids, frontier = [creator.pk], [creator.pk]
    while frontier:
        frontier = list(Creator.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True))
        frontier = [pk for pk in frontier if pk not in ids]
        ids += frontier
    return ids


def verify_ledger(creator: Creator) -> list[str]:
    """Problems found in the creator's hash chain, and in the chains of records merged into it (each
    keeps its own); an empty list means they are intact."""
    problems = _verify_chain(creator)
    for merged in Creator.objects.filter(merged_into=creator).order_by("id"):
        problems += [f"merged record {merged.pk}: {problem}" for problem in verify_ledger(merged)]
    return problems


def _verify_chain(creator: Creator) -> list[str]:
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


def voided_ids(events) -> set[int]:
    """The ids among these entries that a later correction says were recorded in error."""
    return set(
        ConsentEvent.objects.filter(voids__in=events, kind=ConsentEvent.Kind.RECORDED_IN_ERROR).values_list(
            "voids_id", flat=True
        )
    )
