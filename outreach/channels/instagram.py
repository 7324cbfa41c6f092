"""Instagram DMs through either Meta API (PLATFORMS.md §1).

- instagram_login: Instagram API with Instagram Login, graph.instagram.com, Instagram User token as
  a Bearer header; no Facebook Page needed.
- messenger_platform: the Messenger Platform with Facebook Login, graph.facebook.com/{page-id},
  Page token as the `access_token` query parameter.

Both take the same Send API body and answer with the same Graph envelope, so only the token's place
differs. Instagram is a reply channel: the user writes first, then 24 h (7 days with HUMAN_AGENT).
"""

import requests

from outreach.channels import graph
from outreach.channels.base import Outbound, Outcome, SenderConfig, SendResult, new_session

INSTAGRAM_LOGIN = "instagram_login"
MESSENGER_PLATFORM = "messenger_platform"
VARIANTS = (INSTAGRAM_LOGIN, MESSENGER_PLATFORM)
MAX_TEXT_BYTES = 1000  # of UTF-8, not characters


class InstagramChannel:
    """Sends one DM per call; refuses text over 1000 bytes before spending a call on it."""

    def __init__(self, config: SenderConfig, session: requests.Session):
        variant = config.variant or INSTAGRAM_LOGIN
        if variant not in VARIANTS:
            raise ValueError(f"Unknown Instagram variant {config.variant!r}; expected one of {VARIANTS}")
        self.config = config
        self.session = session
        self.token_in_query = variant == MESSENGER_PLATFORM

    def send(self, message: Outbound) -> SendResult:
        size = len(message.text.encode("utf-8"))
        if size > MAX_TEXT_BYTES:
            return SendResult(
                Outcome.REJECTED,
                error_code="text_too_long",
                error_message=f"Instagram text is {size} bytes of UTF-8; the limit is {MAX_TEXT_BYTES}.",
                details={"text_bytes": size},
            )
        return graph.post_message(
            self.session,
            self.config,
            graph.send_api_payload(message),
            token_in_query=self.token_in_query,
            read_accepted=graph.send_api_accepted,
        )


def build(config: SenderConfig, session: requests.Session | None = None) -> InstagramChannel:
    return InstagramChannel(config, session or new_session())
