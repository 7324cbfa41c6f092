"""Facebook Messenger through the Send API (PLATFORMS.md §2): graph.facebook.com/{page-id}/messages
with the Page token as the `access_token` query parameter.

A reply channel: the user opens a 24 h window; HUMAN_AGENT stretches it to 7 days for replies a
person wrote. The utility tags exist but may not carry outreach, so this adapter never sends them.
"""

import requests

from outreach.channels import graph
from outreach.channels.base import Outbound, SenderConfig, SendResult, new_session


class MessengerChannel:
    """Sends one message per call as the Page."""

    def __init__(self, config: SenderConfig, session: requests.Session):
        self.config = config
        self.session = session

    def send(self, message: Outbound) -> SendResult:
        return graph.post_message(
            self.session,
            self.config,
            graph.send_api_payload(message),
            token_in_query=True,
            read_accepted=graph.send_api_accepted,
        )


def build(config: SenderConfig, session: requests.Session | None = None) -> MessengerChannel:
    return MessengerChannel(config, session or new_session())
