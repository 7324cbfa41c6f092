"""What an email is besides a creator's words: a delivery status notification (a bounce, RFC 3464)
or an automatic reply (out of office, vacation, RFC 3834; a newsletter or list mail counts too).
Both are recorded, neither is an answer; automatic mail from a stranger makes no new prospect."""

import re
from dataclasses import dataclass
from email.message import EmailMessage

from flufl.bounce import all_failures

AUTO_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?re(ply|sponse)|autoresponder|vacation (reply|notice)|"
    r"abwesenheitsnotiz|automatische antwort|réponse automatique|absence du bureau|respuesta automática|"
    r"fuera de la oficina|risposta automatica|fuori sede|automatisch antwoord|niet aanwezig|frånvaro|autosvar)\b",
    re.I,
)
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|delivery status notification|mail delivery (failed|failure|subsystem)|returned mail|"
    r"delivery (has )?failed|failure notice|unzustellbar|non remis|no se pudo entregar)",
    re.I,
)
MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^>\s]+>)", re.I | re.M)


@dataclass(frozen=True)
class Bounce:
    """A failed delivery of one of our messages: to whom, whether it is permanent, and why."""

    recipients: tuple[str, ...]
    permanent: bool
    status: str  # the enhanced status code, e.g. 5.1.1
    reason: str
    original_message_id: str  # the Message-ID of the mail that bounced, when the report carries it


def automatic_reply(message: EmailMessage) -> str:
    """Why this is an automatic reply (the header or subject that says so), or "" for a person's mail."""
    auto_submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto_submitted and auto_submitted != "no":
        return f"Auto-Submitted: {auto_submitted}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if message.get(header):
            return f"{header}: {message.get(header)}"
    suppress = str(message.get("X-Auto-Response-Suppress", "")).lower()
    if "oof" in suppress or suppress == "all":
        return f"X-Auto-Response-Suppress: {suppress}"
    precedence = str(message.get("Precedence", message.get("X-Precedence", ""))).strip().lower()
    if precedence in {"auto_reply", "bulk", "junk", "list"}:
        return f"Precedence: {precedence}"
    for header in ("List-Id", "List-Unsubscribe"):  # newsletters and lists: no person wrote to us
        if message.get(header):
            return f"mailing list ({header})"
    subject = str(message.get("Subject", ""))
    if AUTO_SUBJECT.match(subject):
        return f"subject: {subject[:80]}"
    return ""


def bounce(message: EmailMessage) -> Bounce | None:
    """The delivery status notification in this message (RFC 3464 multipart/report), or a bounce
    in one of the older formats flufl.bounce knows; None for any other mail."""
    if message.get_content_type() == "multipart/report" and message.get_param("report-type") == "delivery-status":
        found = _delivery_status(message)
        if found:
            return found
    sender = str(message.get("From", "")).lower()
    if not (
        BOUNCE_SUBJECT.search(str(message.get("Subject", ""))) or "mailer-daemon" in sender or "postmaster" in sender
    ):
        return None
    temporary, permanent = all_failures(message)
    addresses = sorted(_text(a).lower() for a in (permanent or temporary))
    if not addresses:
        return None
    return Bounce(
        tuple(addresses),
        permanent=bool(permanent),
        status="5.0.0" if permanent else "4.0.0",
        reason=str(message.get("Subject", "")) or "Delivery failed.",
        original_message_id=_original_message_id(message),
    )


def _delivery_status(message: EmailMessage) -> Bounce | None:
    recipients, statuses, reasons = [], [], []
    failed = False
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in part.get_payload():  # the per-message block, then one block per recipient
            action = str(block.get("Action", "")).strip().lower()
            recipient = str(block.get("Final-Recipient", block.get("Original-Recipient", "")))
            if not action or not recipient:
                continue
            if action not in {"failed", "delayed"}:
                continue
            failed = failed or action == "failed"
            recipients.append(recipient.rpartition(";")[2].strip().strip("<>").lower())
            statuses.append(str(block.get("Status", "")).strip())
            reasons.append(" ".join(str(block.get("Diagnostic-Code", "")).split()).partition(";")[2].strip())
    if not recipients:
        return None
    status = statuses[0] or ("5.0.0" if failed else "4.0.0")
    return Bounce(
        tuple(recipients),
        permanent=failed and status.startswith("5"),
        status=status,
        reason=reasons[0] or f"Delivery {'failed' if failed else 'delayed'} ({status}).",
        original_message_id=_original_message_id(message),
    )


def _original_message_id(message: EmailMessage) -> str:
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) else inner
            if inner.get("Message-ID"):
                return str(inner.get("Message-ID")).strip()
        if kind in {"text/rfc822-headers", "text/plain"} and part is not message:
            found = MESSAGE_ID.search(part.get_payload(decode=True).decode(errors="replace"))
            if found and kind == "text/rfc822-headers":
                return found.group(1)
    body = message.get_body(("plain",))
    found = MESSAGE_ID.search(body.get_content()) if body is not None else None
    return found.group(1) if found else ""


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
