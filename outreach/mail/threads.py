"""A follow-up email answers the previous step's message (In-Reply-To / References), and a
permission request asks for the answer at its own reply address, so the reply proves what it answers."""

from outreach.mail.addresses import request_reply_address
from outreach.models import OutreachMessage, SenderPlatform


def thread_parent(message: OutreachMessage) -> str:
    """The Message-ID of the latest earlier step sent to this creator in the same campaign or
    request, or "" for a first message."""
    if message.platform != SenderPlatform.EMAIL or not message.step:
        return ""
    earlier = OutreachMessage.objects.filter(
        creator_id=message.creator_id,
        platform=SenderPlatform.EMAIL,
        status=OutreachMessage.Status.SENT,
        step__lt=message.step,
    ).exclude(provider_message_id="")
    if message.permission_request_id:
        earlier = earlier.filter(permission_request_id=message.permission_request_id)
    elif message.campaign_id:
        earlier = earlier.filter(campaign_id=message.campaign_id, permission_request__isnull=True)
    else:
        return ""
    return earlier.order_by("-step", "-sent_at").values_list("provider_message_id", flat=True).first() or ""


def reply_address(message: OutreachMessage, from_address: str) -> str:
    """partners+pr123@acme.example for a permission request's email, else "" (replies go to From)."""
    if message.platform != SenderPlatform.EMAIL or not message.permission_request_id:
        return ""
    return request_reply_address(from_address, message.permission_request_id)
