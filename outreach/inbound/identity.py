"""Who wrote: match the sender of an inbound message to a creator, learning platform ids as we go;
a stranger becomes a new prospect (a message request)."""

import logging
import re

from django.db import transaction

from crm import handles
from crm.models import Creator, PermissionRequest, SocialAccount
from crm.services import merge
from outreach import identity_lookup
from outreach.mail.addresses import request_id_of
from outreach.models import RECIPIENT_PLATFORM, Conversation, ConversationMessage, OutreachMessage, SenderAccount
from outreach.queue import enqueue
from outreach.webhooks import InboundMessage

logger = logging.getLogger(__name__)


def creator_of(message: InboundMessage) -> tuple[Creator, SocialAccount | None]:
    """Match the sender to a creator, learning ids as we go; a stranger becomes a new prospect.

    In order: the platform id we learnt before; the handle the payload names (X users map, TikTok
    `from`, the WhatsApp number); the handle the platform's profile lookup names (Instagram); only
    then a new prospect. A lookup that cannot answer now leaves a provisional prospect that
    `reconcile_identity` merges into the known creator once the platform answers."""
    if message.platform == "email":
        return email_creator(message), None
    platform = RECIPIENT_PLATFORM[message.platform]
    account = by_platform_id(platform, message.sender_id)
    if account is None:
        handle, name, provisional = who_is(message)
        account = by_handle(platform, handle)
        if account is not None:
            account.platform_user_id = message.sender_id
            account.save(update_fields=["platform_user_id", "updated_at"])
        else:
            account = new_prospect(platform, message, handle, name)
            if provisional:
                enqueue("outreach.tasks.reconcile_identity", account.pk, name=f"identity-{account.pk}")
            return account.creator, account
    if message.platform == "x" and account.accepts_dms is not True:
        account.accepts_dms = True  # they wrote to us: replies in this conversation are allowed
        account.save(update_fields=["accepts_dms", "updated_at"])
    return merge.current(account.creator), account


def by_platform_id(platform: str, user_id: str) -> SocialAccount | None:
    if not user_id:
        return None
    return SocialAccount.objects.select_related("creator").filter(platform=platform, platform_user_id=user_id).first()


def by_handle(platform: str, handle: str) -> SocialAccount | None:
    """A known account by handle whose platform id we have not learnt yet."""
    handle = valid_handle(platform, handle)
    if not handle:
        return None
    return (
        SocialAccount.objects.select_related("creator")
        .filter(platform=platform, handle=handle, platform_user_id__isnull=True)
        .first()
    )


def who_is(message: InboundMessage) -> tuple[str, str, bool]:
    """(handle, name, provisional): what the payload says, else what the platform's profile lookup
    says. `provisional` when the lookup could not answer now (ask again later)."""
    handle, name = message.sender_handle, message.sender_name
    if message.platform == "whatsapp":
        handle = handle or message.sender_id
    if handle or not identity_lookup.supports(message.platform):
        return handle, name, False
    sender = sender_for(message)
    if sender is None:
        return handle, name, False
    try:
        profile = identity_lookup.lookup(sender, message.sender_id)
    except identity_lookup.Refused as error:
        logger.info("profile of %s %s refused: %s", message.platform, message.sender_id, error)
        return handle, name, False
    except identity_lookup.Unavailable as error:
        logger.info("profile of %s %s not available now: %s", message.platform, message.sender_id, error)
        return handle, name, True
    return profile.username, name or profile.name, False


def sender_for(message: InboundMessage) -> SenderAccount | None:
    """The account whose token may look the sender up: the one the webhook names; for Instagram
    through Facebook Login (the webhook names the IG account, the sender account is its Page) the
    only such account, when there is exactly one."""
    sender = SenderAccount.objects.filter(platform=message.platform, account_id=message.business_id).first()
    if sender is not None or message.platform != "instagram":
        return sender
    pages = list(
        SenderAccount.objects.filter(platform="instagram", variant=SenderAccount.Variant.MESSENGER_PLATFORM)[:2]
    )
    return pages[0] if len(pages) == 1 else None


def new_prospect(platform: str, message: InboundMessage, handle: str, name: str) -> SocialAccount:
    creator = Creator.objects.create(
        name=name or handle or f"New {message.platform} contact {message.sender_id[-6:]}",
        notes=f"Wrote to us first on {message.platform} (a message request).",
    )
    return SocialAccount.objects.create(
        creator=creator,
        platform=platform,
        handle=valid_handle(platform, handle) or placeholder_handle(platform, message),
        platform_user_id=message.sender_id,
    )


def valid_handle(platform: str, handle: str) -> str:
    """The handle in its stored form, or "" when it is not a valid handle on the platform."""
    if not handle:
        return ""
    try:
        return handles.normalize_handle(platform, handle)
    except handles.InvalidHandle:
        return ""


def placeholder_handle(platform: str, message: InboundMessage) -> str:
    """A valid handle for someone known only by id, until a person fills in the real one."""
    digits = re.sub(r"[^a-z0-9]", "", message.sender_id.lower())
    if platform == "whatsapp":
        return re.sub(r"\D", "", message.sender_id)
    if platform == "x":
        return ("id" + digits)[:15]
    return ("id." + digits)[:24]


def reconcile(account_id: int) -> str:
    """Ask the platform again who a provisional contact is; if it names a known creator's handle,
    merge the provisional prospect into that creator and move the learnt id to their account."""
    account = SocialAccount.objects.select_related("creator").filter(pk=account_id).first()
    if account is None or not account.platform_user_id or account.creator.merged_into_id:
        return "nothing to do"
    conversation = Conversation.objects.filter(social_account=account).select_related("sender_account").first()
    sender = conversation.sender_account if conversation else None
    if sender is None:
        return "no sender account"
    try:
        profile = identity_lookup.lookup(sender, account.platform_user_id)
    except identity_lookup.Refused:
        return "refused"
    except identity_lookup.Unavailable:
        raise  # the task retries later
    known = by_handle(account.platform, profile.username)
    if known is None or known.creator_id == account.creator_id:
        updates = {"name": profile.name} if profile.name and account.creator.name.startswith("New ") else {}
        if updates:
            Creator.objects.filter(pk=account.creator_id).update(**updates)
        handle = valid_handle(account.platform, profile.username)
        if handle and not SocialAccount.objects.filter(platform=account.platform, handle=handle).exists():
            SocialAccount.objects.filter(pk=account.pk).update(handle=handle)
        return "a stranger: kept as a prospect"
    with transaction.atomic():
        user_id = account.platform_user_id
        Conversation.objects.filter(social_account=account).update(social_account=known)
        merge.merge_creators(account.creator, known.creator, actor=None)
        SocialAccount.objects.filter(pk=account.pk).delete()
        SocialAccount.objects.filter(pk=known.pk).update(platform_user_id=user_id)
    return f"merged into creator {known.creator_id}"


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
