"""One module per provider: verify the delivery over the raw bytes, then parse it into plain
`InboundMessage`s. No models here, so each can be tested on fixture payloads alone."""

import datetime
from dataclasses import dataclass


class SignatureError(Exception):
    """The delivery is not provably from the provider (missing, wrong or stale signature)."""


class PayloadError(ValueError):
    """The delivery is signed but not a payload we can read."""


@dataclass(frozen=True)
class InboundMessage:
    platform: str  # instagram, messenger, whatsapp, x, tiktok, email
    business_id: str  # our side: IG account, Page, phone number id, X user id, TikTok business, our address
    sender_id: str  # the creator's platform id or email address (for echoes: our id)
    message_id: str
    at: datetime.datetime
    text: str = ""
    kind: str = "message"  # message, echo (sent by us), read (a read receipt); email: bounce, auto_reply
    recipient_id: str = ""  # for echoes and receipts: the creator
    conversation_id: str = ""  # TikTok conversation id, X dm_conversation_id
    sender_name: str = ""  # WhatsApp profile name, email display name, X name
    sender_handle: str = ""  # X screen_name
    references: tuple[str, ...] = ()  # email: In-Reply-To and References ids
    subject: str = ""
    # Email only (outreach/webhooks/email.py). Platforms sign their webhooks, so their senders are
    # authenticated; an email's From is only a claim unless DKIM or a trusted gateway proves it.
    authenticated: bool = True
    evidence: str = ""  # how the sender was (or was not) authenticated, the Date header, the split
    split_certain: bool = True  # False: the reply could not be told apart from the quoted text
    request_tag: str = ""  # the per-request reply address it reached ("pr123" in partners+pr123@...)
    bounce_status: str = ""  # kind "bounce": the enhanced status code (5.x.x is permanent)


def from_millis(value) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(value) / 1000, tz=datetime.UTC)


def from_seconds(value) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
