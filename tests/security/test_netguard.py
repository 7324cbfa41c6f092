"""One address guard (core.netguard) for every outbound address a user can set: webhook URLs,
sender accounts' platform URLs, SMTP hosts; at save time and again at connect time.

No test resolves a real name: literal addresses, `localhost`, or a resolver passed in."""

import pytest
import requests
from django.utils import timezone

from core import netguard
from crm import events
from crm.errors import DomainError
from integrations import services as hooks
from outreach import services, worker
from outreach.channels import email
from outreach.channels.base import MailServer, Outbound, Outcome, SenderConfig, new_session
from outreach.models import Conversation, OutreachMessage
from tests.api.conftest import api_for
from tests.factories import CampaignFactory, CampaignMemberFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

INTERNAL = [
    "127.0.0.1",
    "127.0.0.53",
    "10.1.2.3",
    "172.16.0.5",
    "192.168.1.20",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "[::1]",
    "[::]",
    "[fd00:ec2::254]",  # AWS metadata over IPv6
    "[fe80::1%25eth0]",  # link-local with a zone id
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:7f00:1]",
    "[::ffff:169.254.169.254]",
    "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
    "[64:ff9b:1::a00:1]",  # local-use NAT64 of 10.0.0.1
    "[2002:7f00:1::]",  # 6to4 of 127.0.0.1
    "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
    "[::127.0.0.1]",  # IPv4-compatible
    "2130706433",  # decimal
    "0177.0.0.1",  # octal
    "0x7f000001",  # hex
    "0x7f.0.0.1",
    "127.1",  # short
    "0",
    "017700000001",
    "127.0.0.1.",  # trailing dot
    "localhost",  # a name resolving to loopback (/etc/hosts, no DNS)
]


@pytest.mark.parametrize("host", INTERNAL)
def test_internal_addresses_are_refused_in_every_spelling(host):
    with pytest.raises(netguard.UnsafeAddress):
        netguard.check_url(f"https://{host}/x")


@pytest.mark.parametrize("address", ["8.8.8.8", "[2606:4700:4700::1111]", "[64:ff9b::808:808]", "[2002:808:808::1]"])
def test_public_addresses_pass_even_wrapped_in_ipv6(address):
    assert netguard.check_url(f"https://{address}/")


def test_names_are_judged_by_every_address_they_resolve_to():
    def resolver(answers):
        return lambda host, port: answers[host]

    answers = {"good.example": ["93.184.215.14"], "mixed.example": ["93.184.215.14", "10.0.0.1"]}
    assert netguard.check_url("https://good.example/", resolve=resolver(answers)) == ["93.184.215.14"]
    with pytest.raises(netguard.UnsafeAddress, match=r"10\.0\.0\.1"):
        netguard.check_url("https://mixed.example/", resolve=resolver(answers))
    with pytest.raises(netguard.UnsafeAddress, match="cannot be resolved"):
        netguard.check_url("https://nothing.example/", resolve=lambda host, port: [])


def test_loopback_can_be_opened_alone_and_private_lifts_everything():
    assert netguard.check_url("http://127.0.0.1:8700/", allow_loopback=True) == ["127.0.0.1"]
    assert netguard.check_url("http://[::ffff:127.0.0.1]/", allow_loopback=True)
    for host in ("10.0.0.1", "169.254.169.254", "[fd00:ec2::254]", "192.168.0.1"):
        with pytest.raises(netguard.UnsafeAddress):
            netguard.check_url(f"http://{host}/", allow_loopback=True)
    assert netguard.check_url("http://10.0.0.1/", allow_private=True)
    with pytest.raises(netguard.UnsafeAddress):
        netguard.check_url("gopher://10.0.0.1/", allow_private=True)


@pytest.mark.parametrize(
    "url", ["https://user:pw@8.8.8.8/", "https://[::1/", "file:///etc/passwd", "https:///x", "https://8.8.8.8:99999/"]
)
def test_malformed_urls_are_refused_not_crashed(url):
    with pytest.raises(netguard.UnsafeAddress):
        netguard.check_url(url)


def test_check_host_for_mail_servers():
    assert netguard.check_host("8.8.8.8", 587) == ["8.8.8.8"]
    with pytest.raises(netguard.UnsafeAddress):
        netguard.check_host("0x7f000001", 25)
    with pytest.raises(netguard.UnsafeAddress):
        netguard.check_host("mail.example", 25, resolve=lambda host, port: ["169.254.169.254"])
    with pytest.raises(netguard.UnsafeAddress):
        netguard.check_host("evil.example\r\nRCPT TO:<x>", 25)


def test_create_connection_connects_only_to_checked_addresses(smtp_sink):
    port = int(smtp_sink.url.rsplit(":", 1)[1])
    with pytest.raises(netguard.UnsafeAddress):
        netguard.create_connection("127.0.0.1", port, timeout=1)
    sock = netguard.create_connection("127.0.0.1", port, timeout=1, allow_loopback=True)
    sock.close()


# --- sender accounts: at save time (API and pages) and at connect time -----------------------------


@pytest.fixture
def strict(settings):
    settings.ALLOW_INSECURE_PLATFORM_URLS = False
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["https://169.254.169.254/", "https://[::ffff:10.0.0.1]/", "https://0x7f000001/", "https://localhost/"]
)
def test_a_sender_account_cannot_point_inside(strict, alice, url):
    with pytest.raises(DomainError) as refused:
        services.connect_sender(actor=alice, name="x", platform="x", account_id="1", api_base_url=url)
    assert list(refused.value.errors) == ["api_base_url"]


@pytest.mark.django_db
def test_an_email_sender_cannot_point_inside(strict, alice):
    for url in ("smtp://127.1:25", "smtps://[64:ff9b::a9fe:a9fe]:465", "smtp://10.0.0.2:587"):
        with pytest.raises(DomainError) as refused:
            services.connect_sender(actor=alice, name="m", platform="email", account_id="a@b.example", api_base_url=url)
        assert list(refused.value.errors) == ["api_base_url"]


@pytest.mark.django_db
def test_the_sandbox_setting_opens_loopback_only(settings, alice):
    settings.ALLOW_INSECURE_PLATFORM_URLS = True
    assert services.sender_settings_problems("x", "", "http://127.0.0.1:8701") == {}
    assert "api_base_url" in services.sender_settings_problems("x", "", "http://10.0.0.5:8080")
    assert "api_base_url" in services.sender_settings_problems("x", "", "http://169.254.169.254/")


@pytest.mark.django_db
def test_the_api_and_the_pages_refuse_an_inside_address(strict, alice, client):
    answer = api_for(alice).post(
        "/api/v1/sender-accounts/",
        {"name": "x", "platform": "x", "account_id": "1", "api_base_url": "https://[64:ff9b::7f00:1]/"},
    )
    assert answer.status_code == 400 and list(answer.json()) == ["api_base_url"]


def test_a_platform_session_refuses_loopback_at_connect_time(strict, fake_meta):
    """Saved while the sandbox setting was on, called after it is off: refused when connecting,
    nothing reaches the fake."""
    with new_session(fake_meta.url) as session, pytest.raises(netguard.RefusedAddress):
        session.get(fake_meta.url + "/v25.0/me", timeout=2)
    with new_session() as session, pytest.raises(requests.ConnectionError):  # a transport error to adapters
        session.get(fake_meta.url.replace("127.0.0.1", "localhost") + "/v25.0/me", timeout=2)


def test_the_connected_peer_is_what_is_checked(settings, fake_meta):
    """The name `localhost` passes nothing at save time here; what counts is where the socket went."""
    settings.ALLOW_INSECURE_PLATFORM_URLS = True
    with new_session(fake_meta.url) as session:
        assert session.get(fake_meta.url.replace("127.0.0.1", "localhost") + "/healthz", timeout=2).status_code < 500


@pytest.mark.django_db
def test_the_worker_fails_a_message_to_a_refused_address_without_sending(settings, fake_meta, alice):
    sender = SenderAccountFactory(
        platform="instagram",
        variant="instagram_login",
        account_id=IG_ACCOUNT,
        token=IG_TOKEN,
        api_base_url=fake_meta.url,
    )
    campaign = CampaignFactory(owner=alice, brand="Acme")
    member = CampaignMemberFactory(campaign=campaign)
    account = SocialAccountFactory(creator=member.creator, platform="instagram", platform_user_id="9001")
    Conversation.objects.create(
        creator=member.creator, platform="instagram", social_account=account, last_inbound_at=timezone.now()
    )
    fake_meta.user_wrote(IG_ACCOUNT, "9001")
    services.launch_campaign(campaign, actor=alice, sender_account=sender, template=MessageTemplateFactory(body="Hi"))
    settings.ALLOW_INSECURE_PLATFORM_URLS = False  # the address is refused from now on

    worker.send_due(sender.pk)

    message = OutreachMessage.objects.get(creator=member.creator)
    assert message.status == "failed" and "loopback" in message.error_message
    assert fake_meta.sent(IG_ACCOUNT) == []


# --- webhook subscriptions keep their own setting ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["[64:ff9b::a9fe:a9fe]", "[2002:a00:1::]", "0177.0.0.1", "127.1", "[fd00:ec2::254]"])
def test_webhook_urls_go_through_the_same_guard(settings, alice, host):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(DomainError) as refused:
        hooks.create_subscription(actor=alice, url=f"http://{host}/hooks", events_wanted=[events.CONSENT_GRANTED])
    assert list(refused.value.errors) == ["url"]


def test_an_smtp_host_that_rebinds_to_loopback_between_check_and_connect_is_refused(strict, smtp_sink, monkeypatch):
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # public when checked, loopback when connecting
    monkeypatch.setattr(netguard, "system_resolve", lambda host, port: next(answers))
    server = MailServer("mail.rebind.example", smtp_sink.port, "none", "", "")
    message = Outbound(recipient_id="maya@creator.example", text="Hi", subject="Hi", unsubscribe_url="https://u/1")
    result = email.build(SenderConfig("email", "", "partners@brand.example", smtp=server, timeout=(1, 1))).send(message)
    assert (result.outcome, result.error_code) == (Outcome.REJECTED, "refused_address")
    assert "loopback" in result.error_message
    assert smtp_sink.messages == []


def test_the_smtp_backend_connects_through_the_guard(strict, smtp_sink):
    backend = email.smtp_connection(MailServer(smtp_sink.host, smtp_sink.port, "none", "", ""), timeout=1)
    with pytest.raises(netguard.UnsafeAddress):
        backend.open()
    strict.ALLOW_INSECURE_PLATFORM_URLS = True
    assert backend.open() is True
    backend.close()
