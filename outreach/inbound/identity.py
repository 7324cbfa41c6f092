"""Who wrote: match the sender of an inbound message to a creator, learning platform ids as we go;
a stranger becomes a new prospect (a message request)."""

import re

from crm.models import Creator, PermissionRequest, SocialAccount
from outreach.mail.addresses import request_id_of
from outreach.models import RECIPIENT_PLATFORM, ConversationMessage, OutreachMessage
from outreach.webhooks import InboundMessage


def creator_of(message: InboundMessage) -> tuple[Creator, SocialAccount | None]:
    """Match the sender to a creator, learning ids as we go; a stranger becomes a new prospect."""
    if message.platform == "email":
        return email_creator(message), None
    platform = RECIPIENT_PLATFORM[message.platform]
    account = (
        SocialAccount.objects.select_related("creator")
        .filter(platform=platform, platform_user_id=message.sender_id)
        .first()
    )
    if account is None and message.sender_handle:
        account = (
            SocialAccount.objects.select_related("creator")
            .filter(platform=platform, handle=message.sender_handle.lower(), platform_user_id__isnull=True)
            .first()
        )
        if account:
            account.platform_user_id = message.sender_id
            account.save(update_fields=["platform_user_id", "updated_at"])
    if account is None:
        creator = Creator.objects.create(
            name=message.sender_name
            or message.sender_handle
            or f"New {message.platform} contact {message.sender_id[-6:]}",
            notes=f"Wrote to us first on {message.platform} (a message request).",
        )
        account = SocialAccount.objects.create(
            creator=creator,
            platform=platform,
            handle=placeholder_handle(platform, message),
            platform_user_id=message.sender_id,
        )
        return creator, account
    if message.platform == "x" and account.accepts_dms is not True:
        account.accepts_dms = True  # they wrote to us: replies in this conversation are allowed
        account.save(update_fields=["accepts_dms", "updated_at"])
    return account.creator, account


def placeholder_handle(platform: str, message: InboundMessage) -> str:
    """A valid handle for someone known only by id, until a person fills in the real one."""
    if message.sender_handle:
        return message.sender_handle.lower()
    digits = re.sub(r"[^a-z0-9]", "", message.sender_id.lower())
    if platform == "whatsapp":
        return re.sub(r"\D", "", message.sender_id)
    if platform == "x":
        return ("id" + digits)[:15]
    return ("id." + digits)[:24]


def email_creator(message: InboundMessage) -> Creator:
    ours = (
        OutreachMessage.objects.filter(provider_message_id__in=[ref.strip() for ref in message.references])
        .select_related("creator")
        .first()
        if message.references
        else None
    )
    if ours:
        return ours.creator
    creator = Creator.objects.filter(email=message.sender_id).order_by("id").first()
    if creator:
        return creator
    return Creator.objects.create(
        name=message.sender_name or message.sender_id.split("@")[0],
        email=message.sender_id,
        notes="Wrote to us first by email.",
    )


def email_holds(message: InboundMessage) -> tuple[str, str]:
    """Why an email reply must wait for a person: (for any reading, for a grant), "" when it need not.

    An email's From is only a claim: rights are granted automatically only when the sender is
    authenticated (DKIM aligned with From, or a trusted gateway said so) AND the reply reached a
    request's own reply address or answers our own Message-ID. A reply whose own words could not be
    told apart from the quoted text is read by a person, whatever it seems to say."""
    if message.platform != "email":
        return "", ""
    if not message.split_certain:
        return "email reply not told apart from the quoted text: a person reads it", ""
    if not message.authenticated:
        return "", "email sender not authenticated (no aligned DKIM, no trusted gateway): a person decides"
    request_id = request_id_of(message.request_tag)
    if (
        request_id is not None
        and PermissionRequest.objects.filter(pk=request_id, creator__email__iexact=message.sender_id).exists()
    ):
        return "", ""  # the request's own reply address, answered by the creator it was sent to
    references = [ref.strip() for ref in message.references if ref.strip()]
    ours = references and (
        OutreachMessage.objects.filter(platform="email", provider_message_id__in=references).exists()
        or ConversationMessage.objects.filter(
            platform="email", direction=ConversationMessage.Direction.OUT, platform_message_id__in=references
        ).exists()
    )
    if not ours:
        return "", "email reply neither reached a request's reply address nor answers our email: a person decides"
    return "", ""
