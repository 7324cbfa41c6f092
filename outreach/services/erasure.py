"""The right to erasure across the CRM and the outbox."""

from django.db import transaction
from django.utils import timezone

from crm.models import Creator
from crm.services import creators as crm_creators
from outreach.models import Comment, Conversation, ConversationMessage, InboundEvent, OutreachMessage, PrivateReply

Status = OutreachMessage.Status


def erase_creator(creator: Creator, *, actor) -> Creator:
    """The right to erasure, everywhere: the CRM's personal data, and the bodies of every message to
    and from the creator; decisions stay provable through the ledger's hashes and ids."""

    with transaction.atomic():
        creator = crm_creators.erase_creator_personal_data(creator, actor=actor)
        OutreachMessage.objects.filter(creator=creator, status__in=[Status.PENDING, Status.MANUAL]).update(
            status=Status.CANCELLED, reason="The creator's data was erased.", updated_at=timezone.now()
        )
        OutreachMessage.objects.filter(creator=creator).update(
            rendered_text="[erased]", rendered_subject="", recipient_id="", updated_at=timezone.now()
        )
        # The raw webhook deliveries that carried their messages go too (kept: that they arrived).
        InboundEvent.objects.filter(messages__conversation__creator=creator).update(body=b"", headers={})
        ConversationMessage.objects.filter(conversation__creator=creator).update(text="")
        Conversation.objects.filter(creator=creator).update(social_account=None, platform_conversation_id="")
        # Their comments and our private replies to them (the ids stay: they prove what was answered).
        InboundEvent.objects.filter(comments__creator=creator).update(body=b"", headers={})
        Comment.objects.filter(creator=creator).update(text="", from_username="")
        PrivateReply.objects.filter(creator=creator).update(text="[erased]")
    return creator
