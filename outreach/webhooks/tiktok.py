"""TikTok Business Messaging webhooks: `Tiktok-Signature: t=...,s=...` over "<t>.<body>", double-encoded content."""

import hashlib
import hmac
import json
import time

from outreach.webhooks import InboundMessage, PayloadError, SignatureError, describe, from_timestamp, shape_checked

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


def _content(payload: dict) -> dict:
    try:
        content = json.loads(payload.get("content") or "{}")
    except (TypeError, ValueError):
        raise PayloadError("TikTok `content` is not a JSON string.") from None
    if not isinstance(content, dict):
        raise PayloadError("TikTok `content` is not a JSON object.")
    return content


def _text_and_attachments(content: dict) -> tuple[str, tuple, str]:
    kind = content.get("type", "")
    body = content.get(kind) if isinstance(content.get(kind), dict) else {}
    if kind == "text":
        return body.get("body", ""), (), ""
    if kind == "share_post":
        url = body.get("embed_url") or body.get("url")
        media = url.rstrip("/").rsplit("/", 1)[-1] if url else str(body.get("item_id", ""))
        return describe(kind, url), ({"type": kind, "url": url},), media
    kept = {"type": kind or "unsupported", "url": body.get("url")}
    if body.get("media_id"):
        kept["media_id"] = body["media_id"]
    return describe(kept["type"], kept["url"]), (kept,), ""


@shape_checked
def parse(payload: dict) -> list[InboundMessage]:
    kind = KINDS.get(payload.get("event", ""))
    if kind is None:
        return []
    content = _content(payload)
    business = str(payload.get("user_openid", ""))
    sender = str(content.get("from_user", {}).get("id", ""))
    recipient = str(content.get("to_user", {}).get("id", ""))
    common = {
        "recipient_id": recipient or business,
        "conversation_id": str(content.get("conversation_id", "")),
        "sender_handle": str(content.get("from", "")),
    }
    at = from_timestamp(content.get("timestamp") or 0)
    if kind == "read":
        last = (content.get("read") or {}).get("last_read_timestamp")
        return [
            InboundMessage(
                "tiktok",
                business,
                sender,
                str(content.get("message_id", "")),
                at,
                kind="read",
                watermark=from_timestamp(last) if last else None,
                ours=sender == business,  # the business read the conversation
                **common,
            )
        ]
    text, attachments, media = _text_and_attachments(content)
    reference = (content.get("referenced_message_info") or {}).get("referenced_message_id")
    return [
        InboundMessage(
            "tiktok",
            business,
            sender,
            str(content.get("message_id", "")),
            at,
            text,
            kind,
            attachments=attachments,
            media_id=media,
            reply_to=str(reference) if reference else None,
            **common,
        )
    ]


@shape_checked
def event_id(payload: dict) -> str:
    """The delivery's id: a message's id, but a read receipt by conversation, reader and time (a
    receipt names the last message read, which stays the same across many receipts)."""
    try:
        content = json.loads(payload.get("content") or "{}")
    except (TypeError, ValueError):
        return ""
    if not isinstance(content, dict):
        return ""
    event = payload.get("event", "")
    if event == "im_mark_read_msg":
        reader = (content.get("from_user") or {}).get("id", "")
        read = (content.get("read") or {}).get("last_read_timestamp") or content.get("timestamp", "")
        return f"{event}:{content.get('conversation_id', '')}:{reader}:{read}"
    return f"{event}:{content.get('message_id', '')}"
