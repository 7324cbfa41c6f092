"""One module per provider: verify the delivery over the raw bytes, then parse it into plain
`InboundMessage`s. No models here, so each can be tested on fixture payloads alone."""

import datetime
import functools
from dataclasses import dataclass


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
    message_id: str
    at: datetime.datetime
    text: str = ""
    kind: str = "message"  # message, echo (sent by us), read (a read receipt)
    recipient_id: str = ""  # for echoes and receipts: the creator
    conversation_id: str = ""  # TikTok conversation id, X dm_conversation_id
    sender_name: str = ""  # WhatsApp profile name, email display name, X name
    sender_handle: str = ""  # X screen_name
    references: tuple[str, ...] = ()  # email: In-Reply-To and References ids
    subject: str = ""


def from_millis(value) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(value) / 1000, tz=datetime.UTC)


def from_seconds(value) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
