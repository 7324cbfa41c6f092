"""DKIM for tests without a network: sign with a generated key, answer the key's DNS TXT lookup from a stub.

The mailbox channel trusts a reply only when it is authenticated: a DKIM signature aligned with From
(checked with dkimpy) or an Authentication-Results header from a trusted gateway (parsed with
authres). These helpers make such messages for real, so tests verify real signatures:

    signed = sign(raw, domain="creator.example")             # selector "test", the default key
    dns = DnsStub().publish("creator.example")                # TXT for test._domainkey.creator.example
    assert dkim.verify(signed, dnsfunc=dns)

Keys are RSA-2048, generated once per process per name (`keys("attacker")` is another pair).
`dns_stub` is a fixture with the default key published for CREATOR_DOMAIN.
"""

import base64
import functools
from dataclasses import dataclass

import authres
import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CREATOR_DOMAIN = "creator.example"
SELECTOR = "test"


@dataclass(frozen=True)
class KeyPair:
    """An RSA key as dkimpy signs with it (PKCS#1 PEM) and as DNS publishes it (the TXT record)."""

    private_pem: bytes
    public_b64: str

    @property
    def txt_record(self) -> bytes:
        return f"v=DKIM1; k=rsa; p={self.public_b64}".encode()


@functools.cache
def keys(name: str = "default") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(private_pem=private_pem, public_b64=base64.b64encode(public_der).decode())


def sign(
    raw: bytes,
    domain: str = CREATOR_DOMAIN,
    selector: str = SELECTOR,
    key: KeyPair | None = None,
    include_headers: list[bytes] | None = None,
) -> bytes:
    """The message with a DKIM-Signature header (d=`domain`, s=`selector`) prepended, as a sending
    server adds it. By default From, To, Subject, Date, Message-ID and the rest dkimpy signs are covered."""
    signature = dkim.sign(
        raw,
        selector.encode(),
        domain.encode(),
        (key or keys()).private_pem,
        include_headers=include_headers,
    )
    return signature + raw


class DnsStub:
    """A `dnsfunc` for dkim.verify: answers TXT lookups from `records`, and nothing else (None, as
    for NXDOMAIN). `lookups` lists the names asked for."""

    def __init__(self):
        self.records: dict[str, bytes] = {}
        self.lookups: list[str] = []

    def publish(self, domain: str, selector: str = SELECTOR, key: KeyPair | None = None) -> "DnsStub":
        self.records[f"{selector}._domainkey.{domain}".lower()] = (key or keys()).txt_record
        return self

    def set_txt(self, name: str, value: bytes) -> "DnsStub":
        self.records[name.rstrip(".").lower()] = value
        return self

    def __call__(self, name, timeout: float = 5):
        name = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        self.lookups.append(name)
        return self.records.get(name)


def authentication_results(authserv_id: str, dkim_result: str = "pass", header_d: str = CREATOR_DOMAIN) -> bytes:
    """An `Authentication-Results:` header line (CRLF-terminated) as a gateway `authserv_id` adds it,
    built with authres; prepend it to a raw message."""
    header = authres.AuthenticationResultsHeader(
        authserv_id=authserv_id,
        results=[authres.DKIMAuthenticationResult(result=dkim_result, header_d=header_d, header_s=SELECTOR)],
    )
    return str(header).encode() + b"\r\n"


@pytest.fixture
def dns_stub():
    return DnsStub().publish(CREATOR_DOMAIN)
