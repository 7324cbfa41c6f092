"""X webhooks: the CRC check, x-twitter-webhooks-signature, Account Activity and X Activity shapes."""

import base64
import hashlib
import hmac
import re

from outreach.webhooks import InboundMessage, PayloadError, SignatureError, describe, from_timestamp, shape_checked


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
        if not isinstance(inner, dict):
            return []
        if data.get("event_type") == "dm.read" and "direct_message_mark_read_events" not in inner:
            inner = {"direct_message_mark_read_events": [inner], "users": inner.get("users", {})}
        return _account_activity(owner, inner)
    if "for_user_id" in payload:  # Account Activity API
        return _account_activity(str(payload["for_user_id"]), payload)
    raise PayloadError("Neither an Account Activity nor an X Activity payload.")


def user_profile(users: dict, user_id: str) -> dict:
    """One entry of the users map, in either shape: AAA's v1.1 user (`screen_name`) or XAA's v2
    user wrapped in `data` (`username`). Returns {"id", "name", "username", "profile_image_url"}."""
    user = users.get(user_id) or {}
    if isinstance(user.get("data"), dict):
        user = user["data"]
    return {
        "id": str(user.get("id", user_id)),
        "name": user.get("name", ""),
        "username": user.get("username") or user.get("screen_name", ""),
        "profile_image_url": user.get("profile_image_url_https") or user.get("profile_image_url", ""),
    }


def conversation_of(*ids: str) -> str:
    """A one-to-one conversation id: `{smaller}-{larger}` (numerically)."""
    ordered = sorted(ids, key=lambda value: (int(value) if value.isdigit() else 0, value))
    return "-".join(ordered)


def _account_activity(owner: str, payload: dict) -> list[InboundMessage]:
    users = payload.get("users") or {}
    messages = [_event(owner, event, users) for event in payload.get("direct_message_events", [])]
    messages += [_receipt(owner, read, users, "read") for read in payload.get("direct_message_mark_read_events", [])]
    messages += [
        _receipt(owner, typing, users, "typing") for typing in payload.get("direct_message_indicate_typing_events", [])
    ]
    return [message for message in messages if message]


def _text_and_attachments(data: dict) -> tuple[str, tuple]:
    """The text a person typed, without the trailing t.co link that only points at the DM's own
    media; the media kept as an attachment."""
    text = data.get("text", "")
    attachment = data.get("attachment") or {}
    if attachment.get("type") != "media":
        return text, ()
    media = attachment.get("media") or {}
    link = media.get("url", "")
    if link and text.rstrip().endswith(link):
        text = text.rstrip()[: -len(link)].rstrip()
    kept = {
        "type": media.get("type", "media"),
        "url": media.get("media_url_https") or media.get("media_url"),
        "media_id": str(media.get("id_str") or media.get("id") or ""),
    }
    return text or describe(kept["type"], kept["url"]), (kept,)


def _event(owner: str, event: dict, users: dict) -> InboundMessage | None:
    if event.get("type") != "message_create":
        return None
    create = event.get("message_create", {})
    sender = str(create.get("sender_id", ""))
    recipient = str(create.get("target", {}).get("recipient_id", ""))
    data = create.get("message_data", {})
    text, attachments = _text_and_attachments(data)
    at = from_timestamp(event.get("created_timestamp", 0))
    profile = user_profile(users, sender)
    return InboundMessage(
        "x",
        owner,
        sender,
        str(event.get("id", "")),
        at,
        text,
        "echo" if sender == owner else "message",  # our own send, delivered back to us
        recipient,
        conversation_of(sender, recipient),
        sender_name=profile["name"],
        sender_handle=profile["username"],
        attachments=attachments,
        payload=(data.get("quick_reply_response") or {}).get("metadata", ""),
        profile=profile if sender in users else {},
    )


def _receipt(owner: str, event: dict, users: dict, kind: str) -> InboundMessage | None:
    """A read receipt (the creator read our messages up to `last_read_event_id`) or typing."""
    reader = str(event.get("sender_id") or event.get("participant_id") or "")
    if not reader:
        return None
    profile = user_profile(users, reader)
    at = from_timestamp(event.get("created_timestamp") or 0)
    return InboundMessage(
        "x",
        owner,
        reader,
        str(event.get("last_read_event_id") or event.get("event_id") or ""),
        at,
        kind=kind,
        recipient_id=str((event.get("target") or {}).get("recipient_id") or owner),
        conversation_id=conversation_of(reader, owner),
        sender_name=profile["name"],
        sender_handle=profile["username"],
    )
