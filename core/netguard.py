"""The one guard for every outbound address a user can set: webhook URLs, sender accounts' platform
URLs, SMTP/IMAP hosts.

A URL or host a person enters could point into the server's own network (its database, the cloud's
metadata service at 169.254.169.254, an admin port on loopback): server-side request forgery. So an
address is checked when it is saved (every address its name resolves to) and again at the moment of
connecting (the peer the socket actually reached), so a name that resolves to a public address for
the check and a private one for the connection (DNS rebinding) gains nothing.

Refused: loopback, private, link-local (metadata), carrier-grade NAT, multicast, reserved and
unspecified addresses, in any spelling: IPv4-mapped (::ffff:127.0.0.1), NAT64 (64:ff9b::/96), 6to4
(2002::/16), Teredo and IPv4-compatible IPv6 forms embedding such a v4 address; the legacy IPv4
spellings the resolver accepts (2130706433, 0177.0.0.1, 0x7f000001, 127.1); names resolving to any of
them. `allow_loopback` opens loopback only (the sandbox's platform fakes, ALLOW_INSECURE_PLATFORM_URLS);
`allow_private` lifts the address rule (WEBHOOKS_ALLOW_PRIVATE_URLS); the scheme rules stay.

Callers: `integrations` (webhook subscriptions), `outreach.services.senders` (save time),
`outreach.channels.base.new_session` (platform calls, `platform_adapter`), and mail transports
(`check_host` before connecting, `check_peer` after, or `create_connection` for both: the SMTP
channel opens its sockets through `create_connection`, the IMAP reader checks the peer before STARTTLS
or the login).
"""

import ipaddress
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
MAX_HOST_LENGTH = 253


class UnsafeAddress(ValueError):
    """The address may not be connected to; the message says why, for the person who entered it."""


def _embedded_v4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, NAT64, 6to4, Teredo, IPv4-compatible)."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64 or address in NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if int(address) >> 32 == 0 and int(address) > 1:  # ::a.b.c.d, deprecated IPv4-compatible
        return ipaddress.IPv4Address(int(address))
    return None


def refusal(address: IPAddress, *, allow_loopback: bool = False, allow_private: bool = False) -> str:
    """Why connecting to this address is refused, or "" when it is allowed."""
    if allow_private:
        return ""
    inner = _embedded_v4(address)
    if inner is not None:
        why = refusal(inner, allow_loopback=allow_loopback)
        return f"{why} (inside {address})" if why else ""
    if address.is_loopback:
        return "" if allow_loopback else f"It leads to {address}, a loopback address (this server itself)."
    if address.is_link_local:
        return f"It leads to {address}, a link-local address (such as the cloud metadata service)."
    if address.is_private or not address.is_global or address.is_multicast or address.is_reserved:
        return f"It leads to {address}, a private, loopback or otherwise non-public address."
    return ""


_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")


def _legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in the spellings inet_aton (and so the resolver) accepts: 2130706433,
    0177.0.0.1, 0x7f.1, 127.1. None when the host is not one."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_PART.fullmatch(part) for part in parts):
        return None
    numbers = []
    for part in parts:
        if part[:2].lower() == "0x":
            numbers.append(int(part[2:] or "0", 16))
        elif part.startswith("0") and len(part) > 1:
            numbers.append(int(part, 8))
        else:
            numbers.append(int(part))
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        return None
    value = 0
    for number in leading:
        value = value << 8 | number
    value = value << 8 * (5 - len(numbers)) | last
    return ipaddress.IPv4Address(value)


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally (any spelling, IPv6 with or without brackets and zone id)."""
    bare = host.strip().strip("[]").split("%", 1)[0].rstrip(".")
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return _legacy_ipv4(bare)


def check_address(address: str, *, allow_loopback: bool = False, allow_private: bool = False) -> None:
    """Raise UnsafeAddress unless a (resolved or connected) address may be reached."""
    ip = literal_ip(address)
    if ip is None:
        raise UnsafeAddress(f"{address!r} is not an address.")
    why = refusal(ip, allow_loopback=allow_loopback, allow_private=allow_private)
    if why:
        raise UnsafeAddress(why)


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for the host, in its order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def check_host(
    host: str,
    port: int,
    *,
    allow_loopback: bool = False,
    allow_private: bool = False,
    resolve: Resolver | None = None,
) -> list[str]:
    """The addresses the host resolves to, all allowed; raises UnsafeAddress otherwise.

    A literal address (in any spelling) is judged as it is, without asking the resolver."""
    host = (host or "").strip().strip("[]")
    if not host:
        raise UnsafeAddress("It needs a host name.")
    if len(host) > MAX_HOST_LENGTH or any(ord(c) < 33 or c in "/\\@?#" for c in host):
        raise UnsafeAddress("The host name is not valid.")
    if not 0 < port < 65536:
        raise UnsafeAddress(f"Port {port} is not valid.")
    ip = literal_ip(host)
    if ip is not None:
        addresses = [str(ip)]
    else:
        try:
            addresses = (resolve or system_resolve)(host, port)
        except (OSError, UnicodeError, ValueError):
            raise UnsafeAddress(f"The host {host} cannot be resolved.") from None
        if not addresses:
            raise UnsafeAddress(f"The host {host} cannot be resolved.")
    for address in addresses:
        check_address(address, allow_loopback=allow_loopback, allow_private=allow_private)
    return addresses


DEFAULT_PORTS = {"http": 80, "https": 443, "smtp": 25, "smtps": 465, "imap": 143, "imaps": 993}


def check_url(
    url: str,
    *,
    allow_loopback: bool = False,
    allow_private: bool = False,
    schemes: tuple[str, ...] = ("http", "https"),
    resolve: Resolver | None = None,
) -> list[str]:
    """The addresses the URL's host resolves to, all allowed; raises UnsafeAddress otherwise."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    except ValueError as error:
        raise UnsafeAddress(f"It is not a valid URL ({error}).") from None
    if parts.scheme not in schemes:
        raise UnsafeAddress("Use " + " or ".join(f"{scheme}://" for scheme in schemes) + " URL.")
    if not parts.hostname:
        raise UnsafeAddress("The URL needs a host name.")
    if parts.username or parts.password:
        raise UnsafeAddress("Put no credentials in the URL.")
    return check_host(parts.hostname, port, allow_loopback=allow_loopback, allow_private=allow_private, resolve=resolve)


def check_peer(sock: socket.socket, *, allow_loopback: bool = False, allow_private: bool = False) -> None:
    """After connecting: the peer actually reached must be allowed too; the socket is closed if not."""
    try:
        check_address(sock.getpeername()[0], allow_loopback=allow_loopback, allow_private=allow_private)
    except UnsafeAddress:
        sock.close()
        raise


def create_connection(
    host: str,
    port: int,
    timeout: float | None = None,
    *,
    allow_loopback: bool = False,
    allow_private: bool = False,
    resolve: Resolver | None = None,
) -> socket.socket:
    """socket.create_connection for a user-set host (SMTP, IMAP): only checked addresses are tried,
    and the peer is checked again once connected."""
    addresses = check_host(host, port, allow_loopback=allow_loopback, allow_private=allow_private, resolve=resolve)
    error: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout=timeout)
        except OSError as failure:
            error = failure
            continue
        check_peer(sock, allow_loopback=allow_loopback, allow_private=allow_private)
        return sock
    raise error or OSError(f"cannot connect to {host}:{port}")


class RefusedAddress(requests.ConnectionError, UnsafeAddress):
    """A request refused at connect time: nothing was sent. Both an UnsafeAddress and a requests
    ConnectionError, so callers that handle transport errors handle it too."""


# --- requests: a connect-time check on every connection a session opens ---------------------------

Policy = Callable[[], dict]  # -> {"allow_loopback": bool, "allow_private": bool}, read at connect time


class _CheckedPeer:
    """A connection that refuses to talk once it sees where it actually connected."""

    policy: Policy = staticmethod(dict)

    def _new_conn(self):
        sock = super()._new_conn()
        if getattr(self, "proxy", None) is None:  # through a proxy, the peer is the proxy
            check_peer(sock, **self.policy())
        return sock


def _pool_classes(policy: Policy) -> dict:
    attrs = {"policy": staticmethod(policy)}
    http = type("CheckedHTTPConnection", (_CheckedPeer, HTTPConnection), attrs)
    https = type("CheckedHTTPSConnection", (_CheckedPeer, HTTPSConnection), attrs)
    return {
        "http": type("CheckedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
        "https": type("CheckedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https}),
    }


class GuardedAdapter(HTTPAdapter):
    """requests' adapter that checks each request's host before sending and the connected peer's
    address on every new connection; no retries of its own."""

    def __init__(self, policy: Policy = dict, *, source_address: str = "", **kwargs):
        self.policy = policy
        self.source_address = source_address  # the local address to connect from (a multi-homed host)
        kwargs.setdefault("max_retries", 0)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        if getattr(self, "source_address", ""):
            kwargs.setdefault("source_address", (self.source_address, 0))
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        """Through a proxy the peer is the proxy, so the destination's name is resolved and checked
        here; a direct connection is checked at connect time (no extra lookup per request)."""
        try:
            if select_proxy(request.url, proxies):
                check_url(request.url, **self.policy())
            return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies)
        except UnsafeAddress as error:
            raise RefusedAddress(str(error), request=request) from None


def platform_policy() -> dict:
    """Platform APIs: public addresses only; loopback too with ALLOW_INSECURE_PLATFORM_URLS (the sandbox)."""
    return {"allow_loopback": bool(settings.ALLOW_INSECURE_PLATFORM_URLS)}


def webhook_policy() -> dict:
    """Outbound webhooks: public addresses only, unless WEBHOOKS_ALLOW_PRIVATE_URLS says otherwise."""
    return {"allow_private": bool(settings.WEBHOOKS_ALLOW_PRIVATE_URLS)}


def platform_adapter() -> GuardedAdapter:
    return GuardedAdapter(platform_policy)


def webhook_adapter() -> GuardedAdapter:
    return GuardedAdapter(webhook_policy)


def guard_session(session, policy: Policy = platform_policy, *, pool_size: int = 10, source_address: str = ""):
    """Mount the guard on both schemes of a requests Session (keeping `pool_size` connections per
    host, connecting from `source_address` when given); returns the session."""
    adapter = GuardedAdapter(
        policy, pool_connections=4 if pool_size != 10 else 10, pool_maxsize=pool_size, source_address=source_address
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
