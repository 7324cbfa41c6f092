"""The DKIM test helpers produce signatures dkimpy really verifies, offline, and really rejects."""

import authres
import dkim

from tests.fakes.dkim import CREATOR_DOMAIN, DnsStub, authentication_results, keys, sign

RAW = (
    b"From: Creator <creator@creator.example>\r\n"
    b"To: manager@brand.example\r\n"
    b"Subject: Re: can we repost your video?\r\n"
    b"Message-ID: <reply-1@creator.example>\r\n"
    b"Date: Wed, 02 Dec 2026 05:00:00 +0000\r\n"
    b"\r\n"
    b"Yes, you may repost it.\r\n"
)


def test_a_signed_message_verifies_and_a_tampered_one_does_not(dns_stub):
    signed = sign(RAW)
    assert signed.startswith(b"DKIM-Signature: ")
    assert dkim.verify(signed, dnsfunc=dns_stub)
    assert dns_stub.lookups == [f"test._domainkey.{CREATOR_DOMAIN}"]

    assert not dkim.verify(signed.replace(b"Yes, you may", b"No, you may not"), dnsfunc=dns_stub)
    assert not dkim.verify(signed.replace(b"Subject: Re:", b"Subject: Fwd:"), dnsfunc=dns_stub)


def test_a_signature_from_another_key_or_an_unpublished_domain_fails():
    dns = DnsStub().publish(CREATOR_DOMAIN)
    assert not dkim.verify(sign(RAW, key=keys("attacker")), dnsfunc=dns)
    assert not dkim.verify(sign(RAW, domain="unknown.example"), dnsfunc=dns)
    assert not dkim.verify(RAW, dnsfunc=dns)  # no signature at all


def test_authentication_results_header_round_trips_through_authres():
    header = authentication_results("mx.brand.example", "pass", header_d=CREATOR_DOMAIN)
    parsed = authres.AuthenticationResultsHeader.parse(header.decode().strip())
    assert parsed.authserv_id == "mx.brand.example"
    assert [(r.method, r.result, r.header_d) for r in parsed.results] == [("dkim", "pass", CREATOR_DOMAIN)]
