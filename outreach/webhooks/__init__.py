"""One module per provider: verify the delivery over the raw bytes, then parse it into plain
`InboundMessage`s. No models here, so each can be tested on fixture payloads alone.

Every event a platform sends is read as the platform means it (`kind`): a message (with its
attachments described in `text` and their URLs kept), our own message echoed back, a read or
delivery receipt, a status of one of our sends, a reaction, an edit, an unsend, a button tapped,
a referral, typing. See `outreach/webhooks/kinds.py` for what each kind does downstream.
"""

import datetime
import functools
from dataclasses import dataclass, field


class SignatureError(Exception):
    """The delivery is not provably from the provider (missing, wrong or stale signature)."""


class PayloadError(ValueError):
    """The delivery is signed but not a payload we can read."""


def shape_checked(parse):
    """A signed delivery is still outside input: whatever its shape (a list where an object was
    expected, a string for a number, a year 10^20), the parser says PayloadError, never crashes."""

    @functools.wraps(parse)
    def checked(*args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except PayloadError:
            raise
        except (AttributeError, TypeError, KeyError, IndexError, ValueError, OverflowError, RecursionError) as error:
            raise PayloadError(
                f"The payload does not have the expected shape ({type(error).__name__}: {error})."
            ) from None

    return checked


@dataclass(frozen=True)
class InboundMessage:
    platform: str  # instagram, messenger, whatsapp, x, tiktok, email
    business_id: str  # our side: IG account, Page, phone number id, X user id, TikTok business, our address
    sender_id: str  # the creator's platform id or email address (for echoes: our id)
    message_id: str  # the platform's id of the message the event is about (edits/deletes: the ORIGINAL)
    at: datetime.datetime
    text: str = ""
    kind: str = "message"  # see outreach.webhooks.kinds; email also: bounce, auto_reply
    recipient_id: str = ""  # for messages: our id; for echoes and receipts: the creator
    conversation_id: str = ""  # TikTok conversation id, X dm_conversation_id
    sender_name: str = ""  # WhatsApp profile name, email display name, X name
    sender_handle: str = ""  # X screen_name / username, TikTok `from`
    references: tuple[str, ...] = ()  # email: In-Reply-To and References ids
    subject: str = ""
    attachments: tuple = ()  # ({"type", "url", ...}, ...): kept, never downloaded
    reply_to: str | dict | None = None  # the message replied to (id), or {"story_id", "story_url"}
    reacts_to: str = ""  # reactions: the message reacted to
    emoji: str | None = None  # reactions: the emoji (None when removed)
    payload: str = ""  # quick reply / button / list / postback / referral payload (ours)
    status: str = ""  # WhatsApp status: sent, delivered, read, failed, played
    error_code: int | None = None
    error_title: str = ""
    watermark: datetime.datetime | None = None  # Messenger delivery/read, TikTok last_read_timestamp
    mids: tuple[str, ...] = ()  # Messenger delivery: the messages delivered
    referral: dict | None = None  # ads / links that opened the conversation
    num_edit: int | None = None
    event_id: str = ""  # the platform's id of this event when it differs from message_id (WhatsApp edit/revoke)
    media_id: str = ""  # the shared post / reel / video
    forwarded: bool = False
    standby: bool = False  # Meta: delivered while another app holds the thread
    test: bool = False  # Meta dashboard sample with placeholder ids
    ours: bool = False  # an event the brand caused (TikTok: the business read the conversation)
    profile: dict = field(default_factory=dict)  # what the payload says about the sender (X users map)
    # Email only (outreach/webhooks/email.py). Platforms sign their webhooks, so their senders are
    # authenticated; an email's From is only a claim unless DKIM or a trusted gateway proves it.
    authenticated: bool = True
    evidence: str = ""  # how the sender was (or was not) authenticated, the Date header, the split
    split_certain: bool = True  # False: the reply could not be told apart from the quoted text
    request_tag: str = ""  # the per-request reply address it reached ("pr123" in partners+pr123@...)
    bounce_status: str = ""  # kind "bounce": the enhanced status code (5.x.x is permanent)


# Seconds and milliseconds since 1970 are told apart by size: 1e11 seconds is the year 5138, while
# 1e11 milliseconds is 1973, before any of these platforms existed.
MILLISECONDS_ABOVE = 100_000_000_000


def from_timestamp(value) -> datetime.datetime:
    """A Unix timestamp in seconds or milliseconds (number or string), told apart by its size."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PayloadError(f"Not a timestamp: {value!r}.") from None
    if number >= MILLISECONDS_ABOVE:
        number /= 1000
    return datetime.datetime.fromtimestamp(number, tz=datetime.UTC)


def from_millis(value) -> datetime.datetime:
    return from_timestamp(value)


def from_seconds(value) -> datetime.datetime:
    return from_timestamp(value)


def describe(kind: str, url: str | None = None, title: str = "") -> str:
    """What a person reads for an attachment: `[image] https://...`, `[ig_reel] Title https://...`."""
    return " ".join(part for part in (f"[{kind}]", title, url or "") if part)
