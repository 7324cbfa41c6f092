"""The manual channel: a person sends the message from the platform's own app (PLATFORMS.md §5).

LinkedIn has no open member-to-member messaging API, and its rules require every message to come
from a member's own action, so nothing here calls a platform: `send()` always hands the message to
the manual queue, and `deep_link()` gives the URL a person opens to write to the creator. The links
serve any platform, for messages that must go out by hand when an API refuses them.
"""

import re
from urllib.parse import quote

from outreach.channels.base import Outbound, Outcome, SenderConfig, SendResult

MANUAL_REASON = "This message is not sent automatically: it is sent by a person from the app."


def build(config: SenderConfig, session=None) -> "ManualChannel":
    return ManualChannel(config)


class ManualChannel:
    """Never sends; answers WINDOW_CLOSED so the outbox puts the message in the manual queue."""

    def __init__(self, config: SenderConfig):
        self.config = config

    def send(self, message: Outbound) -> SendResult:
        link = deep_link(self.config.platform, platform_user_id=message.recipient_id, profile_url=message.profile_url)
        return SendResult(
            Outcome.WINDOW_CLOSED,
            error_code="manual",
            error_message=MANUAL_REASON,
            details={"open_url": link} if link else {},
        )


def deep_link(
    platform: str, handle: str | None = None, platform_user_id: str | None = None, profile_url: str | None = None
) -> str:
    """The URL that opens a chat (or else the profile) with the creator, or "" when nothing is known.

    instagram https://ig.me/m/<handle>; messenger https://m.me/<handle or id>; x the DM composer
    when the user id is known, else the profile; tiktok https://www.tiktok.com/@<handle>; linkedin
    the profile URL; whatsapp https://wa.me/<digits>; email mailto:<address>.
    """
    handle = (handle or "").strip().lstrip("@")
    user_id = (platform_user_id or "").strip()
    profile_url = (profile_url or "").strip()
    if platform == "instagram" and handle:
        return f"https://ig.me/m/{quote(handle)}"
    if platform == "messenger" and (handle or user_id):
        return f"https://m.me/{quote(handle or user_id)}"
    if platform == "x":
        if user_id.isdigit():
            return f"https://x.com/messages/compose?recipient_id={user_id}"
        if handle:
            return f"https://x.com/{quote(handle)}"
    if platform == "tiktok" and handle:
        return f"https://www.tiktok.com/@{quote(handle)}"
    if platform == "linkedin" and not profile_url and handle:
        return f"https://www.linkedin.com/in/{quote(handle)}"
    if platform == "whatsapp":
        digits = re.sub(r"\D", "", user_id or handle)
        if digits:
            return f"https://wa.me/{digits}"
    if platform == "email" and (user_id or handle):
        return f"mailto:{quote(user_id or handle, safe='@')}"
    return profile_url
