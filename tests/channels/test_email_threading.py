"""Email follow-ups thread: step n answers step n-1's Message-ID (In-Reply-To / References), and a
permission request's email asks for the answer at its own reply address; sent through the worker
to a real SMTP server (the sink) from the mailbox's encrypted SMTP settings."""

import pytest
from django.utils import timezone

from outreach import worker
from outreach.mail.addresses import request_reply_address, request_tag
from outreach.models import OutreachMessage, SenderAccount
from outreach.sandbox.smtp import SmtpSink
from tests.factories import CampaignFactory, CreatorFactory, PermissionRequestFactory

pytestmark = pytest.mark.django_db
BRAND = "partners@acme.example"


@pytest.fixture
def sender():
    with SmtpSink(users={"partners": "app-pw"}) as sink:
        account = SenderAccount.objects.create(
            name="Partners", platform="email", account_id=BRAND,
            smtp_host=sink.host, smtp_port=sink.port, smtp_security="none", smtp_username="partners",
        )  # fmt: skip
        account.set_smtp_password("app-pw")
        account.save()
        account.sink = sink
        yield account


def row(sender, creator, step, **fields):
    return OutreachMessage.objects.create(
        creator=creator, sender_account=sender, platform="email", step=step, rendered_subject="Acme x Maya",
        rendered_text=f"step {step}", **fields,
    )  # fmt: skip


def test_a_follow_up_answers_the_previous_step(sender):
    creator = CreatorFactory(email="maya@creator.example")
    campaign = CampaignFactory()
    row(sender, creator, 0, campaign=campaign)
    assert worker.send_due(sender.pk).outcomes == {"sent": 1}
    first = OutreachMessage.objects.get(step=0)
    row(sender, creator, 1, campaign=campaign, due_at=timezone.now())
    assert worker.send_due(sender.pk).outcomes == {"sent": 1}
    first_mail, second_mail = sender.sink.messages
    assert first_mail["In-Reply-To"] is None
    assert str(second_mail["In-Reply-To"]).strip() == first.provider_message_id  # may be folded
    assert str(second_mail["References"]).strip() == first.provider_message_id
    assert first_mail["Reply-To"] is None  # campaign mail: replies go to From


def test_a_permission_request_asks_for_the_answer_at_its_own_address(sender):
    request = PermissionRequestFactory(content__creator=CreatorFactory(email="maya@creator.example"))
    row(sender, request.creator, 0, permission_request=request)
    worker.send_due(sender.pk)
    [mail] = sender.sink.messages
    assert mail["Reply-To"] == f"partners+pr{request.pk}@acme.example"


def test_reply_addresses_are_ours_only_for_our_accounts():
    assert request_reply_address("partners+old@acme.example", 5) == "partners+pr5@acme.example"
    assert request_tag("Partners+PR5@acme.example", {BRAND}) == "pr5"
    assert request_tag("partners+pr5@other.example", {BRAND}) == ""
    assert request_tag("partners+newsletter@acme.example", {BRAND}) == ""
