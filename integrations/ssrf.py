"""Webhook URLs must lead to the public internet, not into the server's own network.

The rules live in `core.netguard` (one guard for every outbound address a user can set); this module
applies them with the webhooks' own setting: `WEBHOOKS_ALLOW_PRIVATE_URLS` lifts the address rule
(tests, a receiver on the same private network on purpose), the scheme rule stays. A URL is checked
when it is registered, again before each delivery, and the peer actually connected to once more
(`GuardedAdapter`), so DNS rebinding gains nothing.
"""

from core import netguard

UnsafeUrl = netguard.UnsafeAddress


def check_address(address: str) -> None:
    netguard.check_address(address, **netguard.webhook_policy())


def check_url(url: str, *, resolve: netguard.Resolver | None = None) -> list[str]:
    """The addresses the URL's host resolves to, all allowed; raises UnsafeUrl otherwise."""
    return netguard.check_url(url, resolve=resolve, **netguard.webhook_policy())


def GuardedAdapter() -> netguard.GuardedAdapter:
    """requests' adapter whose connections check the connected peer's address; no retries of its own."""
    return netguard.webhook_adapter()
