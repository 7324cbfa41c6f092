"""Inbound email: a raw RFC 5322 message posted by the mail gateway with a shared secret."""

import hmac
import re
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

from outreach.webhooks import InboundMessage, PayloadError, SignatureError

QUOTE_INTRO = re.compile(r"^\s*(On .+ wrote:|Le .+ a écrit\s*:|Am .+ schrieb .+:|-----Original Message-----)\s*$", re.I)


def verify(secret_given: str, secret: str) -> None:
    if not secret:
        raise SignatureError("EMAIL_WEBHOOK_SECRET is not set: deliveries cannot be verified.")
    if not secret_given or not hmac.compare_digest(secret_given, secret):
        raise SignatureError("The mail gateway's secret does not match.")


def without_quotes(text: str) -> str:
    """The reply's own words: quoted lines and everything after 'On ... wrote:' removed, so a hashtag
    that only appears in our quoted request never counts as the creator's answer."""
    kept = []
    for line in text.splitlines():
        if QUOTE_INTRO.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def parse(raw: bytes, our_address_hint: str = "") -> InboundMessage:
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as error:  # the email package raises many kinds on broken input
        raise PayloadError(f"Not an RFC 5322 message: {error}") from None
    senders = getaddresses([str(message.get("From", ""))])
    if not senders or "@" not in senders[0][1]:
        raise PayloadError("The message has no From address.")
    name, address = senders[0]
    recipients = getaddresses([str(message.get("To", ""))])
    body = message.get_body(("plain",)) or message.get_body(("html",))
    text = body.get_content() if body is not None else ""
    references = tuple(
        part
        for part in " ".join([str(message.get("In-Reply-To", "")), str(message.get("References", ""))]).split()
        if part
    )
    try:
        at = parsedate_to_datetime(str(message.get("Date")))
    except (TypeError, ValueError):
        at = timezone.now()
    message_id = str(message.get("Message-ID", "")).strip()
    return InboundMessage(
        "email",
        recipients[0][1].lower() if recipients else our_address_hint,
        address.lower(),
        message_id,
        at,
        without_quotes(text),
        sender_name=name,
        references=references,
        subject=str(message.get("Subject", "")),
    )
