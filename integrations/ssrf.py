"""Webhook URLs must lead to the public internet, not into the server's own network.

A URL is checked when it is registered and again before each delivery (every address its host
resolves to), and the address actually connected to is checked once more (`GuardedAdapter`), so a
host that resolves to a public address for the check and a private one for the connection (DNS
rebinding) is refused too. `WEBHOOKS_ALLOW_PRIVATE_URLS` lifts the address rule (tests, a receiver
on the same private network on purpose); the scheme rule stays.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class UnsafeUrl(Exception):
    """The URL may not receive webhooks; the message says why, for the person who entered it."""


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return _forbidden(mapped)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_address(address: str) -> None:
    if settings.WEBHOOKS_ALLOW_PRIVATE_URLS:
        return
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if _forbidden(ip):
        raise UnsafeUrl(f"It leads to {ip}, a private, loopback or otherwise non-public address.")


def check_url(url: str) -> list[str]:
    """The addresses the URL's host resolves to, all allowed; raises UnsafeUrl otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeUrl(f"It is not a valid URL ({error}).") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise UnsafeUrl("The URL needs a host name.")
    if parts.username or parts.password:
        raise UnsafeUrl("Put no credentials in the URL; check our signature instead.")
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"The host {parts.hostname} cannot be resolved.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for address in addresses:
        check_address(address)
    return addresses


class _CheckedPeer:
    """A connection that refuses to talk once it sees where it actually connected."""

    def _new_conn(self):
        sock = super()._new_conn()
        try:
            check_address(sock.getpeername()[0])
        except UnsafeUrl:
            sock.close()
            raise
        return sock


class _CheckedHTTPConnection(_CheckedPeer, HTTPConnection):
    pass


class _CheckedHTTPSConnection(_CheckedPeer, HTTPSConnection):
    pass


class _CheckedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _CheckedHTTPConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """requests' adapter whose connections check the connected peer's address; no retries of its own."""

    def __init__(self):
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedHTTPPool, "https": _CheckedHTTPSPool}
