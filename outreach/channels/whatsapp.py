"""WhatsApp through the Cloud API (PLATFORMS.md §6): graph.facebook.com/{phone-number-id}/messages
with a Bearer token.

Free-form text only reaches a user inside the 24 h window their last message opened; outside it only
an approved template may be sent, and only to a user who opted in (the caller's job to check).
"""

import requests

from outreach.channels import graph
from outreach.channels.base import Outbound, Outcome, SenderConfig, SendResult, new_session

MAX_TEXT_CHARS = 4096


class WhatsAppChannel:
    """Sends a template when the message names one, else free-form text with link previews on."""

    def __init__(self, config: SenderConfig, session: requests.Session):
        self.config = config
        self.session = session

    def send(self, message: Outbound) -> SendResult:
        if not message.whatsapp_template and len(message.text) > MAX_TEXT_CHARS:
            return SendResult(
                Outcome.REJECTED,
                error_code="text_too_long",
                error_message=f"WhatsApp text is {len(message.text)} characters; the limit is {MAX_TEXT_CHARS}.",
                details={"text_chars": len(message.text)},
            )
        return graph.post_message(
            self.session,
            self.config,
            whatsapp_payload(message),
            token_in_query=False,
            read_accepted=whatsapp_accepted,
        )


def whatsapp_payload(message: Outbound) -> dict:
    payload = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.recipient_id.removeprefix("+"),
    }
    if message.whatsapp_template:
        template: dict = {"name": message.whatsapp_template, "language": {"code": message.whatsapp_template_language}}
        if message.whatsapp_template_params:
            parameters = [{"type": "text", "text": value} for value in message.whatsapp_template_params]
            template["components"] = [{"type": "body", "parameters": parameters}]
        payload.update(type="template", template=template)
    else:
        payload.update(type="text", text={"body": message.text, "preview_url": True})
    return payload


def whatsapp_accepted(body: dict) -> tuple[str, dict]:
    """`{messaging_product, contacts[{input, wa_id}], messages[{id}]}`."""
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    contacts = body.get("contacts") if isinstance(body.get("contacts"), list) else []
    first_message = messages[0] if messages and isinstance(messages[0], dict) else {}
    first_contact = contacts[0] if contacts and isinstance(contacts[0], dict) else {}
    details = {"wa_id": first_contact["wa_id"]} if first_contact.get("wa_id") else {}
    if first_message.get("message_status"):
        details["message_status"] = first_message["message_status"]
    return str(first_message.get("id") or ""), details


def build(config: SenderConfig, session: requests.Session | None = None) -> WhatsAppChannel:
    return WhatsAppChannel(config, session or new_session())
