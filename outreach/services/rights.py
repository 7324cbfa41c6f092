"""Asking a creator for the rights to a post through the outbox: the request and its message are
created together, and the request becomes `requested` when the message is actually sent."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from crm import access
from crm.errors import DomainError
from crm.models import Campaign, Content, PermissionRequest
from crm.services import rights as crm_rights
from outreach import templating
from outreach.models import MessageTemplate, OutreachMessage, SenderAccount
from outreach.policy import decide, gather_facts
from outreach.queue import enqueue_sending
from outreach.services.rendering import handle_on, render_for
from outreach.services.templates import ensure_usable


def send_permission_request(
    request, *, actor, sender_account: SenderAccount, template: MessageTemplate
) -> OutreachMessage:
    """Ask for rights to a post through the outbox: by API inside the window, a person otherwise, or email.

    The rendered text must show the approval hashtag, or the creator could not know how to agree.
    The request becomes `requested` when the message is actually sent (by the worker or a person).
    """
    if request.status != PermissionRequest.Status.DRAFT:
        raise DomainError({"permission_request": f"This request was already sent; it is {request.status}."})
    ensure_usable(template)
    handle = handle_on(request.creator, sender_account.platform)
    try:
        subject, text = render_for(
            template,
            request.creator,
            platform=sender_account.platform,
            handle=handle or "",
            campaign=request.campaign,
            sender=sender_account,
            permission_request=request,
            content=request.content,
        )
    except templating.RenderError as error:
        raise DomainError({"template": str(error)}) from None
    if request.approval_hashtag.lower() not in text.lower():
        raise DomainError(
            {"template": f"The message must show {request.approval_hashtag} so the creator knows how to agree."}
        )
    message, created = OutreachMessage.objects.get_or_create(
        permission_request=request,
        step=0,
        defaults={
            "campaign": request.campaign,
            "creator": request.creator,
            "template": template,
            "sender_account": sender_account,
            "platform": sender_account.platform,
            "rendered_subject": subject,
            "rendered_text": text,
            "created_by": actor,
        },
    )
    if created:
        enqueue_sending(sender_account.pk)
    return message


def ask_for_permission(
    content,
    *,
    actor,
    sender_account: SenderAccount,
    template: MessageTemplate,
    scope,
    terms_url: str,
    terms_text: str,
    terms_version: str = "",
    approval_hashtag: str = "",
    campaign: Campaign | None = None,
):
    """Draft a permission request for a post and send it through the outbox, both or neither.

    The request belongs to the post's campaign; only someone who works on that campaign may ask."""
    ensure_usable(template)
    if campaign is not None and content.campaign_id and campaign.pk != content.campaign_id:
        raise DomainError({"campaign": f"The post belongs to campaign {content.campaign_id}; ask within it."})
    campaign = campaign or content.campaign
    if campaign is not None and not access.can_work_on(campaign, actor):
        raise DomainError({"campaign": "No campaign you work on has this id."})
    with transaction.atomic():
        request = crm_rights.request_permission(
            content,
            actor=actor,
            scope=scope,
            terms_url=terms_url,
            terms_text=terms_text,
            terms_version=terms_version,
            approval_hashtag=approval_hashtag,
            campaign=campaign,
        )
        send_permission_request(request, actor=actor, sender_account=sender_account, template=template)
    return request


@dataclass
class RightsOutcome:
    """What asking for one post did (or would do): the delivery mode the policy gives now, and why."""

    content: Content
    mode: str
    reason: str
    request: PermissionRequest | None = None


def ask_for_permissions(
    contents,
    *,
    actor,
    sender_account: SenderAccount,
    template: MessageTemplate,
    scope,
    terms_url: str,
    terms_text: str,
    terms_version: str = "",
    approval_hashtag: str = "",
    dry_run: bool = False,
    now: datetime.datetime | None = None,
) -> list[RightsOutcome]:
    """Ask for the rights to several posts at once, all or none, and say for each whether its message
    goes by API, to the manual queue or nowhere, and why, as the policy sees it now (the policy decides
    again when the message is due). With `dry_run` nothing is kept: the preview of a launch.

    An error on one post names it and stops them all."""
    contents = list(contents)
    if not contents:
        raise DomainError({"content": "Choose at least one post."})
    ensure_usable(template)
    now = now or timezone.now()
    outcomes, messages = [], []
    with transaction.atomic():
        for content in contents:
            try:
                request = ask_for_permission(
                    content,
                    actor=actor,
                    sender_account=sender_account,
                    template=template,
                    scope=scope,
                    terms_url=terms_url,
                    terms_text=terms_text,
                    terms_version=terms_version,
                    approval_hashtag=approval_hashtag,
                )
            except ValidationError as error:
                problems = DomainError(error).message_dict
                if len(contents) > 1 and set(problems) & {"campaign", "template", "permission_request"}:
                    problems = {
                        field: [f"{content.url}: {message}" for message in texts] for field, texts in problems.items()
                    }
                raise DomainError(problems) from None
            message = request.outreach_messages.select_related("creator", "template").get(step=0)
            outcomes.append(RightsOutcome(content=content, mode="", reason="", request=None if dry_run else request))
            messages.append(message)
        for outcome, facts in zip(outcomes, gather_facts(messages, now), strict=True):
            decision = decide(facts)
            outcome.mode, outcome.reason = decision.mode, decision.reason
        if dry_run:
            transaction.set_rollback(True)
    return outcomes
