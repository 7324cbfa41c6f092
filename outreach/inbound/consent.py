"""What a reply means for consent: the rules' reading (with the rule stored beside it), or a
person's, recorded in the ledger as theirs; an opt-out withdraws everything queued."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm import access
from crm import services as crm_services
from crm.models import Creator, PermissionRequest
from outreach import classify
from outreach.models import ConversationMessage, OutreachMessage

Status = OutreachMessage.Status


def apply_rules(
    recorded: ConversationMessage, creator: Creator, *, hold: str = "", hold_grant: str = "", note: str = ""
) -> None:
    """Classify a reply by the rules and act on it. `hold` sends any reading to a person, `hold_grant`
    a grant only (an email whose sender is not authenticated: outreach.inbound.identity.email_holds);
    `note` goes into the ledger's evidence (for email: how the sender was authenticated, its Date)."""
    open_requests = list(PermissionRequest.objects.filter(creator=creator, status=PermissionRequest.Status.REQUESTED))
    granted = list(PermissionRequest.objects.filter(creator=creator, status=PermissionRequest.Status.GRANTED))
    verdict = classify.classify(
        recorded.text, sorted({r.approval_hashtag for r in open_requests}), has_granted=bool(granted)
    )
    evidence = crm_services.Evidence(
        channel=recorded.platform,
        message_id=recorded.platform_message_id or "",
        text=recorded.text,
        rule=verdict.rule,
        note=note,
        occurred_at=recorded.at,
    )
    outcome = verdict.outcome
    held = hold or (hold_grant if outcome == classify.GRANTED else "")
    if held:
        read = f" (the rules read: {verdict.outcome})" if outcome != classify.NEEDS_REVIEW else ""
        outcome = classify.NEEDS_REVIEW
        verdict = classify.Verdict(outcome, f"{held}{read}"[:200])
    if outcome == classify.OPTED_IN:
        if creator.opted_out_at is None:
            outcome = ConversationMessage.Classification.REPLY  # nothing to undo: just a reply
        else:
            try:
                crm_services.opt_in(creator, actor=None, evidence=evidence)
            except crm_services.DomainError as error:
                outcome = classify.NEEDS_REVIEW
                verdict = classify.Verdict(outcome, f"an opt-in the rules could not record ({error.messages[0]})")
    elif outcome == classify.OPTED_OUT:
        if creator.opted_out_at is None:
            crm_services.opt_out(creator, actor=None, evidence=evidence)
        cancel_outreach(creator, "The creator opted out.")
    elif outcome == classify.REVOKED:
        if len(granted) == 1:
            crm_services.revoke_rights(granted[0], actor=None, evidence=evidence)
        else:
            outcome = classify.NEEDS_REVIEW
            verdict = classify.Verdict(outcome, f"{len(granted)} granted requests could be meant: a person decides")
    elif outcome in {classify.GRANTED, classify.DECLINED}:
        wanted = [
            r
            for r in open_requests
            if outcome == classify.DECLINED or r.approval_hashtag.lower() == verdict.hashtag.lower()
        ]
        if len(wanted) == 1:
            verb = crm_services.grant_rights if outcome == classify.GRANTED else crm_services.decline_rights
            verb(wanted[0], actor=None, evidence=evidence)
        else:
            outcome = classify.NEEDS_REVIEW
            verdict = classify.Verdict(outcome, f"{len(wanted)} open requests could be meant: a person decides")
    recorded.classification, recorded.classification_rule = outcome, verdict.rule
    recorded.save(update_fields=["classification", "classification_rule"])


def cancel_outreach(creator: Creator, reason: str) -> int:
    """Nothing more goes to a creator who opted out: pending and manual messages are withdrawn."""
    return OutreachMessage.objects.filter(creator=creator, status__in=[Status.PENDING, Status.MANUAL]).update(
        status=Status.CANCELLED, reason=reason, updated_at=timezone.now()
    )


def classify_by_person(
    recorded: ConversationMessage, *, actor, decision: str, request: PermissionRequest | None = None
) -> ConversationMessage:
    """A person reads a reply and says what it means (for which request, when there are several);
    recorded as theirs in the ledger."""
    creator = recorded.conversation.creator
    evidence = crm_services.Evidence(
        channel=recorded.platform,
        message_id=recorded.platform_message_id or "",
        text=recorded.text,
        occurred_at=recorded.at,
        rule=f"classified by {actor.get_username()}",
    )
    with transaction.atomic():
        if decision == classify.OPTED_OUT:
            crm_services.opt_out(creator, actor=actor, evidence=evidence)
            cancel_outreach(creator, f"The creator opted out (recorded by {actor.get_username()}).")
        elif decision in {classify.GRANTED, classify.DECLINED, classify.REVOKED}:
            request = request_answered(creator, actor, decision, request)
            verb = {
                classify.GRANTED: crm_services.grant_rights,
                classify.DECLINED: crm_services.decline_rights,
                classify.REVOKED: crm_services.revoke_rights,
            }[decision]
            verb(request, actor=actor, evidence=evidence)
        elif decision != ConversationMessage.Classification.REPLY:
            raise ValidationError({"decision": "Choose granted, declined, revoked, opted_out or reply."})
        recorded.classification, recorded.classified_by = decision, actor
        recorded.classification_rule = f"classified by {actor.get_username()}"
        recorded.classified_version = recorded.version  # the version (after edits) the person read
        recorded.save(update_fields=["classification", "classified_by", "classification_rule", "classified_version"])
    return recorded


def request_answered(creator: Creator, actor, decision: str, request: PermissionRequest | None) -> PermissionRequest:
    """The request a person's decision is about: one of the creator's that the person works on (a
    request of another team's campaign is not theirs to decide), named when there are several."""
    mine = access.workable(PermissionRequest.objects.filter(creator=creator), actor)
    if request is not None:
        if not mine.filter(pk=request.pk).exists():
            raise ValidationError({"permission_request": "No request of this creator's that you work on has this id."})
        return request
    wanted_status = (
        PermissionRequest.Status.GRANTED if decision == classify.REVOKED else PermissionRequest.Status.REQUESTED
    )
    candidates = list(mine.filter(status=wanted_status).order_by("-requested_at")[:2])
    if not candidates:
        raise ValidationError({"decision": f"The creator has no {wanted_status} permission request that you work on."})
    if len(candidates) > 1:
        raise ValidationError(
            {"permission_request": f"The creator has several {wanted_status} requests; choose the one this answers."}
        )
    return candidates[0]


def correct_decision(event, *, actor, reason: str):
    """A person says a ledger entry was recorded in error (crm.services.corrections.void_entry); the
    reply it was read from goes back to review, so someone says again what it meant."""
    with transaction.atomic():
        correction = crm_services.void_entry(event, actor=actor, reason=reason)
        if event.inbound_message_id:
            ConversationMessage.objects.filter(
                platform_message_id=event.inbound_message_id, direction=ConversationMessage.Direction.IN
            ).update(
                classification=ConversationMessage.Classification.NEEDS_REVIEW,
                classification_rule=f"its reading was recorded in error by {actor.get_username()}: {reason.strip()}"[
                    :200
                ],
                classified_by=None,
            )
    return correction
