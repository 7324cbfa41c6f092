"""The whole email loop with real servers and no gateway: the worker sends the permission request
over SMTP, the creator's mail client answers (DKIM-signed by their provider) through SMTP into the
brand's Dovecot mailbox, and the scheduled fetch brings the answer into the conversation, granted."""

import smtplib

import pytest
from django_q.conf import Conf
from django_q.models import Schedule

from crm.models import PermissionRequest
from outreach import mailbox as fetch
from outreach import worker
from outreach.mail import trust
from outreach.models import ConversationMessage, OutreachMessage, SenderAccount
from tests.factories import CreatorFactory, PermissionRequestFactory
from tests.fakes.dkim import sign
from tests.mail.helpers import BRAND, CREATOR, reply

pytestmark = pytest.mark.django_db
PASSWORD = "mailbox-app-password"


def test_the_mailbox_fetch_is_scheduled_every_minute():
    schedule = Schedule.objects.get(func="outreach.mailbox.fetch_all_mailboxes")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 1, -1)


def test_a_creator_answers_from_their_mail_client_and_rights_are_granted(
    dovecot, smtp_to_dovecot, dns_stub, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", True)
    monkeypatch.setattr(trust, "dns_lookup", dns_stub)
    dovecot.add_user(BRAND, PASSWORD)
    sender = SenderAccount.objects.create(
        name="Partners", platform="email", account_id=BRAND,
        smtp_host=smtp_to_dovecot.host, smtp_port=smtp_to_dovecot.port, smtp_security="none",
        imap_host=dovecot.host, imap_port=dovecot.port, imap_security="none", imap_username=BRAND,
    )  # fmt: skip
    sender.set_imap_password(PASSWORD)
    sender.save()
    request = PermissionRequestFactory(content__creator=CreatorFactory(email=CREATOR))
    OutreachMessage.objects.create(
        permission_request=request, creator=request.creator, sender_account=sender, platform="email",
        rendered_subject="May we share your post?", rendered_text="Reply #YesAcme to let us share your post.",
    )  # fmt: skip

    assert worker.send_due(sender.pk).outcomes == {"sent": 1}
    asked = smtp_to_dovecot.messages[-1]
    assert asked["Reply-To"] == f"partners+pr{request.pk}@acme.example"

    answer = sign(
        reply(
            f"Of course!\n\nOn Tue, 25 Nov 2026 at 09:00, Acme <{BRAND}> wrote:\n> Reply #YesAcme to share it.\n",
            in_reply_to=str(asked["Message-ID"]).strip(),
            to=asked["Reply-To"],
        )
    )
    with smtplib.SMTP(smtp_to_dovecot.host, smtp_to_dovecot.port, timeout=5) as client:
        client.sendmail(CREATOR, [BRAND], answer)  # the creator's provider hands it to the brand's server

    with django_capture_on_commit_callbacks(execute=True):
        assert fetch.fetch_all_mailboxes() == {sender.pk: 1}
    message = ConversationMessage.objects.get(direction="in")
    assert message.text == "Of course!"
    assert message.classification == "needs_review"  # the hashtag was only in the quote
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.REQUESTED

    yes = sign(reply("#YesAcme", in_reply_to=str(asked["Message-ID"]).strip(), to=asked["Reply-To"]))
    with smtplib.SMTP(smtp_to_dovecot.host, smtp_to_dovecot.port, timeout=5) as client:
        client.sendmail(CREATOR, [BRAND], yes)
    with django_capture_on_commit_callbacks(execute=True):
        fetch.fetch_all_mailboxes()
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.GRANTED
