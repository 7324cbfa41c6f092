"""Email senders' own mailbox settings: SMTP credentials live in encrypted, write-only fields (no
longer in the URL), a migration moves the old ones, and neither the API nor the pages print them."""

import importlib
import io

import pytest
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.core.management import call_command
from rest_framework.test import APIClient

from core import netguard
from outreach.channels import email
from outreach.channels.base import MailServer, Outbound, Outcome, SenderConfig
from outreach.models import SenderAccount
from outreach.sandbox.smtp import SmtpSink
from outreach.worker import sender_config

BRAND = "partners@acme.example"
PUBLIC = "93.184.215.14"  # a public address: what the test mail servers' names "resolve" to


@pytest.fixture(autouse=True)
def mail_names(monkeypatch):
    """The address guard resolves the mail servers' names; here without DNS (tests use no network)."""
    real = netguard.system_resolve
    monkeypatch.setattr(
        netguard, "system_resolve", lambda host, port: [PUBLIC] if host.endswith(".acme.example") else real(host, port)
    )


def test_a_mail_server_on_a_private_address_is_refused_at_save_and_at_connect(monkeypatch, db, settings):
    from crm.errors import DomainError
    from outreach.services import senders

    monkeypatch.setattr(netguard, "system_resolve", lambda host, port: ["10.0.0.5"])
    with pytest.raises(DomainError) as refused:
        senders.connect_sender(actor=None, name="M", platform="email", account_id=BRAND, imap_host="imap.evil.example")
    assert "imap_host" in refused.value.errors
    settings.ALLOW_INSECURE_PLATFORM_URLS = False
    config = SenderConfig(
        platform="email", base_url="", account_id=BRAND, smtp=MailServer("smtp.evil.example", 587, "starttls", "u", "p")
    )
    result = email.build(config).send(
        Outbound(recipient_id="maya@creator.example", text="Hi", unsubscribe_url="https://x/u")
    )
    assert (result.outcome, result.error_code) == (Outcome.REJECTED, "refused_address")


move = importlib.import_module("outreach.migrations.0015_smtp_credentials_out_of_url_and_mailbox_schedule")


def outbound(**fields):
    values = {"recipient_id": "maya@creator.example", "text": "Hi", "subject": "Hi", "unsubscribe_url": "https://u/1"}
    return Outbound(**{**values, **fields})


def test_the_channel_logs_in_with_the_mailbox_credentials():
    with SmtpSink(users={"partners": "app-password"}) as sink:
        server = MailServer(sink.host, sink.port, "none", "partners", "app-password")
        result = email.build(SenderConfig("email", "", BRAND, smtp=server, timeout=(1, 1))).send(outbound())
        wrong = MailServer(sink.host, sink.port, "none", "partners", "wrong")
        refused = email.build(SenderConfig("email", "", BRAND, smtp=wrong, timeout=(1, 1))).send(outbound())
    assert result.outcome == Outcome.SENT
    assert len(sink.messages) == 1
    assert refused.outcome == Outcome.AUTH_BROKEN


def test_a_password_is_never_in_the_servers_repr():
    assert "app-password" not in repr(MailServer("smtp.example", 587, "starttls", "me", "app-password"))


def test_a_request_email_carries_its_reply_address(smtp_sink):
    config = SenderConfig("email", smtp_sink.url, BRAND, timeout=(1, 1))
    email.build(config).send(outbound(reply_to_address="partners+pr12@acme.example", reply_to_message_id="<a@b>"))
    [mail] = smtp_sink.messages
    assert mail["Reply-To"] == "partners+pr12@acme.example"
    assert mail["In-Reply-To"] == "<a@b>"


@pytest.mark.django_db
def test_the_migration_moves_credentials_out_of_the_url_and_encrypts_the_password():
    sender = SenderAccount.objects.create(
        name="Old",
        platform="email",
        account_id=BRAND,
        api_base_url="smtp://partners%40acme.example:s%3Acret@mail.acme.example:2525",
    )
    move.move_credentials(django_apps, None)
    sender.refresh_from_db()
    assert sender.api_base_url == "smtp://mail.acme.example:2525"
    assert (sender.smtp_host, sender.smtp_port, sender.smtp_username) == (
        "mail.acme.example",
        2525,
        "partners@acme.example",
    )
    assert sender.smtp_password == "s:cret"
    assert "s:cret" not in sender.smtp_password_encrypted
    assert sender_config(sender).smtp == MailServer("mail.acme.example", 2525, "", "partners@acme.example", "s:cret")


@pytest.mark.django_db
def test_the_api_takes_mailbox_passwords_but_never_returns_them(client, alice):
    api = APIClient()
    api.force_authenticate(alice)
    response = api.post(
        "/api/v1/sender-accounts/",
        {
            "name": "Partners mailbox",
            "platform": "email",
            "account_id": BRAND,
            "smtp_host": "smtp.acme.example",
            "smtp_port": 587,
            "smtp_security": "starttls",
            "smtp_username": BRAND,
            "smtp_password": "smtp-secret-1",
            "imap_host": "imap.acme.example",
            "imap_security": "ssl",
            "imap_password": "imap-secret-2",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.content.decode()
    assert "smtp-secret-1" not in body and "imap-secret-2" not in body
    assert response.json()["has_smtp_password"] is True and response.json()["has_imap_password"] is True
    sender = SenderAccount.objects.get(pk=response.json()["id"])
    assert (sender.smtp_password, sender.imap_password) == ("smtp-secret-1", "imap-secret-2")
    listed = api.get(f"/api/v1/sender-accounts/{sender.pk}/").content.decode()
    assert "secret" not in listed

    in_url = api.patch(
        f"/api/v1/sender-accounts/{sender.pk}/", {"api_base_url": "smtp://u:pw@smtp.acme.example"}, format="json"
    )
    assert in_url.status_code == 400
    assert "api_base_url" in in_url.json()
    bad_port = api.patch(f"/api/v1/sender-accounts/{sender.pk}/", {"imap_port": 70000}, format="json")
    assert bad_port.status_code == 400 and "imap_port" in bad_port.json()
    other = api.post(
        "/api/v1/sender-accounts/",
        {"name": "IG", "platform": "instagram", "account_id": "1", "imap_host": "imap.acme.example"},
        format="json",
    )
    assert other.status_code == 400 and "imap_host" in other.json()


@pytest.mark.django_db
def test_a_mailbox_without_tls_is_refused_outside_the_sandbox(alice, settings):
    settings.ALLOW_INSECURE_PLATFORM_URLS = False
    api = APIClient()
    api.force_authenticate(alice)
    body = {"name": "M", "platform": "email", "account_id": BRAND, "imap_host": "imap.acme.example"}
    refused = api.post("/api/v1/sender-accounts/", {**body, "imap_security": "none"}, format="json")
    assert refused.status_code == 400 and "imap_security" in refused.json()
    assert api.post("/api/v1/sender-accounts/", {**body, "imap_security": "ssl"}, format="json").status_code == 201


@pytest.mark.django_db
def test_the_connect_page_takes_a_mailbox_and_never_shows_its_passwords(client, alice):
    client.force_login(alice)
    data = {
        "name": "Partners mailbox", "platform": "email", "account_id": BRAND,
        "smtp_host": "smtp.acme.example", "smtp_port": "587", "smtp_security": "starttls", "smtp_username": BRAND,
        "smtp_password": "page-smtp-secret", "imap_host": "imap.acme.example", "imap_security": "ssl",
        "imap_password": "page-imap-secret",
    }  # fmt: skip
    refused = client.post("/sender-accounts/connect/", {**data, "imap_port": "99999"})
    assert refused.status_code == 200 and "page-imap-secret" not in refused.content.decode()
    response = client.post("/sender-accounts/connect/", data, follow=True)
    sender = SenderAccount.objects.get()
    assert (sender.smtp_password, sender.imap_password) == ("page-smtp-secret", "page-imap-secret")
    page = response.content.decode()
    assert "secret" not in page and "Mailbox not read yet" in page


@pytest.mark.django_db
def test_key_rotation_re_encrypts_the_mailbox_passwords(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    sender = SenderAccount(name="M", platform="email", account_id=BRAND, smtp_host="s", imap_host="i")
    sender.set_smtp_password("smtp-pw")
    sender.set_imap_password("imap-pw")
    sender.save()
    settings.ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.ENCRYPTION_KEYS = [new]
    sender.refresh_from_db()
    assert (sender.smtp_password, sender.imap_password) == ("smtp-pw", "imap-pw")
