"""Who may be believed: a DKIM signature aligned with From, verified by dkimpy against our own test
key published in a DNS stub (never the network), or a trusted gateway's Authentication-Results."""

from email import policy
from email.parser import BytesParser

import pytest
from django.utils import timezone
from django_q.conf import Conf

from crm.models import PermissionRequest
from outreach.mail import trust
from outreach.models import ConversationMessage, OutreachMessage
from tests.factories import CreatorFactory, PermissionRequestFactory
from tests.fakes.dkim import DnsStub, keys, sign
from tests.mail.helpers import BRAND, CREATOR, GATEWAY, authenticated, reply
from tests.outreach.factories import SenderAccountFactory


@pytest.fixture
def dns(monkeypatch):
    stub = DnsStub().publish("creator.example").publish("attacker.example", key=keys("attacker"))
    monkeypatch.setattr(trust, "dns_lookup", stub)
    return stub


def verdict(raw: bytes, trusted=()):
    message = BytesParser(policy=policy.default).parsebytes(raw)
    return trust.authenticity(raw, message, CREATOR, trusted)


def test_an_aligned_signature_authenticates(dns, settings):
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = []
    found = verdict(sign(reply("#YesAcme"), domain="creator.example"))
    assert found == trust.Trust(True, "dkim d=creator.example")
    assert "test._domainkey.creator.example" in dns.lookups


@pytest.mark.parametrize(
    "make",
    [
        lambda raw: sign(raw, domain="attacker.example", key=keys("attacker")),  # valid, but not From's domain
        lambda raw: sign(raw, domain="creator.example", key=keys("attacker")),  # From's domain, wrong key
        lambda raw: sign(raw, domain="creator.example").replace(b"#YesAcme", b"#NoAcme!"),  # changed after signing
    ],
    ids=["unaligned", "wrong-key", "tampered"],
)
def test_anything_else_does_not(dns, settings, make):
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = []
    found = verdict(make(reply("#YesAcme")))
    assert not found.authenticated
    assert "DKIM signature does not verify or is not aligned" in found.how


def test_a_gateways_results_count_only_when_it_is_trusted(dns, settings):
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = [GATEWAY]
    assert verdict(authenticated(reply("x"))).authenticated
    assert not verdict(authenticated(reply("x"), "mx.elsewhere.example")).authenticated
    assert verdict(authenticated(reply("x"), "imap.acme.example"), trusted=("imap.acme.example",)).authenticated


@pytest.mark.django_db
def test_a_signed_answer_to_our_email_grants_through_the_webhook(
    client, dns, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_WEBHOOK_SECRET, settings.EMAIL_TRUSTED_AUTHSERV_IDS = "mail-secret", []
    monkeypatch.setattr(Conf, "SYNC", True)
    creator = CreatorFactory(email=CREATOR)
    request = PermissionRequestFactory(content__creator=creator, requested=True)
    OutreachMessage.objects.create(
        permission_request=request, creator=creator, sender_account=SenderAccountFactory(platform="email",
        variant="", account_id=BRAND), platform="email", rendered_text="Reply #YesAcme", status="sent",
        sent_at=timezone.now(), provider_message_id="<outreach-1@acme.example>",
    )  # fmt: skip
    raw = sign(reply("Yes #YesAcme", in_reply_to="<outreach-1@acme.example>"), domain="creator.example")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/webhooks/email/", raw, content_type="message/rfc822", HTTP_X_WEBHOOK_SECRET="mail-secret")
    assert ConversationMessage.objects.get().classification == "granted"
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.GRANTED
