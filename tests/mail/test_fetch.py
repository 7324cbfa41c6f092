"""Reading a real mailbox (Dovecot on loopback, tests.fakes.imap) with the product's fetch: replies
reach the conversation with no gateway, nothing is read twice or missed across restarts and a new
UIDVALIDITY, the Sent folder's mail threads as ours, and a wrong password or a dead server shows on
the account (and a refused login opens its breaker)."""

import pytest
from django.utils import timezone
from django_q.conf import Conf

from crm.models import PermissionRequest
from outreach import mailbox as fetch
from outreach.mail.health import mailbox_states
from outreach.models import ConversationMessage, InboundEvent, MailboxFolder, OutreachMessage, SenderAccount
from tests.factories import CreatorFactory, PermissionRequestFactory
from tests.mail.helpers import BRAND, CREATOR, authenticated, reply

pytestmark = pytest.mark.django_db
PASSWORD = "mailbox-app-password"
AUTHSERV = "imap.acme.example"


@pytest.fixture(autouse=True)
def synchronous(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def mailbox(dovecot):
    dovecot.add_user(BRAND, PASSWORD)
    sender = SenderAccount.objects.create(
        name="Partners mailbox",
        platform="email",
        account_id=BRAND,
        imap_host=dovecot.host,
        imap_port=dovecot.port,
        imap_security="none",
        imap_username=BRAND,
        imap_authserv_id=AUTHSERV,
    )
    sender.set_imap_password(PASSWORD)
    sender.save()
    return sender


@pytest.fixture
def asked():
    creator = CreatorFactory(email=CREATOR)
    request = PermissionRequestFactory(content__creator=creator, requested=True)
    return request


def run(sender, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return fetch.fetch_mailbox(SenderAccount.objects.get(pk=sender.pk))


def sent_request(sender, request, message_id="<outreach-9@acme.example>"):
    return OutreachMessage.objects.create(
        permission_request=request, creator=request.creator, sender_account=sender, platform="email",
        rendered_text="Reply #YesAcme to let us share your post", status="sent", sent_at=timezone.now(),
        recipient_id=CREATOR, provider_message_id=message_id,
    )  # fmt: skip


def test_a_reply_in_the_inbox_reaches_the_conversation_without_a_gateway(
    dovecot,
    mailbox,
    asked,
    django_capture_on_commit_callbacks,
):
    ours = sent_request(mailbox, asked)
    dovecot.deliver(BRAND, authenticated(reply("Yes! #YesAcme", in_reply_to=ours.provider_message_id), AUTHSERV))
    report = run(mailbox, django_capture_on_commit_callbacks)
    assert report.stored == 1
    message = ConversationMessage.objects.get()
    assert (message.direction, message.text, message.conversation.creator) == ("in", "Yes! #YesAcme", asked.creator)
    assert message.classification == "granted"  # the mailbox's own server vouched for the sender
    asked.refresh_from_db()
    assert asked.status == PermissionRequest.Status.GRANTED
    mailbox.refresh_from_db()
    assert mailbox.mailbox_checked_at is not None and mailbox.mailbox_error == ""
    [state] = mailbox_states()
    assert state["ok"] is True and state["error"] is None


def test_an_authentication_result_from_another_server_is_not_believed(
    dovecot,
    mailbox,
    asked,
    django_capture_on_commit_callbacks,
):
    ours = sent_request(mailbox, asked)
    raw = authenticated(reply("#YesAcme", in_reply_to=ours.provider_message_id), "mx.attacker.example")
    dovecot.deliver(BRAND, raw)
    run(mailbox, django_capture_on_commit_callbacks)
    assert ConversationMessage.objects.get().classification == "needs_review"


def test_nothing_is_read_twice_and_nothing_missed_after_a_restart(
    dovecot,
    mailbox,
    asked,
    django_capture_on_commit_callbacks,
):
    dovecot.deliver(BRAND, reply("first", message_id="<m1@creator.example>"))
    run(mailbox, django_capture_on_commit_callbacks)
    dovecot.deliver(BRAND, reply("second", message_id="<m2@creator.example>"))
    dovecot.deliver(BRAND, reply("third", message_id="<m3@creator.example>"))
    second = run(mailbox, django_capture_on_commit_callbacks)  # a new process: state comes from the database
    third = run(mailbox, django_capture_on_commit_callbacks)
    assert (second.fetched, third.fetched) == (2, 0)
    assert list(ConversationMessage.objects.order_by("id").values_list("text", flat=True)) == [
        "first",
        "second",
        "third",
    ]
    inbox = MailboxFolder.objects.get(sender_account=mailbox, name="INBOX")
    assert inbox.last_uid == 3 and inbox.uidvalidity == dovecot.status(BRAND)["UIDVALIDITY"]


def test_a_new_uidvalidity_rereads_without_duplicates(dovecot, mailbox, asked, django_capture_on_commit_callbacks):
    first = reply("before the migration", message_id="<before@creator.example>")
    dovecot.deliver(BRAND, first)
    run(mailbox, django_capture_on_commit_callbacks)
    old = MailboxFolder.objects.get(sender_account=mailbox, name="INBOX").uidvalidity
    dovecot.reset_uidvalidity(BRAND)
    dovecot.deliver(BRAND, first)  # the server migration brought the old message along
    dovecot.deliver(BRAND, reply("after the migration", message_id="<after@creator.example>"))
    report = run(mailbox, django_capture_on_commit_callbacks)
    inbox = MailboxFolder.objects.get(sender_account=mailbox, name="INBOX")
    assert inbox.uidvalidity != old
    assert report.fetched == 2 and report.stored == 1
    assert ConversationMessage.objects.count() == 2
    assert InboundEvent.objects.filter(provider="email").count() == 2


def test_mail_sent_by_hand_from_the_mailbox_threads_and_clears_the_manual_queue(
    dovecot,
    mailbox,
    asked,
    django_capture_on_commit_callbacks,
):
    manual = OutreachMessage.objects.create(
        permission_request=asked, creator=asked.creator, sender_account=mailbox, platform="email",
        rendered_text="Hi Maya, may we share your post? Reply #YesAcme.", status="manual",
    )  # fmt: skip
    by_hand = reply(
        "Hi Maya, may we share your post? Reply #YesAcme.\n\nCheers,\nSam from Acme",
        sender=BRAND, to=CREATOR, message_id="<by-hand-1@acme.example>",
    )  # fmt: skip
    dovecot.append(BRAND, by_hand, folder="Sent", flags=("\\Seen",))
    run(mailbox, django_capture_on_commit_callbacks)
    manual.refresh_from_db()
    assert manual.status == "sent" and manual.provider_message_id == "<by-hand-1@acme.example>"
    echo = ConversationMessage.objects.get()
    assert echo.direction == "out" and echo.outreach_message == manual
    # The creator answers that mail: it threads to our own Message-ID.
    dovecot.deliver(BRAND, authenticated(reply("#YesAcme", in_reply_to="<by-hand-1@acme.example>"), AUTHSERV))
    run(mailbox, django_capture_on_commit_callbacks)
    assert ConversationMessage.objects.filter(direction="in").get().classification == "granted"


def test_a_wrong_password_shows_on_the_account_and_opens_its_breaker(
    dovecot,
    mailbox,
    django_capture_on_commit_callbacks,
):
    mailbox.set_imap_password("not-the-password")
    mailbox.save()
    with pytest.raises(fetch.MailboxError) as error:
        run(mailbox, django_capture_on_commit_callbacks)
    assert error.value.kind == "login"
    mailbox.refresh_from_db()
    assert mailbox.mailbox_error.startswith("login:")
    assert mailbox.breaker_state == SenderAccount.Breaker.OPEN and "Mailbox login refused" in mailbox.breaker_reason
    assert "not-the-password" not in mailbox.mailbox_error + mailbox.breaker_reason
    [state] = mailbox_states()
    assert state == {"sender_account": mailbox.pk, "ok": False, "last_fetch_at": None, "error": "login"}
    assert fetch.fetch_all_mailboxes() == {}  # a person must resume it: no login every minute


def test_an_unreachable_server_is_recorded_without_opening_the_breaker(mailbox, django_capture_on_commit_callbacks):
    mailbox.imap_port = 1  # nothing listens there
    mailbox.save()
    assert fetch.fetch_all_mailboxes() == {mailbox.pk: 0}
    mailbox.refresh_from_db()
    assert mailbox.mailbox_error.startswith("unreachable:")
    assert mailbox.breaker_state == SenderAccount.Breaker.CLOSED


def test_healthz_and_the_senders_page_show_the_mailbox(
    client, alice, dovecot, mailbox, django_capture_on_commit_callbacks
):
    run(mailbox, django_capture_on_commit_callbacks)
    health = client.get("/healthz").json()
    assert health["mailboxes"][0]["ok"] is True
    client.force_login(alice)
    page = client.get("/sender-accounts/").content.decode()
    assert "Mailbox read" in page and PASSWORD not in page


def test_imap_over_tls_checks_the_servers_certificate(dovecot, mailbox, settings, django_capture_on_commit_callbacks):
    mailbox.imap_host, mailbox.imap_port, mailbox.imap_security = "localhost", dovecot.imaps_port, "ssl"
    mailbox.save()
    with pytest.raises(fetch.MailboxError) as untrusted:  # a self-signed certificate we were not told to trust
        run(mailbox, django_capture_on_commit_callbacks)
    assert untrusted.value.kind == "unreachable"
    settings.EMAIL_IMAP_CA_FILE = str(dovecot.cert_path)
    dovecot.deliver(BRAND, reply("over TLS"))
    assert run(mailbox, django_capture_on_commit_callbacks).stored == 1
