"""Receivers: handshakes, signatures over the raw body, storing once, and what processing does."""

import datetime
import json
import time
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.conf import Conf

from crm.models import Creator, PermissionRequest, SocialAccount
from outreach import inbound
from outreach.models import Conversation, ConversationMessage, InboundEvent, OutreachMessage
from outreach.webhooks import meta, tiktok, x
from tests.factories import CampaignMemberFactory, CreatorFactory, PermissionRequestFactory, SocialAccountFactory
from tests.outreach.factories import SenderAccountFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
META_SECRET, X_SECRET, TIKTOK_SECRET, EMAIL_SECRET = "meta-app-secret", "x-consumer-secret", "tt-secret", "mail-secret"


@pytest.fixture(autouse=True)
def secrets(settings, monkeypatch):
    settings.META_APP_SECRET, settings.META_VERIFY_TOKEN = META_SECRET, "verify-me"
    settings.X_CONSUMER_SECRET, settings.TIKTOK_APP_SECRET = X_SECRET, TIKTOK_SECRET
    settings.EMAIL_WEBHOOK_SECRET = EMAIL_SECRET
    monkeypatch.setattr(Conf, "SYNC", True)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def post_meta(client, body: bytes, signature: str | None = None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature if signature is not None else meta.sign(body, META_SECRET)}
    return client.post("/webhooks/meta/", body, content_type="application/json", **headers)


def deliver(client, django_capture_on_commit_callbacks, post, *args):
    with django_capture_on_commit_callbacks(execute=True):
        return post(client, *args)


# --- Meta ------------------------------------------------------------------------------------


def test_meta_handshake_echoes_the_challenge_only_for_our_token(client):
    good = client.get(
        "/webhooks/meta/", {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    )
    assert (good.status_code, good.content) == (200, b"42")
    bad = client.get("/webhooks/meta/", {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "42"})
    assert bad.status_code == 403


@pytest.mark.parametrize(("signature", "status"), [("", 401), ("sha256=" + "0" * 64, 403), ("sha1=abc", 403)])
def test_meta_refuses_a_missing_or_wrong_signature_and_stores_nothing(client, signature, status):
    response = post_meta(client, fixture("meta/instagram_message.json"), signature)
    assert response.status_code == status
    assert "error" in response.json()
    assert not InboundEvent.objects.exists()
    assert not Creator.objects.exists()


def test_a_tampered_body_fails_its_signature(client):
    body = fixture("meta/instagram_message.json")
    signature = meta.sign(body, META_SECRET)
    assert post_meta(client, body.replace(b"love", b"hate"), signature).status_code == 403


def test_a_stranger_writing_first_becomes_a_prospect_with_an_open_window(client, django_capture_on_commit_callbacks):
    response = deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/instagram_message.json"))
    assert response.status_code == 200 and response.json() == {"received": True, "duplicate": False}
    account = SocialAccount.objects.get(platform="instagram", platform_user_id="982340000000001")
    conversation = Conversation.objects.get(creator=account.creator, platform="instagram")
    assert conversation.last_inbound_at == datetime.datetime(2025, 11, 26, 10, 0, tzinfo=datetime.UTC)
    message = ConversationMessage.objects.get()
    assert message.text.startswith("Hi! I love your serums")
    assert message.classification == "needs_review"
    assert InboundEvent.objects.get().status == "processed"


def test_a_known_creator_is_matched_and_their_sequence_and_stage_move(client, django_capture_on_commit_callbacks):
    account = SocialAccountFactory(platform="instagram", platform_user_id="982340000000001")
    member = CampaignMemberFactory(creator=account.creator, stage="contacted")
    sender = SenderAccountFactory(platform="instagram")
    follow_up = OutreachMessage.objects.create(
        campaign=member.campaign,
        creator=account.creator,
        sender_account=sender,
        platform="instagram",
        rendered_text="Following up",
        step=1,
    )
    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/instagram_message.json"))
    assert Creator.objects.count() == 1
    member.refresh_from_db()
    follow_up.refresh_from_db()
    assert member.stage == "replied"
    assert follow_up.status == "cancelled"


def test_the_same_delivery_twice_is_processed_once(client, django_capture_on_commit_callbacks):
    body = fixture("meta/instagram_message.json")
    deliver(client, django_capture_on_commit_callbacks, post_meta, body)
    again = deliver(client, django_capture_on_commit_callbacks, post_meta, body)
    assert again.json() == {"received": True, "duplicate": True}
    assert InboundEvent.objects.count() == 1
    assert ConversationMessage.objects.count() == 1
    assert inbound.process_event(InboundEvent.objects.get().pk) == 0


def test_an_echo_clears_the_manual_queue_and_is_never_a_reply(client, django_capture_on_commit_callbacks):
    account = SocialAccountFactory(platform="instagram", platform_user_id="982340000000001")
    sender = SenderAccountFactory(platform="instagram")
    campaign = CampaignMemberFactory(creator=account.creator).campaign
    common = {"campaign": campaign, "creator": account.creator, "sender_account": sender, "platform": "instagram"}
    other = OutreachMessage.objects.create(
        step=1, rendered_text="Something else", status="manual", delivery_mode="manual", **common
    )
    queued = OutreachMessage.objects.create(
        rendered_text="Thanks Maya! Sending details now.", status="manual", delivery_mode="manual", **common
    )
    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/instagram_echo.json"))
    queued.refresh_from_db()
    other.refresh_from_db()
    assert (queued.status, other.status) == ("sent", "manual")  # only the row with the echoed text
    assert queued.provider_message_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAy"
    message = ConversationMessage.objects.get()
    assert (message.direction, message.classification) == ("out", "")
    assert not Conversation.objects.get().last_inbound_at
    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/instagram_read.json"))
    message.refresh_from_db()
    assert message.read_at is not None


def test_stop_on_messenger_opts_out_everywhere_and_withdraws_queued_messages(
    client, django_capture_on_commit_callbacks
):
    account = SocialAccountFactory(platform="facebook", handle="leo.hart", platform_user_id="6543210000000001")
    sender = SenderAccountFactory(platform="email")
    pending = OutreachMessage.objects.create(
        campaign=CampaignMemberFactory(creator=account.creator).campaign,
        creator=account.creator,
        sender_account=sender,
        platform="email",
        rendered_text="Hello",
    )
    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/messenger_message.json"))
    creator = Creator.objects.get(pk=account.creator_id)
    assert creator.opted_out_at is not None
    event = creator.consent_events.get()
    assert (event.kind, event.rule, event.channel) == ("opted_out", "opt-out keyword 'STOP'", "messenger")
    assert event.inbound_message_id == "m_AbCdEf0123456789"
    pending.refresh_from_db()
    assert pending.status == "cancelled"


def test_whatsapp_messages_carry_the_profile_name(client, django_capture_on_commit_callbacks):
    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/whatsapp_message.json"))
    account = SocialAccount.objects.get(platform="whatsapp")
    assert (account.handle, account.platform_user_id, account.creator.name) == (
        "447700900123",
        "447700900123",
        "Leo Hart",
    )


# --- X ---------------------------------------------------------------------------------------


def test_x_crc_answers_with_the_hmac_of_the_token(client):
    response = client.get("/webhooks/x/", {"crc_token": "challenge-123"})
    assert response.json() == x.crc_response("challenge-123", X_SECRET)
    assert response.json()["response_token"].startswith("sha256=")


def post_x(client, body, signature=None):
    signature = x.sign(body, X_SECRET) if signature is None else signature
    return client.post(
        "/webhooks/x/", body, content_type="application/json", HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=signature
    )


def test_x_learns_the_id_of_a_creator_known_by_handle_in_both_payload_shapes(
    client, django_capture_on_commit_callbacks
):
    known = SocialAccountFactory(platform="x", handle="ninacosta")
    deliver(client, django_capture_on_commit_callbacks, post_x, fixture("x/aaa_message_create.json"))
    known.refresh_from_db()
    assert (known.platform_user_id, known.accepts_dms) == ("2244994945", True)
    deliver(client, django_capture_on_commit_callbacks, post_x, fixture("x/xaa_dm_received.json"))
    assert ConversationMessage.objects.filter(conversation__creator=known.creator).count() == 2
    assert post_x(client, fixture("x/aaa_message_create.json"), "sha256=forged").status_code == 403


# --- TikTok ----------------------------------------------------------------------------------


def post_tiktok(client, body, header):
    return client.post("/webhooks/tiktok/", body, content_type="application/json", HTTP_TIKTOK_SIGNATURE=header)


def test_tiktok_checks_the_signature_and_its_age(client, django_capture_on_commit_callbacks):
    body = fixture("tiktok/im_receive_msg.json")
    stale = tiktok.sign(body, TIKTOK_SECRET, int(time.time()) - 301)
    assert post_tiktok(client, body, stale).status_code == 403
    assert post_tiktok(client, body, "").status_code == 401
    assert not InboundEvent.objects.exists()
    fresh = tiktok.sign(body, TIKTOK_SECRET, int(time.time()))
    assert deliver(client, django_capture_on_commit_callbacks, post_tiktok, body, fresh).status_code == 200
    conversation = Conversation.objects.get(platform="tiktok")
    assert conversation.platform_conversation_id == "conv-7301"
    assert ConversationMessage.objects.get().text == "hey! loved the package"


# --- Email -----------------------------------------------------------------------------------


def post_email(client, raw: bytes, secret=EMAIL_SECRET):
    return client.post("/webhooks/email/", raw, content_type="message/rfc822", HTTP_X_WEBHOOK_SECRET=secret)


def test_email_threads_by_in_reply_to_and_ignores_a_quoted_hashtag(client, django_capture_on_commit_callbacks):
    creator = CreatorFactory(email="someone-else@example.com")
    request = PermissionRequestFactory(content__creator=creator, requested=True)
    sent = OutreachMessage.objects.create(
        permission_request=request,
        campaign=None,
        creator=creator,
        sender_account=SenderAccountFactory(platform="email"),
        platform="email",
        rendered_text="Reply #YesAcme",
        status="sent",
        provider_message_id="<outreach-7@acme.example.com>",
    )
    raw = fixture("email/reply.eml").replace(b"{IN_REPLY_TO}", sent.provider_message_id.encode())
    assert post_email(client, raw, secret="wrong").status_code == 403
    deliver(client, django_capture_on_commit_callbacks, post_email, raw)
    message = ConversationMessage.objects.get()
    assert message.conversation.creator == creator  # threaded, although the From address is unknown
    assert message.text == "Sounds lovely, what would the timeline be?"
    assert message.classification == "needs_review"
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.REQUESTED


def test_a_broken_payload_is_kept_and_marked_failed_with_the_reason(client):
    body = json.dumps({"object": "newsletter", "entry": []}).encode()
    assert post_meta(client, body).status_code == 200
    event = InboundEvent.objects.get()
    inbound.process_event(event.pk)
    event.refresh_from_db()
    assert event.status == "failed"
    assert "Unknown Meta object 'newsletter'" in event.error


def test_an_automatic_reply_goes_once_per_period_marked_and_with_a_task_for_a_person(
    client, django_capture_on_commit_callbacks, alice
):
    from outreach.models import FollowUpTask
    from tests.outreach.factories import MessageTemplateFactory

    sender = SenderAccountFactory(
        platform="instagram",
        account_id="17841400000000001",
        owner=alice,
        auto_reply_template=MessageTemplateFactory(body="Thanks for writing! We will get back to you within a day."),
    )
    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/instagram_message.json"))
    reply = OutreachMessage.objects.get(sender_account=sender)
    assert reply.rendered_text == "[Automatic reply] Thanks for writing! We will get back to you within a day."
    assert reply.dedupe_key.startswith("auto-reply:")
    task = FollowUpTask.objects.get()
    assert (task.assignee, task.done_at) == (alice, None)
    assert "answer them personally" in task.reason

    second = json.loads(fixture("meta/instagram_message.json"))
    second["entry"][0]["messaging"][0]["message"]["mid"] = "another-mid"
    deliver(client, django_capture_on_commit_callbacks, post_meta, json.dumps(second).encode())
    assert OutreachMessage.objects.filter(sender_account=sender).count() == 1  # once per 24 h
    assert FollowUpTask.objects.count() == 1


def test_no_automatic_reply_to_a_creator_who_says_stop(client, django_capture_on_commit_callbacks):
    from tests.outreach.factories import MessageTemplateFactory

    SenderAccountFactory(
        platform="messenger", variant="", account_id="104000000000001", auto_reply_template=MessageTemplateFactory()
    )
    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/messenger_message.json"))
    assert not OutreachMessage.objects.exists()


def test_a_creator_withdrawing_granted_rights_revokes_them(client, django_capture_on_commit_callbacks, alice):
    from crm import services as crm_services

    account = SocialAccountFactory(platform="instagram", platform_user_id="982340000000001")
    request = PermissionRequestFactory(content__creator=account.creator, requested=True)
    crm_services.grant_rights(request, actor=alice, evidence=crm_services.Evidence(text="#YesAcme"))
    payload = json.loads(fixture("meta/instagram_message.json"))
    payload["entry"][0]["messaging"][0]["message"]["text"] = "Please stop using my photo, thanks"
    deliver(client, django_capture_on_commit_callbacks, post_meta, json.dumps(payload).encode())
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.REVOKED
    event = request.consent_events.latest("id")
    assert (event.kind, event.rule) == ("rights_revoked", "withdrawal 'stop using' of granted rights")


def test_erasure_also_empties_the_raw_deliveries_that_carried_their_messages(
    client, django_capture_on_commit_callbacks, alice
):
    from outreach import services as outreach_services

    deliver(client, django_capture_on_commit_callbacks, post_meta, fixture("meta/instagram_message.json"))
    creator = ConversationMessage.objects.get().conversation.creator
    assert bytes(InboundEvent.objects.get().body)
    outreach_services.erase_creator(creator, actor=alice)
    event = InboundEvent.objects.get()
    assert (bytes(event.body), event.status) == (b"", "processed")
    assert ConversationMessage.objects.get().text == ""


def test_x_read_events_mark_our_message_read(client, django_capture_on_commit_callbacks):
    account = SocialAccountFactory(platform="x", handle="ninacosta", platform_user_id="2244994945")
    conversation = Conversation.objects.create(creator=account.creator, platform="x")
    ours = ConversationMessage.objects.create(
        conversation=conversation, platform="x", direction="out", platform_message_id="1862000000000000009",
        text="Hi Nina", at=timezone.now(),
    )  # fmt: skip
    body = json.dumps(
        {
            "data": {
                "event_uuid": "read-1",
                "filter": {"user_id": "1500000000000000001"},
                "event_type": "dm.read",
                "payload": {"sender_id": "2244994945", "last_read_event_id": "1862000000000000009",
                            "created_timestamp": "1764151300000"},
            }
        }
    ).encode()  # fmt: skip
    assert deliver(client, django_capture_on_commit_callbacks, post_x, body).status_code == 200
    ours.refresh_from_db()
    assert ours.read_at is not None
