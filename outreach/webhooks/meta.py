"""Meta webhooks (Instagram, Messenger, WhatsApp): the hub.* handshake, X-Hub-Signature-256, parsing."""

import hashlib
import hmac

from outreach.webhooks import (
    InboundMessage,
    PayloadError,
    SignatureError,
    from_millis,
    from_seconds,
    meta_comments,
    shape_checked,
)

PLATFORM_OF_OBJECT = {"instagram": "instagram", "page": "messenger"}


def handshake(params, verify_token: str) -> str | None:
    """The challenge to echo back, or None when the mode or token is wrong (answer 403)."""
    if (
        params.get("hub.mode") == "subscribe"
        and verify_token
        and hmac.compare_digest(params.get("hub.verify_token", ""), verify_token)
    ):
        return params.get("hub.challenge", "")
    return None


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str, app_secret: str) -> None:
    if not app_secret:
        raise SignatureError("META_APP_SECRET is not set: deliveries cannot be verified.")
    if not signature or not hmac.compare_digest(signature.strip(), sign(body, app_secret)):
        raise SignatureError("X-Hub-Signature-256 does not match the body.")


@shape_checked
def parse(payload: dict) -> list[InboundMessage | meta_comments.InboundComment]:
    kind = payload.get("object")
    if kind == "whatsapp_business_account":
        return _whatsapp(payload)
    platform = PLATFORM_OF_OBJECT.get(kind)
    if platform is None:
        raise PayloadError(f"Unknown Meta object {kind!r}.")
    messages = []
    for entry in payload.get("entry", []):
        events = list(entry.get("messaging", [])) + list(entry.get("standby", []))
        # Dashboard test events use the `changes` shape with the same event in `value`.
        events += [c.get("value", {}) for c in entry.get("changes", []) if c.get("field") == "messages"]
        for event in events:
            message = _messaging_event(platform, entry.get("id", ""), event)
            if message:
                messages.append(message)
        messages += meta_comments.parse_entry(platform, entry)  # comments and mentions (InboundComment)
    return messages


def _messaging_event(platform: str, entry_id: str, event: dict) -> InboundMessage | None:
    sender = str(event.get("sender", {}).get("id", ""))
    recipient = str(event.get("recipient", {}).get("id", ""))
    at = from_millis(event.get("timestamp", 0))
    if "message" in event:
        message = event["message"]
        if message.get("is_deleted"):
            return None
        if message.get("is_echo"):
            return InboundMessage(
                platform,
                sender or entry_id,
                sender,
                message.get("mid", ""),
                at,
                message.get("text", ""),
                "echo",
                recipient,
            )
        return InboundMessage(
            platform, recipient or entry_id, sender, message.get("mid", ""), at, message.get("text", "")
        )
    if "read" in event:
        read = event["read"]
        reference = read.get("mid") or str(read.get("watermark", ""))
        return InboundMessage(platform, recipient or entry_id, sender, reference, at, kind="read", recipient_id=sender)
    return None


def _whatsapp(payload: dict) -> list[InboundMessage]:
    messages = []
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            number = value.get("metadata", {}).get("phone_number_id", "")
            names = {c.get("wa_id"): c.get("profile", {}).get("name", "") for c in value.get("contacts", [])}
            for message in value.get("messages", []):
                text = message.get("text", {}).get("body", "") if message.get("type") == "text" else ""
                sender = message.get("from", "")
                messages.append(
                    InboundMessage(
                        "whatsapp",
                        number,
                        sender,
                        message.get("id", ""),
                        from_seconds(message.get("timestamp", 0)),
                        text,
                        sender_name=names.get(sender, ""),
                    )
                )
            for status in value.get("statuses", []):
                if status.get("status") == "read":
                    messages.append(
                        InboundMessage(
                            "whatsapp",
                            number,
                            status.get("recipient_id", ""),
                            status.get("id", ""),
                            from_seconds(status.get("timestamp", 0)),
                            kind="read",
                            recipient_id=status.get("recipient_id", ""),
                        )
                    )
    return messages
