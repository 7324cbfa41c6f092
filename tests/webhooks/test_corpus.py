"""Every JSON delivery of the webhook corpus (tests/fixtures/webhooks/MANIFEST.json), read as the
manifest says and then posted signed through the real receiver and processed: stored once, what the
conversation shows (kind, text, attachments), and what it does to sequences, campaign members, the
outbox and the consent ledger.

Comment, mention and Page-feed events belong to the comments module (outreach/webhooks/meta_comments.py):
the messaging parser returns nothing for them, and that is what is checked here.
"""

import datetime
import json
import os
import time
from pathlib import Path

import pytest
from django_q.conf import Conf

from crm.models import CampaignMember, ConsentEvent, Creator, SocialAccount
from outreach import classify
from outreach.models import (
    RECIPIENT_PLATFORM,
    Conversation,
    ConversationMessage,
    FollowUpTask,
    InboundEvent,
    OutreachMessage,
)
from outreach.webhooks import InboundMessage, kinds, meta, tiktok, x
from tests.factories import CampaignMemberFactory, CreatorFactory, PermissionRequestFactory, SocialAccountFactory
from tests.outreach.factories import SenderAccountFactory

CORPUS = Path(os.environ.get("WEBHOOK_CORPUS", Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"))
MANIFEST = json.loads((CORPUS / "MANIFEST.json").read_text())
DELIVERIES = [entry for entry in MANIFEST if entry["provider"] != "email"]
COMMENT_KINDS = {"comment", "mention"}
SECRETS = {"meta": "corpus-meta", "x": "corpus-x", "tiktok": "corpus-tiktok"}
PARSERS = {"meta": meta.parse, "x": x.parse, "tiktok": tiktok.parse}
EARLIER = datetime.timedelta(minutes=5)

pytestmark = pytest.mark.django_db


def messaging_events(entry) -> list[dict]:
    """The events the messaging parser reads (not the comments module's)."""
    return [
        event
        for event in entry["expect"]["events"]
        if event["kind"] not in COMMENT_KINDS and not (event["kind"] in {"edit", "delete"} and event.get("comment_id"))
    ]


def direct_messages(parsed) -> list:
    """What the messaging parser made of a delivery (the comments module's events are its own)."""
    return [event for event in parsed if isinstance(event, InboundMessage)]


def at(text: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def payload_of(entry) -> dict:
    return json.loads((CORPUS / entry["file"]).read_bytes())


def test_the_corpus_is_big_enough_and_covers_every_platform():
    providers = {entry["file"].split("/")[1].split("_")[0] for entry in DELIVERIES}
    assert {"instagram", "messenger", "whatsapp", "aaa", "xaa", "im"} <= providers
    assert len(DELIVERIES) >= 60


# --- 1. reading: what the parser makes of each delivery ----------------------------------------


def got_value(message, key, wanted):
    if key == "at":
        return message.at, at(wanted)
    if key == "watermark":
        return message.watermark, at(wanted)
    if key in {"text", "message_id", "sender_id"}:
        return getattr(message, key) or None, wanted
    if key == "attachments":
        got = [{name: item.get(name) for name in want} for item, want in zip(message.attachments, wanted, strict=False)]
        return (got if len(message.attachments) == len(wanted) else list(message.attachments)), wanted
    if key == "referral":
        return {name: (message.referral or {}).get(name) for name in wanted}, wanted
    if key == "mids":
        return list(message.mids), wanted
    value = getattr(message, key)
    if wanted in (None, False, "") and value in (None, False, "", ()):
        return wanted, wanted
    return value, wanted


# Keys of the manifest that describe the platform's payload rather than our reading of it.
NOT_READ = {"edits", "app_id", "metadata", "verb"}


@pytest.mark.parametrize("entry", DELIVERIES, ids=[entry["file"] for entry in DELIVERIES])
def test_each_delivery_is_read_as_the_manifest_says(entry):
    messages = direct_messages(PARSERS[entry["provider"]](payload_of(entry)))
    expected = messaging_events(entry)
    assert [m.kind for m in messages] == [e["kind"] for e in expected]
    for message, event in zip(messages, expected, strict=True):
        for key, wanted in event.items():
            if key in NOT_READ:
                continue
            got, want = got_value(message, key, wanted)
            assert got == want, f"{entry['file']}: {key}"


# --- 2. processing: through the real receiver, once ---------------------------------------------


def sign(provider: str, body: bytes) -> dict:
    secret = SECRETS[provider]
    if provider == "meta":
        return {"HTTP_X_HUB_SIGNATURE_256": meta.sign(body, secret)}
    if provider == "x":
        return {"HTTP_X_TWITTER_WEBHOOKS_SIGNATURE": x.sign(body, secret)}
    return {"HTTP_TIKTOK_SIGNATURE": tiktok.sign(body, secret, int(time.time()))}


def creator_side(message) -> str:
    """The creator's id in an event: the recipient of our echoes, else the sender."""
    return message.recipient_id if message.kind == "echo" or message.ours else message.sender_id


class World:
    """The CRM as it stood before the delivery: each creator known by id, contacted in a campaign
    with a follow-up pending and a permission request open; the messages the events refer to."""

    def __init__(self, messages):
        self.members, self.follow_ups, self.targets, self.outbox = {}, {}, {}, {}
        for message in messages:
            self.know(message)
        for message in messages:
            self.refer(message)

    def know(self, message):
        if message.test or not creator_side(message):
            return
        platform = RECIPIENT_PLATFORM[message.platform]
        user_id = creator_side(message)
        if SocialAccount.objects.filter(platform=platform, platform_user_id=user_id).exists():
            return
        creator = CreatorFactory()
        handle = user_id if platform == "whatsapp" else f"creator{SocialAccount.objects.count() + 1}"
        account = SocialAccountFactory(creator=creator, platform=platform, platform_user_id=user_id, handle=handle)
        conversation = Conversation.objects.create(
            creator=creator, platform=message.platform, social_account=account,
            platform_conversation_id=message.conversation_id,
        )  # fmt: skip
        self.sender = SenderAccountFactory(platform=message.platform, variant="", account_id=message.business_id)
        member = CampaignMemberFactory(creator=creator, stage=CampaignMember.Stage.CONTACTED)
        self.members[user_id] = member
        self.follow_ups[user_id] = OutreachMessage.objects.create(
            dedupe_key=f"follow-up-{user_id}", campaign=member.campaign, creator=creator, step=1,
            sender_account=self.sender, platform=message.platform, rendered_text="Just following up!",
            due_at=message.at + datetime.timedelta(days=3),
        )  # fmt: skip
        PermissionRequestFactory(content__creator=creator, requested=True)
        self.conversation = conversation

    def message(self, message, platform_id, direction, **fields):
        if not platform_id:
            return None
        known = ConversationMessage.objects.filter(platform=message.platform, platform_message_id=platform_id).first()
        if known:
            return known
        account = SocialAccount.objects.get(
            platform=RECIPIENT_PLATFORM[message.platform], platform_user_id=creator_side(message)
        )
        conversation = Conversation.objects.get(creator=account.creator, platform=message.platform)
        fields.setdefault("text", "Earlier message")
        return ConversationMessage.objects.create(
            conversation=conversation, platform=message.platform, direction=direction,
            platform_message_id=platform_id, at=message.at - EARLIER, **fields,
        )  # fmt: skip

    def refer(self, message):
        if message.test:
            return
        if message.kind in kinds.REACTIONS:
            self.targets[message.reacts_to] = self.message(message, message.reacts_to, "out")
        elif message.kind in {"edit", "delete"}:
            # The original was read by the rules as a grant: an edit or unsend must send it to review.
            self.targets[message.message_id] = self.message(
                message, message.message_id, "in", text="Sure #YesAcme", classification="granted"
            )
        elif message.kind in {"read", "delivery"} and message.watermark and not message.ours:
            self.targets[f"watermark:{message.sender_id}"] = self.message(message, f"ours-{message.sender_id}", "out")
        elif message.kind in {"read", "status"} and not message.ours:
            self.targets[message.message_id] = self.message(message, message.message_id, "out")
            if message.kind == "status":
                account = SocialAccount.objects.get(platform="whatsapp", platform_user_id=message.sender_id)
                self.outbox[message.message_id] = OutreachMessage.objects.get_or_create(
                    provider_message_id=message.message_id,
                    defaults={
                        "dedupe_key": f"sent-{message.message_id}"[:100], "creator": account.creator,
                        "platform": "whatsapp", "sender_account": self.sender, "rendered_text": "Earlier message",
                        "status": "sent",
                    },
                )[0]  # fmt: skip
        for mid in message.mids:
            self.targets[mid] = self.message(message, mid, "out")


def post(client, entry, body):
    url = {"meta": "/webhooks/meta/", "x": "/webhooks/x/", "tiktok": "/webhooks/tiktok/"}[entry["provider"]]
    return client.post(url, body, content_type="application/json", **sign(entry["provider"], body))


@pytest.mark.parametrize("entry", DELIVERIES, ids=[entry["file"] for entry in DELIVERIES])
def test_each_delivery_is_stored_once_and_does_what_the_platform_means(
    entry, client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.META_APP_SECRET, settings.X_CONSUMER_SECRET, settings.TIKTOK_APP_SECRET = SECRETS.values()
    monkeypatch.setattr(Conf, "SYNC", True)
    body = (CORPUS / entry["file"]).read_bytes()
    messages = direct_messages(PARSERS[entry["provider"]](json.loads(body)))
    if not messaging_events(entry):
        pytest.skip("comments, mentions and Page feed only: tests/comments/test_corpus.py processes them")
    world = World(messages)
    ledger_before = ConsentEvent.objects.count()
    creators_before = Creator.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, entry, body)
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, entry, body)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json()["duplicate"] is True
    event = InboundEvent.objects.get()
    assert event.status == "processed", event.error
    assert Creator.objects.count() == creators_before  # every sender was known by id: nobody new

    replies = [m for m in messages if m.kind in kinds.REPLIES and not m.test]
    for message in messages:
        if message.test:
            assert not ConversationMessage.objects.filter(platform_message_id=message.message_id).exists()
            continue
        check_event(message, world, entry)
    for user_id, member in world.members.items():
        member.refresh_from_db()
        follow_up = world.follow_ups[user_id]
        follow_up.refresh_from_db()
        replied = any(m.sender_id == user_id for m in replies)
        assert member.stage == (CampaignMember.Stage.REPLIED if replied else CampaignMember.Stage.CONTACTED), entry
        assert follow_up.status == ("cancelled" if replied else "pending"), entry["file"]
    if not replies:
        assert ConsentEvent.objects.count() == ledger_before  # only a creator's message can decide anything
    else:
        grants = sum(
            classify.classify(m.text, ["#YesAcme"]).outcome in {classify.GRANTED, classify.OPTED_OUT} for m in replies
        )
        assert ConsentEvent.objects.count() - ledger_before <= grants


def check_event(message, world, entry):
    name = entry["file"]
    if message.kind in kinds.REPLIES:
        recorded = ConversationMessage.objects.get(platform=message.platform, platform_message_id=message.message_id)
        assert recorded.direction == "in"
        assert recorded.text == kinds.shown_text(message), name
        assert recorded.kind == kinds.stored_kind(message), name
        assert recorded.attachments == list(message.attachments), name
        assert recorded.payload == message.payload and recorded.reply_to == message.reply_to, name
        assert recorded.inbound_event_id is not None
    elif message.kind == "echo":
        recorded = ConversationMessage.objects.get(platform=message.platform, platform_message_id=message.message_id)
        assert (recorded.direction, recorded.text) == ("out", kinds.shown_text(message)), name
    elif message.kind in kinds.REACTIONS:
        target = world.targets[message.reacts_to]
        target.refresh_from_db()
        if message.kind == "reaction":
            assert target.reactions["creator"]["emoji"] == message.emoji, name
        else:
            assert "creator" not in target.reactions, name
    elif message.kind == "edit":
        target = world.targets[message.message_id]
        target.refresh_from_db()
        assert target.text == message.text and target.version == 1, name
        assert [v.text for v in target.versions.all()] == ["Sure #YesAcme", message.text], name
        assert target.classification == "needs_review", name  # the grant is not undone: a person decides
        assert FollowUpTask.objects.filter(conversation=target.conversation).exists()
    elif message.kind == "delete":
        target = world.targets[message.message_id]
        target.refresh_from_db()
        assert target.deleted_at == message.at and target.classification == "needs_review", name
    elif message.kind == "status":
        target = world.targets[message.message_id]
        target.refresh_from_db()
        row = world.outbox[message.message_id]
        row.refresh_from_db()
        statuses = [m.status for m in PARSERS["meta"](payload_of(entry)) if m.message_id == message.message_id]
        best = max(statuses, key=lambda status: kinds.STATUS_RANK[status])
        assert target.delivery_status == best, name  # never backwards, whatever the order
        if "failed" in statuses:
            assert (row.status, row.error_code, row.error_message) == (
                "failed", str(message.error_code), message.error_title
            ), name  # fmt: skip
        else:
            assert row.status == "sent", name
    elif message.kind == "read" and not message.ours:
        target = world.targets.get(f"watermark:{message.sender_id}") or world.targets[message.message_id]
        target.refresh_from_db()
        assert target.read_at is not None, name
    elif message.kind == "delivery":
        for mid in message.mids:
            target = world.targets[mid]
            target.refresh_from_db()
            assert target.delivered_at is not None, name
