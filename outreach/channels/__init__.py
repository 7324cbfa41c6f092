"""One module per platform behind one interface (`base.Channel`); `get_channel` picks the module."""

import importlib

from outreach.channels.base import (
    Channel,
    Outbound,
    Outcome,
    SenderConfig,
    SendResult,
)

MODULES = {
    "instagram": "instagram",
    "messenger": "messenger",
    "x": "x",
    "tiktok": "tiktok",
    "whatsapp": "whatsapp",
    "email": "email",
}  # LinkedIn has no open messaging API: the policy puts its messages in the manual queue, never here

__all__ = ["Channel", "Outbound", "Outcome", "SendResult", "SenderConfig", "get_channel"]


def get_channel(config: SenderConfig, session=None) -> Channel:
    """The adapter for the sender's platform; `session` is the sender account's requests.Session."""
    try:
        name = MODULES[config.platform]
    except KeyError:
        raise ValueError(f"No channel for platform {config.platform!r}") from None
    return importlib.import_module(f"outreach.channels.{name}").build(config, session)
