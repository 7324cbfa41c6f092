"""Webhook URLs into the server's own network are refused, at registration, before each delivery and
at the moment of connecting. No traffic leaves loopback: refused addresses are never connected to."""

import pytest
import requests

from crm import events
from crm.errors import DomainError
from integrations import delivery, services, ssrf
from integrations.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_urls_refused(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.0.0.1/hooks",
        "http://192.168.1.20/hooks",
        "http://172.16.0.5/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/",
        "http://100.64.0.1/",  # carrier-grade NAT
        "http://224.0.0.1/",  # multicast
        "http://2130706433/",  # 127.0.0.1 as one number
    ],
)
def test_private_loopback_and_other_non_public_addresses_are_refused(alice, url):
    with pytest.raises(DomainError) as refused:
        services.create_subscription(actor=alice, url=url, events_wanted=[events.CONSENT_GRANTED])
    assert list(refused.value.errors) == ["url"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/hooks", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("https://user:pass@example.com/hooks", "no credentials"),
        ("https://no-such-host.invalid/hooks", "cannot be resolved"),
    ],
)
def test_other_unusable_urls_are_refused_with_the_reason(alice, url, words):
    with pytest.raises(DomainError) as refused:
        services.create_subscription(actor=alice, url=url, events_wanted=[events.CONSENT_GRANTED])
    assert words in refused.value.errors["url"][0]


def test_a_public_address_is_accepted():
    assert ssrf.check_url("https://93.184.215.14/hooks") == ["93.184.215.14"]  # resolved only, never called


def test_the_setting_allows_loopback_for_tests(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    assert ssrf.check_url("http://127.0.0.1:8000/hooks") == ["127.0.0.1"]
    with pytest.raises(ssrf.UnsafeUrl):
        ssrf.check_url("gopher://127.0.0.1/")  # the scheme rule stays


def test_an_address_that_became_private_is_refused_at_delivery_without_connecting(receiver, subscribe, settings):
    subscription, _ = subscribe([events.REPLY_RECEIVED])  # registered while loopback was allowed
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    event = WebhookEvent.objects.create(type="reply.received", payload={"id": "x", "data": {}})
    row = WebhookDelivery.objects.create(subscription=subscription, event=event)
    assert delivery.deliver(row.pk) == "pending"
    row.refresh_from_db()
    assert row.error.startswith("Refused: It leads to 127.0.0.1")
    assert receiver.received == []


def test_the_connected_peer_is_checked_too(receiver, settings):
    """The address actually connected to is checked, so a host that resolves elsewhere at the
    check than at the connection (DNS rebinding) gains nothing."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with requests.Session() as session:
        session.mount("http://", ssrf.GuardedAdapter())
        with pytest.raises(ssrf.UnsafeUrl):
            session.post(receiver.url, data=b"{}", timeout=2)
    assert receiver.received == []
