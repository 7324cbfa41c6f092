"""Inbound email: a raw RFC 5322 message, posted by the mail gateway with a shared secret or read
from the team's own mailbox over IMAP (outreach/mailbox.py); both end in `parse`.

`parse` says what the message is (a creator's reply, our own mail seen in the Sent folder, a bounce,
an automatic reply), what the creator wrote (split from the quoted text and signature by
outreach.mail.replytext), and whether the sender is authenticated (outreach.mail.trust). Its time is
when we received it, never the Date header the sender wrote, which is kept as evidence.
"""

import datetime
import hmac
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from django.utils import timezone

from outreach.mail import kinds, replytext, trust
from outreach.mail.addresses import request_tag
from outreach.webhooks import InboundMessage, PayloadError, SignatureError

RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def verify(secret_given: str, secret: str) -> None:
    if not secret:
        raise SignatureError("EMAIL_WEBHOOK_SECRET is not set: deliveries cannot be verified.")
    if not secret_given or not hmac.compare_digest(secret_given, secret):
        raise SignatureError("The mail gateway's secret does not match.")


def check(raw: bytes) -> str:
    """A cheap look at a posted message before it is stored: its Message-ID, or PayloadError when it
    is not an email with a From address. (Reading, splitting and DKIM wait for the task: `parse`.)"""
    try:
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        senders = getaddresses([str(headers.get("From", ""))])
    except Exception as error:  # the email package raises many kinds on broken input
        raise PayloadError(f"Not an RFC 5322 message: {error}") from None
    if not senders or "@" not in senders[0][1]:
        raise PayloadError("The message has no From address.")
    return str(headers.get("Message-ID", "")).strip()


def without_quotes(text: str) -> str:
    """The reply's own words (kept for callers of the old name): see outreach.mail.replytext."""
    return replytext.split_reply(text).text


def parse(
    raw: bytes,
    our_address_hint: str = "",
    *,
    received_at: datetime.datetime | None = None,
    our_addresses: tuple[str, ...] = (),
    trusted_authserv_ids: tuple[str, ...] = (),
    folder_role: str = "",
) -> InboundMessage:
    """One email as an InboundMessage. `our_addresses` are the sender accounts' From addresses (mail
    from one of them, or found in the Sent folder, is our own: an echo)."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        senders = getaddresses([str(message.get("From", ""))])
    except Exception as error:  # the email package raises many kinds on broken input
        raise PayloadError(f"Not an RFC 5322 message: {error}") from None
    if not senders or "@" not in senders[0][1]:
        raise PayloadError("The message has no From address.")
    name, address = senders[0][0], senders[0][1].lower()
    ours = {a.lower() for a in our_addresses if a}
    recipients = [
        a.lower() for _, a in getaddresses([str(v) for h in RECIPIENT_HEADERS for v in message.get_all(h) or []])
    ]
    recipients = [a for a in recipients if "@" in a]
    references = tuple(
        part
        for part in " ".join([str(message.get("In-Reply-To", "")), str(message.get("References", ""))]).split()
        if part
    )
    received = received_at or timezone.now()
    date_header = str(message.get("Date", "")).strip()
    try:
        parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        date_header = f"{date_header} (unreadable)" if date_header else "(none)"
    message_id = str(message.get("Message-ID", "")).strip()
    subject = str(message.get("Subject", ""))
    common = {"references": references, "subject": subject, "sender_name": name}

    found_bounce = kinds.bounce(message)
    if found_bounce:
        if found_bounce.original_message_id:
            common["references"] = (found_bounce.original_message_id, *references)
        return InboundMessage(
            "email",
            recipients[0] if recipients else our_address_hint,
            address,
            message_id,
            received,
            found_bounce.reason,
            kind="bounce",
            recipient_id=found_bounce.recipients[0],
            bounce_status=found_bounce.status,
            evidence=f"bounce for {', '.join(found_bounce.recipients)}; Date header: {date_header}",
            **common,
        )

    text = _body_text(message)
    if address in ours or folder_role == "sent":
        creator_address = next((a for a in recipients if a not in ours), "")
        return InboundMessage(
            "email",
            address,
            address,
            message_id,
            received,
            replytext.split_reply(text).text or text.strip(),
            kind="echo",
            recipient_id=creator_address,
            evidence=f"our own mail, found in the {folder_role or 'inbox'}; Date header: {date_header}",
            **common,
        )

    split = replytext.split_reply(text)
    verdict = trust.authenticity(raw, message, address, trusted_authserv_ids)
    automatic = kinds.automatic_reply(message)
    ours_reached = [_without_tag(a) for a in recipients if _without_tag(a) in ours]
    tag = next(filter(None, (request_tag(a, ours) for a in recipients)), "")
    notes = [
        f"sender {'authenticated' if verdict.authenticated else 'not authenticated'} ({verdict.how})",
        f"Date header: {date_header}",
    ]
    if not split.certain:
        notes.append(f"reply split uncertain: {split.why}")
    if automatic:
        notes.append(f"automatic reply ({automatic})")
    return InboundMessage(
        "email",
        ours_reached[0] if ours_reached else (recipients[0] if recipients else our_address_hint),
        address,
        message_id,
        received,
        # An uncertain split keeps what there is for the person who reads it (it grants nothing).
        split.text or text.strip()[:2000],
        kind="auto_reply" if automatic else "message",
        authenticated=verdict.authenticated,
        evidence="; ".join(notes),
        split_certain=split.certain,
        request_tag=tag,
        **common,
    )


def _without_tag(address: str) -> str:
    """partners+pr12@acme.example -> partners@acme.example"""
    local, _, domain = address.partition("@")
    return f"{local.partition('+')[0]}@{domain}"


def _body_text(message) -> str:
    """The text part, or the HTML part as text (quotes removed)."""
    try:
        plain = message.get_body(("plain",))
        if plain is not None:
            return plain.get_content()
        html = message.get_body(("html",))
        return replytext.html_to_text(html.get_content()).strip() if html is not None else ""
    except (LookupError, UnicodeError) as error:
        raise PayloadError(f"The message's text cannot be read: {error}") from None
