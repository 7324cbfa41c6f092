"""TikTok Business Messaging webhooks: `Tiktok-Signature: t=...,s=...` over "<t>.<body>", double-encoded content."""

import hashlib
import hmac
import json
import time

from outreach.webhooks import InboundMessage, PayloadError, SignatureError, from_millis, shape_checked

TOLERANCE_SECONDS = 300
KINDS = {"im_receive_msg": "message", "im_send_msg": "echo", "im_mark_read_msg": "read"}


def sign(body: bytes, app_secret: str, timestamp: int) -> str:
    digest = hmac.new(app_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},s={digest}"


def verify(body: bytes, header: str, app_secret: str, now: float | None = None) -> None:
    if not app_secret:
        raise SignatureError("TIKTOK_APP_SECRET is not set: deliveries cannot be verified.")
    parts = dict(part.split("=", 1) for part in (header or "").split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        raise SignatureError("Tiktok-Signature has no timestamp.") from None
    if abs((now or time.time()) - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("Tiktok-Signature is older than 5 minutes (or from the future).")
    if not hmac.compare_digest(sign(body, app_secret, timestamp), f"t={timestamp},s={parts.get('s', '')}"):
        raise SignatureError("Tiktok-Signature does not match the body.")


@shape_checked
def parse(payload: dict) -> list[InboundMessage]:
    kind = KINDS.get(payload.get("event", ""))
    if kind is None:
        return []
    try:
        content = json.loads(payload.get("content") or "{}")
    except (TypeError, ValueError):
        raise PayloadError("TikTok `content` is not a JSON string.") from None
    business = str(payload.get("user_openid", ""))
    sender = str(content.get("from_user", {}).get("id", "") or content.get("from", ""))
    recipient = str(content.get("to_user", {}).get("id", "") or content.get("to", ""))
    text = content.get("text", {}).get("body", "") if content.get("type") == "text" else ""
    return [
        InboundMessage(
            "tiktok",
            business,
            sender,
            str(content.get("message_id", "")),
            from_millis(content.get("timestamp", 0)),
            text,
            kind,
            recipient_id=recipient if kind != "message" else "",
            conversation_id=str(content.get("conversation_id", "")),
        )
    ]


@shape_checked
def event_id(payload: dict) -> str:
    try:
        content = json.loads(payload.get("content") or "{}")
    except (TypeError, ValueError):
        return ""
    return f"{payload.get('event', '')}:{content.get('message_id', '')}"
