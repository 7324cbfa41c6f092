"""The kinds of event a platform sends, and what each is to the CRM. Plain constants and one pure
function (no models), shared by the parsers, the inbound handlers and the tests.

| kind | what it is | a reply? (stops sequences, moves members to `replied`) |
|---|---|---|
| message | a creator's message: text, attachments, shares, story mentions and replies, quick replies | yes |
| postback | a button, ice breaker or menu item tapped (the title is the text, the payload kept) | yes |
| unsupported | a message the platform could not show us (`is_unsupported`, WhatsApp `unsupported`) | yes |
| echo | our own message, reported back | no |
| read, delivery, status | receipts and WhatsApp statuses of our messages | no |
| reaction, unreaction | an emoji on a message, attached to it | no |
| edit | a new version of a message (every version kept) | no |
| delete | an unsend / revoke: the message is marked deleted | no |
| referral | an ad or link opened the thread (no message) | no |
| typing | typing indicator | no |
"""

from outreach.webhooks import InboundMessage

REPLIES = {"message", "postback", "unsupported"}
RECEIPTS = {"read", "delivery", "status"}
REACTIONS = {"reaction", "unreaction"}
IGNORED = {"typing", "referral"}
SHARES = {"share", "ig_reel", "reel", "share_post", "ig_post"}
STATUS_RANK = {"": 0, "sent": 1, "delivered": 2, "read": 3, "played": 3, "failed": 4}


def stored_kind(message: InboundMessage) -> str:
    """The kind a conversation shows for a recorded message."""
    if message.kind in {"postback", "unsupported"}:
        return message.kind
    types = [attachment.get("type", "") for attachment in message.attachments]
    if "story_mention" in types:
        return "story_mention"
    if isinstance(message.reply_to, dict) and message.reply_to.get("story_id"):
        return "story_reply"
    if any(kind in SHARES for kind in types):
        return "share"
    if types:
        return "attachment"
    return "message"


def shown_text(message: InboundMessage) -> str:
    """The text a person reads in the conversation."""
    if message.kind == "unsupported" and not message.text:
        return "[unsupported message: open it in the app]"
    return message.text
