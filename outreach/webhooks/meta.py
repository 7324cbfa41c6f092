"""Meta webhooks (Instagram, Messenger, WhatsApp): the hub.* handshake, X-Hub-Signature-256, parsing."""

import hashlib
import hmac

from outreach.webhooks import (
    InboundMessage,
    PayloadError,
    SignatureError,
    describe,
    from_timestamp,
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


# `changes` fields another module reads (comments, mentions, the Page feed: meta_comments.py).
COMMENT_FIELDS = {"comments", "live_comments", "mentions", "feed"}


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
        events = [(event, False, False) for event in entry.get("messaging", [])]
        events += [(event, True, False) for event in entry.get("standby", [])]
        # Dashboard test events use the `changes` shape with the same event in `value` (timestamp in seconds).
        events += [
            (change.get("value") or {}, False, True)
            for change in entry.get("changes", [])
            if change.get("field") not in COMMENT_FIELDS and isinstance(change.get("value"), dict)
        ]
        for event, standby, test in events:
            message = _messaging_event(platform, str(entry.get("id", "")), event, standby=standby, test=test)
            if message:
                messages.append(message)
        messages += meta_comments.parse_entry(platform, entry)  # comments and mentions (InboundComment)
    return messages


def _attachment(item: dict) -> tuple[dict, str]:
    """One attachment kept as {type, url, ...} and described for a person (`[image] https://...`)."""
    body = item.get("payload") or {}
    kind = item.get("type", "file")
    if kind == "image" and body.get("sticker_id"):
        kind = "sticker"  # Messenger sends stickers as images with a sticker_id
    url = body.get("url") or item.get("url") or item.get("URL")
    kept = {"type": kind, "url": url}
    title = body.get("title") or item.get("title") or ""
    if kind == "location" and body.get("coordinates"):
        point = body["coordinates"]
        kept["latitude"], kept["longitude"] = point.get("lat"), point.get("long")
        title = title or f"({point.get('lat')}, {point.get('long')})"
    media = body.get("reel_video_id") or body.get("id") or ""
    if media:
        kept["media_id"] = str(media)
    return kept, describe(kind, url, title)


def _messaging_event(platform: str, entry_id: str, event: dict, *, standby=False, test=False) -> InboundMessage | None:
    sender = str(event.get("sender", {}).get("id", ""))
    recipient = str(event.get("recipient", {}).get("id", ""))
    at = from_timestamp(event.get("timestamp") or 0)
    common = {"standby": standby, "test": test}
    if "message" in event:
        message = event["message"]
        mid = message.get("mid", "")
        echo = bool(message.get("is_echo"))
        business = sender if echo else recipient
        if message.get("is_deleted"):
            return InboundMessage(
                platform, business or entry_id, sender, mid, at, kind="delete", recipient_id=recipient
            )
        if message.get("is_unsupported"):
            return InboundMessage(
                platform, business or entry_id, sender, mid, at, "", "unsupported", recipient, **common
            )
        attachments, described = [], []
        for item in message.get("attachments") or []:
            kept, text = _attachment(item)
            attachments.append(kept)
            described.append(text)
        reply_to = message.get("reply_to") or {}
        if reply_to.get("story"):
            reply_to = {"story_id": str(reply_to["story"].get("id", "")), "story_url": reply_to["story"].get("url")}
        else:
            reply_to = reply_to.get("mid") or None
        media_ids = [a["media_id"] for a in attachments if a.get("media_id")]
        return InboundMessage(
            platform,
            business or entry_id,
            sender,
            mid,
            at,
            message.get("text") or "\n".join(described),
            "echo" if echo else "message",
            recipient,
            attachments=tuple(attachments),
            reply_to=reply_to,
            payload=(message.get("quick_reply") or {}).get("payload", ""),
            referral=_referral(message.get("referral")),
            media_id=media_ids[0] if media_ids else "",
            **common,
        )
    if "message_edit" in event:
        edit = event["message_edit"]
        return InboundMessage(
            platform,
            recipient or entry_id,
            sender,
            edit.get("mid", ""),
            at,
            edit.get("text", ""),
            "edit",
            recipient,
            num_edit=edit.get("num_edit"),
            **common,
        )
    if "reaction" in event:
        reaction = event["reaction"]
        removed = reaction.get("action") == "unreact"
        return InboundMessage(
            platform,
            recipient or entry_id,
            sender,
            "",
            at,
            kind="unreaction" if removed else "reaction",
            recipient_id=recipient,
            reacts_to=reaction.get("mid", ""),
            emoji=reaction.get("emoji") or None,
            payload=reaction.get("reaction", ""),
            **common,
        )
    if "read" in event or "delivery" in event:
        receipt = event.get("read") or event.get("delivery") or {}
        watermark = receipt.get("watermark")
        return InboundMessage(
            platform,
            recipient or entry_id,
            sender,
            receipt.get("mid", ""),
            at,
            kind="read" if "read" in event else "delivery",
            recipient_id=recipient,
            watermark=from_timestamp(watermark) if watermark else None,
            mids=tuple(receipt.get("mids") or ()),
            **common,
        )
    if "postback" in event:
        postback = event["postback"]
        return InboundMessage(
            platform,
            recipient or entry_id,
            sender,
            postback.get("mid", ""),
            at,
            postback.get("title", "") or postback.get("payload", ""),
            "postback",
            recipient,
            payload=postback.get("payload", ""),
            referral=_referral(postback.get("referral")),
            **common,
        )
    if "referral" in event:
        referral = _referral(event["referral"])
        return InboundMessage(
            platform,
            recipient or entry_id,
            sender,
            "",
            at,
            kind="referral",
            recipient_id=recipient,
            payload=(referral or {}).get("ref", ""),
            referral=referral,
            **common,
        )
    return None


def _referral(referral: dict | None) -> dict | None:
    """Where the conversation came from (an ad, an ig.me / m.me link), in one shape for all three."""
    if not referral:
        return None
    kept = {
        "source": referral.get("source") or referral.get("source_type", ""),
        "type": referral.get("type", ""),
        "ref": referral.get("ref", ""),
        "ad_id": str(referral.get("ad_id") or referral.get("source_id") or ""),
        "url": referral.get("source_url", ""),
    }
    return {key: value for key, value in kept.items() if value}


def _whatsapp_content(message: dict) -> dict:
    """Text, attachments, payload of one WhatsApp message (or of the new version inside an edit)."""
    kind = message.get("type", "")
    body = message.get(kind) if isinstance(message.get(kind), dict) else {}
    out = {"text": "", "attachments": (), "payload": ""}
    if kind == "text":
        out["text"] = body.get("body", "")
    elif kind in MEDIA_TYPES:
        kept = {"type": kind, "url": None, "media_id": str(body.get("id", ""))}
        if body.get("filename"):
            kept["filename"] = body["filename"]
        if body.get("voice"):
            kept["voice"] = True
        out["attachments"] = (kept,)
        out["text"] = body.get("caption") or describe(kind)
    elif kind == "location":
        where = ", ".join(part for part in (body.get("name"), body.get("address")) if part)
        point = f"({body.get('latitude')}, {body.get('longitude')})"
        out["attachments"] = (
            {
                "type": "location",
                "url": body.get("url") or None,
                "latitude": body.get("latitude"),
                "longitude": body.get("longitude"),
            },
        )
        out["text"] = describe("location", None, f"{where} {point}".strip())
    elif kind == "contacts":
        cards = []
        for card in message.get("contacts", []):
            phones = " ".join(p.get("phone", "") for p in card.get("phones", [])[:1])
            cards.append(f"{card.get('name', {}).get('formatted_name', '')} {phones}".strip())
        out["attachments"] = ({"type": "contacts", "url": None, "cards": message.get("contacts", [])},)
        out["text"] = describe("contact", None, "; ".join(cards))
    elif kind == "interactive":
        chosen = body.get(body.get("type", "")) or {}
        out["text"], out["payload"] = chosen.get("title", "") or chosen.get("body", ""), chosen.get("id", "")
    elif kind == "button":
        out["text"], out["payload"] = body.get("text", ""), body.get("payload", "")
    else:
        out["text"] = describe(kind or "unsupported")
    return out


MEDIA_TYPES = {"image", "video", "audio", "document", "sticker"}


def _whatsapp(payload: dict) -> list[InboundMessage]:
    messages = []
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            number = value.get("metadata", {}).get("phone_number_id", "")
            names = {c.get("wa_id"): c.get("profile", {}).get("name", "") for c in value.get("contacts", [])}
            for message in value.get("messages", []):
                messages.append(_whatsapp_message(number, names, message))
            for status in value.get("statuses", []):
                error = (status.get("errors") or [{}])[0]
                messages.append(
                    InboundMessage(
                        "whatsapp",
                        number,
                        status.get("recipient_id", ""),
                        status.get("id", ""),
                        from_timestamp(status.get("timestamp", 0)),
                        kind="status",
                        recipient_id=number,
                        status=status.get("status", ""),
                        error_code=error.get("code"),
                        error_title=error.get("title", "") or error.get("message", ""),
                        conversation_id=(status.get("conversation") or {}).get("id", ""),
                    )
                )
    return messages


def _whatsapp_message(number: str, names: dict, message: dict) -> InboundMessage:
    sender = message.get("from", "")
    kind = message.get("type", "")
    context = message.get("context") or {}
    common = {
        "recipient_id": number,
        "sender_name": names.get(sender, ""),
        "reply_to": context.get("id") or None,
        "forwarded": bool(context.get("forwarded") or context.get("frequently_forwarded")),
        "referral": _referral(message.get("referral")),
    }
    at = from_timestamp(message.get("timestamp", 0))
    own_id = message.get("id", "")
    if kind == "reaction":
        reaction = message.get("reaction", {})
        emoji = reaction.get("emoji") or None
        return InboundMessage(
            "whatsapp",
            number,
            sender,
            own_id,
            at,
            kind="reaction" if emoji else "unreaction",
            reacts_to=reaction.get("message_id", ""),
            emoji=emoji,
            **common,
        )
    if kind in {"edit", "revoke"}:
        body = message.get(kind, {})
        content = _whatsapp_content(body.get("message", {})) if kind == "edit" else {}
        return InboundMessage(
            "whatsapp",
            number,
            sender,
            body.get("original_message_id", ""),
            at,
            content.get("text", ""),
            "edit" if kind == "edit" else "delete",
            event_id=own_id,
            attachments=content.get("attachments", ()),
            **common,
        )
    if kind == "unsupported":
        error = (message.get("errors") or [{}])[0]
        return InboundMessage(
            "whatsapp",
            number,
            sender,
            own_id,
            at,
            "",
            "unsupported",
            error_code=error.get("code"),
            error_title=error.get("title", ""),
            **common,
        )
    content = _whatsapp_content(message)
    return InboundMessage(
        "whatsapp",
        number,
        sender,
        own_id,
        at,
        content["text"],
        attachments=content["attachments"],
        payload=content["payload"],
        **common,
    )
