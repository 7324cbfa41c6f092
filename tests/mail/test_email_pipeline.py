"""Email through the inbound pipeline (posted to /webhooks/email/ like a gateway does, stored once,
processed by the task): who may grant rights automatically, bounces, automatic replies, and the
time a decision is made at."""

import datetime

import pytest
from django.utils import timezone
from django_q.conf import Conf

from crm import events
from crm.models import CampaignMember, ConsentEvent, Creator, PermissionRequest
from outreach.models import ConversationMessage, EmailSuppression, OutreachMessage
from outreach.policy import BLOCKED, decide, gather_facts
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory, PermissionRequestFactory
from tests.mail.helpers import BRAND, CREATOR, GATEWAY, authenticated, dsn, reply
from tests.outreach.factories import SenderAccountFactory

pytestmark = pytest.mark.django_db
SECRET = "mail-secret"


@pytest.fixture(autouse=True)
def email_settings(settings, monkeypatch):
    settings.EMAIL_WEBHOOK_SECRET = SECRET
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = [GATEWAY]
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def world():
    sender = SenderAccountFactory(platform="email", variant="", account_id=BRAND)
    creator = CreatorFactory(email=CREATOR)
    request = PermissionRequestFactory(content__creator=creator, requested=True)
    sent = OutreachMessage.objects.create(
        permission_request=request,
        creator=creator,
        sender_account=sender,
        platform="email",
        rendered_text="Reply #YesAcme to let us share your post",
        status="sent",
        sent_at=timezone.now(),
        recipient_id=CREATOR,
        provider_message_id="<outreach-7@acme.example>",
    )
    return {"sender": sender, "creator": creator, "request": request, "sent": sent}


def post(client, django_capture_on_commit_callbacks, raw: bytes):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/webhooks/email/", raw, content_type="message/rfc822", HTTP_X_WEBHOOK_SECRET=SECRET)
    assert response.status_code == 200, response.content
    return ConversationMessage.objects.order_by("-id").first()


def status(request):
    request.refresh_from_db()
    return request.status


def test_an_authenticated_answer_to_our_email_grants(client, django_capture_on_commit_callbacks, world):
    raw = authenticated(reply("Yes! #YesAcme", in_reply_to=world["sent"].provider_message_id))
    recorded = post(client, django_capture_on_commit_callbacks, raw)
    assert recorded.classification == "granted"
    assert status(world["request"]) == PermissionRequest.Status.GRANTED
    granted = ConsentEvent.objects.get(permission_request=world["request"], kind="rights_granted")
    assert f"authserv {GATEWAY}: dkim=pass" in granted.note
    assert "Date header: Thu, 26 Nov 2026 10:00:00 +0000" in granted.note


def test_the_same_words_from_an_unauthenticated_sender_wait_for_a_person(
    client, django_capture_on_commit_callbacks, world
):
    recorded = post(
        client, django_capture_on_commit_callbacks, reply("Yes! #YesAcme", in_reply_to="<outreach-7@acme.example>")
    )
    assert recorded.classification == "needs_review"
    assert "not authenticated" in recorded.classification_rule
    assert "(the rules read: granted)" in recorded.classification_rule
    assert status(world["request"]) == PermissionRequest.Status.REQUESTED


@pytest.mark.parametrize(
    "authserv, result, domain",
    [
        ("mx.attacker.example", "pass", "creator.example"),
        (GATEWAY, "fail", "creator.example"),
        (GATEWAY, "pass", "other.example"),
    ],
)
def test_only_a_trusted_gateways_pass_for_the_from_domain_counts(
    client, django_capture_on_commit_callbacks, world, authserv, result, domain
):
    raw = authenticated(reply("#YesAcme", in_reply_to="<outreach-7@acme.example>"), authserv, domain, result)
    recorded = post(client, django_capture_on_commit_callbacks, raw)
    assert recorded.classification == "needs_review"
    assert status(world["request"]) == PermissionRequest.Status.REQUESTED


def test_an_authenticated_reply_that_answers_nothing_of_ours_waits(client, django_capture_on_commit_callbacks, world):
    recorded = post(client, django_capture_on_commit_callbacks, authenticated(reply("#YesAcme")))
    assert recorded.classification == "needs_review"
    assert "neither reached a request's reply address" in recorded.classification_rule
    assert status(world["request"]) == PermissionRequest.Status.REQUESTED


def test_the_request_reply_address_counts_like_a_thread(client, django_capture_on_commit_callbacks, world):
    to = f"partners+pr{world['request'].pk}@acme.example"
    recorded = post(client, django_capture_on_commit_callbacks, authenticated(reply("#YesAcme", to=to)))
    assert recorded.classification == "granted"
    assert recorded.conversation.sender_account == world["sender"]  # the plus address is our account's


def test_a_hashtag_only_in_the_quoted_request_never_grants(client, django_capture_on_commit_callbacks, world):
    text = "\n\nOn Tue, 25 Nov 2026 at 09:00, Acme <partners@acme.example> wrote:\n> Reply #YesAcme to let us share\n"
    recorded = post(
        client, django_capture_on_commit_callbacks, authenticated(reply(text, in_reply_to="<outreach-7@acme.example>"))
    )
    assert recorded.classification == "needs_review"
    assert "quoted text" in recorded.classification_rule
    assert status(world["request"]) == PermissionRequest.Status.REQUESTED


def test_the_decision_time_is_when_we_received_it_not_the_date_header(
    client, django_capture_on_commit_callbacks, world
):
    claimed = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    raw = authenticated(reply("#YesAcme", in_reply_to="<outreach-7@acme.example>", date=claimed))
    before = timezone.now()
    recorded = post(client, django_capture_on_commit_callbacks, raw)
    assert recorded.at >= before - datetime.timedelta(seconds=1)
    granted = ConsentEvent.objects.get(permission_request=world["request"], kind="rights_granted")
    assert granted.occurred_at >= before - datetime.timedelta(seconds=1)
    assert "Date header: Wed, 01 Jan 2020" in granted.note


def test_a_hard_bounce_fails_the_row_publishes_and_stops_further_mail(
    client, django_capture_on_commit_callbacks, world
):
    seen = []
    events.domain_event.connect(
        lambda sender, event, **kw: seen.append(event.type), weak=False, dispatch_uid="t-bounce"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/webhooks/email/", dsn("<outreach-7@acme.example>"), content_type="message/rfc822",
                        HTTP_X_WEBHOOK_SECRET=SECRET)  # fmt: skip
    finally:
        events.domain_event.disconnect(dispatch_uid="t-bounce")
    world["sent"].refresh_from_db()
    assert world["sent"].status == "failed"
    assert world["sent"].error_code == "5.1.1"
    assert "User unknown" in world["sent"].reason
    assert events.MESSAGE_FAILED in seen
    assert EmailSuppression.objects.filter(address=CREATOR).exists()
    assert not ConversationMessage.objects.exists()  # a bounce is not a reply

    later = OutreachMessage.objects.create(
        campaign=CampaignFactory(), creator=world["creator"], sender_account=world["sender"], platform="email",
        rendered_text="Follow-up",
    )  # fmt: skip
    [facts] = gather_facts([later], timezone.now())
    decision = decide(facts)
    assert decision.mode == BLOCKED and "hard-bounced" in decision.reason


def test_a_delayed_delivery_is_noted_but_fails_nothing(client, django_capture_on_commit_callbacks, world):
    raw = dsn("<outreach-7@acme.example>", status="4.4.1", action="delayed")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/webhooks/email/", raw, content_type="message/rfc822", HTTP_X_WEBHOOK_SECRET=SECRET)
    world["sent"].refresh_from_db()
    assert world["sent"].status == "sent"
    assert "Bounced (4.4.1)" in world["sent"].reason
    assert not EmailSuppression.objects.exists()


@pytest.mark.parametrize(
    "headers, subject",
    [
        ({"Auto-Submitted": "auto-replied"}, None),
        ({"X-Autoreply": "yes"}, None),
        ({}, "Out of Office: Re: Acme x Maya"),
        ({}, "Abwesenheitsnotiz: Re: Acme x Maya"),
        ({}, "Réponse automatique : Acme x Maya"),
    ],
)
def test_an_automatic_reply_is_recorded_but_stops_and_grants_nothing(
    client, django_capture_on_commit_callbacks, world, headers, subject
):
    campaign = CampaignFactory()
    member = CampaignMemberFactory(campaign=campaign, creator=world["creator"], stage=CampaignMember.Stage.CONTACTED)
    raw = reply("I am away until Monday. #YesAcme", in_reply_to="<outreach-7@acme.example>", headers=headers)
    if subject:
        raw = raw.replace(b"Subject: Re: Acme x Maya", f"Subject: {subject}".encode())
    recorded = post(client, django_capture_on_commit_callbacks, authenticated(raw))
    assert recorded.direction == "in"
    assert recorded.classification == ""
    assert recorded.classification_rule.startswith("automatic reply")
    member.refresh_from_db()
    assert member.stage == CampaignMember.Stage.CONTACTED
    assert status(world["request"]) == PermissionRequest.Status.REQUESTED


def test_a_newsletter_from_a_stranger_makes_no_prospect(client, django_capture_on_commit_callbacks, world):
    before = Creator.objects.count()
    raw = reply("Our Black Friday deals!", sender="news@shop.example", headers={"List-Unsubscribe": "<https://x/u>"})
    assert post(client, django_capture_on_commit_callbacks, raw) is None
    assert Creator.objects.count() == before


def test_another_creators_request_address_proves_nothing(client, django_capture_on_commit_callbacks, world):
    other = PermissionRequestFactory(content__creator=CreatorFactory(email="someone@else.example"), requested=True)
    raw = authenticated(reply("#YesAcme", to=f"partners+pr{other.pk}@acme.example"))
    recorded = post(client, django_capture_on_commit_callbacks, raw)
    assert recorded.classification == "needs_review"
    assert status(world["request"]) == status(other) == PermissionRequest.Status.REQUESTED


def test_a_posted_message_without_a_from_address_is_a_clear_400(client):
    response = client.post("/webhooks/email/", b"Subject: hi\r\n\r\nno sender", content_type="message/rfc822",
                           HTTP_X_WEBHOOK_SECRET=SECRET)  # fmt: skip
    assert response.status_code == 400
    assert "no From address" in response.json()["error"]
