"""X webhooks: the CRC check, x-twitter-webhooks-signature, Account Activity and X Activity shapes."""

import base64
import hashlib
import hmac
import re

from outreach.webhooks import InboundMessage, PayloadError, SignatureError, from_millis, shape_checked


def _digest(secret: str, data: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


# X's CRC tokens are short URL-safe strings. The answer is the same HMAC as a body's signature, so
# signing anything else would hand out valid signatures: only token-shaped strings are answered, and
# no token-shaped string is a JSON object, which is all a delivery may be (outreach/receivers.py).
CRC_TOKEN = re.compile(r"[A-Za-z0-9_=+/-]{8,128}")


def crc_token_problem(crc_token: str) -> str | None:
    """Why this is not a CRC token X would send, or None when it is one."""
    if not CRC_TOKEN.fullmatch(crc_token or ""):
        return "crc_token must be 8-128 URL-safe characters (letters, digits, - _ = + /)."
    return None


def crc_response(crc_token: str, consumer_secret: str) -> dict:
    problem = crc_token_problem(crc_token)
    if problem:
        raise PayloadError(problem)
    return {"response_token": _digest(consumer_secret, crc_token.encode())}


def sign(body: bytes, consumer_secret: str) -> str:
    return _digest(consumer_secret, body)


def verify(body: bytes, signature: str, consumer_secret: str) -> None:
    if not consumer_secret:
        raise SignatureError("X_CONSUMER_SECRET is not set: deliveries cannot be verified.")
    if not signature or not hmac.compare_digest(signature.strip(), sign(body, consumer_secret)):
        raise SignatureError("x-twitter-webhooks-signature does not match the body.")


@shape_checked
def parse(payload: dict) -> list[InboundMessage]:
    if "data" in payload and isinstance(payload["data"], dict):  # X Activity API
        data = payload["data"]
        owner = str(data.get("filter", {}).get("user_id", ""))
        inner = data.get("payload") or {}
        events = inner.get("direct_message_events", []) if isinstance(inner, dict) else []
        users = inner.get("users", {}) if isinstance(inner, dict) else {}
        if data.get("event_type") == "dm.read":
            return _reads(owner, inner)
        return [m for m in (_event(owner, event, users) for event in events) if m]
    if "for_user_id" in payload:  # Account Activity API
        owner = str(payload["for_user_id"])
        users = payload.get("users", {})
        return [m for m in (_event(owner, e, users) for e in payload.get("direct_message_events", [])) if m]
    raise PayloadError("Neither an Account Activity nor an X Activity payload.")


def _event(owner: str, event: dict, users: dict) -> InboundMessage | None:
    if event.get("type") != "message_create":
        return None
    create = event.get("message_create", {})
    sender = str(create.get("sender_id", ""))
    recipient = str(create.get("target", {}).get("recipient_id", ""))
    text = create.get("message_data", {}).get("text", "")
    at = from_millis(event.get("created_timestamp", 0))
    ids = sorted([sender, recipient], key=lambda value: int(value) if value.isdigit() else 0)
    conversation = "-".join(ids)
    if sender == owner:  # our own send, delivered back to us
        return InboundMessage("x", owner, sender, str(event.get("id", "")), at, text, "echo", recipient, conversation)
    user = users.get(sender, {})
    return InboundMessage(
        "x",
        owner,
        sender,
        str(event.get("id", "")),
        at,
        text,
        conversation_id=conversation,
        sender_name=user.get("name", ""),
        sender_handle=user.get("screen_name", ""),
    )


def _reads(owner: str, payload: dict) -> list[InboundMessage]:
    """`dm.read`: the creator read our messages up to `last_read_event_id` (a read receipt)."""
    reads = payload.get("dm_events") or payload.get("direct_message_mark_read_events") or [payload]
    messages = []
    for read in reads:
        reader = str(read.get("sender_id") or read.get("participant_id") or "")
        last = str(read.get("last_read_event_id") or read.get("event_id") or "")
        if last:
            at = from_millis(read.get("created_timestamp") or 0)
            messages.append(InboundMessage("x", owner, reader, last, at, kind="read", recipient_id=reader))
    return messages
