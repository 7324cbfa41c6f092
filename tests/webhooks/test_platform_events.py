"""The fake Meta server speaks like the platform to the live CRM: signed webhooks for messages,
story mentions, reactions, edits, unsends, read and delivery receipts and WhatsApp statuses, and
the User Profile API that tells the CRM who an IGSID is (issue 12)."""

import pytest
from django.core.cache import cache
from django_q.conf import Conf

from crm import events
from crm.models import CampaignMember, ConsentEvent, Creator, PermissionRequest, SocialAccount
from crm.services import merge
from outreach import identity_lookup, tasks
from outreach.models import ConversationMessage, FollowUpTask, OutreachMessage
from tests.factories import CampaignMemberFactory, PermissionRequestFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN, PAGE, PAGE_TOKEN, WA_NUMBER, WA_TOKEN
from tests.outreach.factories import SenderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "platform-events-secret"
MAYA = "982340000000001"
STRANGER = "982340000000009"


@pytest.fixture
def meta(live_server, fake_meta, settings, monkeypatch):
    """The fake delivering signed webhooks to the live CRM, processed at once (SYNC queue)."""
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.META_APP_SECRET = SECRET
    cache.clear()
    fake_meta.deliver_to(f"{live_server.url}/webhooks/meta/", SECRET)
    fake_meta.sender = SenderAccountFactory(
        platform="instagram",
        variant="instagram_login",
        account_id=IG_ACCOUNT,
        token=IG_TOKEN,
        api_base_url=fake_meta.url,
    )
    yield fake_meta
    cache.clear()


def test_a_creator_imported_by_handle_who_writes_is_recognised_by_the_profile_api(meta):
    known = SocialAccountFactory(platform="instagram", handle="maya.hart", platform_user_id=None)
    meta.add_profile(MAYA, name="Maya Hart", username="maya.hart", profile_pic="https://cdn.example/maya.jpg")
    meta.emit_message(IG_ACCOUNT, MAYA, "Hi! Are you working with creators?")

    known.refresh_from_db()
    assert known.platform_user_id == MAYA  # the id is learnt
    assert Creator.objects.count() == 1  # no new unnamed contact
    message = ConversationMessage.objects.get()
    assert message.conversation.creator_id == known.creator_id
    assert meta.requests_to(rf"/v\d+\.\d+/{MAYA}$")[0].query["fields"][0].startswith("name,username")

    # The next message is matched by the learnt id: no second lookup.
    meta.emit_message(IG_ACCOUNT, MAYA, "Still there?")
    assert len(meta.requests_to(rf"/{MAYA}$")) == 1


def test_a_stranger_becomes_a_named_prospect_and_the_api_refuses_people_who_never_wrote(meta):
    meta.add_profile(STRANGER, name="Sam Films", username="sam.films")
    meta.emit_message(IG_ACCOUNT, STRANGER, "hello")
    account = SocialAccount.objects.get(platform_user_id=STRANGER)
    assert (account.handle, account.creator.name) == ("sam.films", "Sam Films")

    meta.add_profile("982340000000077", name="Never Wrote", username="never.wrote")
    with pytest.raises(identity_lookup.Refused, match="User consent is required to access user profile"):
        identity_lookup.lookup(meta.sender, "982340000000077")


def test_a_lookup_that_cannot_answer_leaves_a_provisional_contact_reconciled_later(meta):
    known = SocialAccountFactory(platform="instagram", handle="maya.hart", platform_user_id=None)
    meta.add_profile(MAYA, name="Maya Hart", username="maya.hart")
    meta.sender.api_base_url = "http://127.0.0.1:9"  # nothing listens: the lookup fails fast
    meta.sender.save()
    meta.emit_message(IG_ACCOUNT, MAYA, "Hi from a slow day")
    provisional = SocialAccount.objects.get(platform_user_id=MAYA)
    assert provisional.creator_id != known.creator_id  # threaded at once, on a provisional contact

    meta.sender.api_base_url = meta.url
    meta.sender.save()
    cache.clear()
    assert tasks.reconcile_identity(provisional.pk).startswith("merged into")
    known.refresh_from_db()
    assert known.platform_user_id == MAYA
    prospect = Creator.objects.get(pk=provisional.creator_id)
    assert prospect.merged_into_id == known.creator_id
    assert ConversationMessage.objects.get().conversation.creator_id == known.creator_id
    assert merge.current(prospect) == known.creator


def test_reactions_edits_and_unsends_are_not_replies_and_an_edited_grant_goes_to_review(meta):
    account = SocialAccountFactory(platform="instagram", handle="maya.hart", platform_user_id=MAYA)
    creator = account.creator
    request = PermissionRequestFactory(content__creator=creator, requested=True)
    mid = meta.emit_message(IG_ACCOUNT, MAYA, "Sure! #YesAcme")
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.GRANTED
    granted = ConversationMessage.objects.get(platform_message_id=mid)
    ledger = ConsentEvent.objects.count()
    member = CampaignMemberFactory(creator=creator, stage=CampaignMember.Stage.CONTACTED)

    meta.emit_reaction(IG_ACCOUNT, MAYA, mid, "❤️")
    granted.refresh_from_db()
    assert granted.reactions["creator"]["emoji"] == "❤️"
    member.refresh_from_db()
    assert member.stage == CampaignMember.Stage.CONTACTED  # a reaction is not a reply
    assert ConversationMessage.objects.count() == 1

    meta.emit_edit(IG_ACCOUNT, MAYA, mid, "Sure! #YesAcme but only on Instagram")
    granted.refresh_from_db()
    assert granted.text == "Sure! #YesAcme but only on Instagram" and granted.version == 1
    assert [v.text for v in granted.versions.all()] == ["Sure! #YesAcme", "Sure! #YesAcme but only on Instagram"]
    assert granted.classification == "needs_review" and "version 0" in granted.classification_rule
    assert ConsentEvent.objects.count() == ledger  # the ledger is not written to
    assert FollowUpTask.objects.filter(creator=creator).exists()
    member.refresh_from_db()
    assert member.stage == CampaignMember.Stage.CONTACTED

    meta.emit_unsend(IG_ACCOUNT, MAYA, mid)
    granted.refresh_from_db()
    assert granted.deleted_at is not None
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.GRANTED  # a person decides

    meta.emit_reaction(IG_ACCOUNT, MAYA, mid, None)
    granted.refresh_from_db()
    assert "creator" not in granted.reactions


def test_a_story_mention_is_threaded_with_its_link(meta):
    SocialAccountFactory(platform="instagram", handle="maya.hart", platform_user_id=MAYA)
    meta.emit_story_mention(IG_ACCOUNT, MAYA, "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1")
    message = ConversationMessage.objects.get()
    assert message.kind == "story_mention"
    assert message.attachments == [
        {"type": "story_mention", "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"}
    ]
    assert message.text == "[story_mention] https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1"


def test_messenger_echoes_then_delivery_and_read_watermarks(meta):
    from outreach.channels.base import Outbound
    from outreach.channels.messenger import build
    from tests.fakes.meta import messenger_config

    psid = "6543210000000001"
    SocialAccountFactory(platform="facebook", handle="ana.mueller", platform_user_id=psid)
    SenderAccountFactory(platform="messenger", variant="", account_id=PAGE, token=PAGE_TOKEN, api_base_url=meta.url)
    meta.emit_message(PAGE, psid, "Hi!")
    sent = build(messenger_config(meta)).send(Outbound(recipient_id=psid, text="Thanks Ana!"))
    meta.emit_echoes(PAGE)
    ours = ConversationMessage.objects.get(platform_message_id=sent.provider_message_id)
    assert ours.direction == "out" and ours.text == "Thanks Ana!"
    meta.clock.advance(5)
    meta.emit_delivery(PAGE, psid, [sent.provider_message_id])
    ours.refresh_from_db()
    assert ours.delivered_at is not None and ours.read_at is None
    meta.clock.advance(5)
    meta.emit_read(PAGE, psid)
    ours.refresh_from_db()
    assert ours.read_at is not None and ours.delivery_status == "read"


def test_a_whatsapp_failed_status_fails_the_outbox_row_and_publishes_message_failed(meta):
    published = []

    def listen(sender, event, **kwargs):
        published.append(event.type)

    events.domain_event.connect(listen)
    SenderAccountFactory(platform="whatsapp", variant="", account_id=WA_NUMBER, token=WA_TOKEN, api_base_url=meta.url)
    account = SocialAccountFactory(platform="whatsapp", handle="447700900123", platform_user_id="447700900123")
    row = OutreachMessage.objects.create(
        dedupe_key="wa-failed-1",
        creator=account.creator,
        sender_account=SenderAccountFactory(platform="whatsapp", variant="", account_id="other"),
        platform="whatsapp",
        rendered_text="Hi Leo",
        status=OutreachMessage.Status.SENT,
        provider_message_id="wamid.FAILED1",
    )
    meta.emit_whatsapp_status(WA_NUMBER, "wamid.FAILED1", "delivered")
    meta.emit_whatsapp_status(WA_NUMBER, "wamid.FAILED1", "failed", code=131047, title="Re-engagement message")
    row.refresh_from_db()
    assert (row.status, row.error_code, row.error_message) == ("failed", "131047", "Re-engagement message")
    meta.emit_whatsapp_status(WA_NUMBER, "wamid.FAILED1", "failed", code=131047, title="Re-engagement message")
    events.domain_event.disconnect(listen)
    assert published.count("message.failed") == 1  # once, though the status came twice


def test_the_conversation_page_shows_kinds_reactions_edits_and_unsends(meta, client, alice):
    SocialAccountFactory(platform="instagram", handle="maya.hart", platform_user_id=MAYA)
    story = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=7"
    mid = meta.emit_story_mention(IG_ACCOUNT, MAYA, story)
    other = meta.emit_message(IG_ACCOUNT, MAYA, "first words")
    meta.emit_reaction(IG_ACCOUNT, MAYA, mid, "🔥")
    meta.emit_edit(IG_ACCOUNT, MAYA, other, "second words")
    meta.emit_unsend(IG_ACCOUNT, MAYA, other)
    client.force_login(alice)
    conversation = ConversationMessage.objects.get(platform_message_id=mid).conversation
    page = client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "story_mention" in page and story.replace("&", "&amp;") in page and "🔥" in page
    assert "second words" in page and "edited (1)" in page and "unsent" in page


def test_play_back_echoes_then_reads_what_the_crm_sent_and_an_app_send_clears_the_manual_queue(meta):
    from outreach.channels.base import Outbound
    from outreach.channels.instagram import build
    from tests.fakes.meta import instagram_login_config

    account = SocialAccountFactory(platform="instagram", handle="maya.hart", platform_user_id=MAYA)
    meta.emit_message(IG_ACCOUNT, MAYA, "Hi!")
    sent = build(instagram_login_config(meta)).send(Outbound(recipient_id=MAYA, text="Hello Maya"))
    assert meta.play_back() == 1  # the echo
    ours = ConversationMessage.objects.get(platform_message_id=sent.provider_message_id)
    assert ours.direction == "out" and ours.read_at is None
    meta.clock.advance(6)
    assert meta.play_back() == 1  # the read receipt
    ours.refresh_from_db()
    assert ours.read_at is not None

    queued = OutreachMessage.objects.create(
        dedupe_key="manual-1", creator=account.creator, sender_account=meta.sender, platform="instagram",
        rendered_text="Typed in the app", status=OutreachMessage.Status.MANUAL,
    )  # fmt: skip
    meta.emit_app_message(IG_ACCOUNT, MAYA, "Typed in the app")
    queued.refresh_from_db()
    assert queued.status == "sent"


def test_the_lookup_backs_off_after_a_rate_limit_and_keeps_to_its_budget(meta, monkeypatch):
    meta.user_wrote(IG_ACCOUNT, MAYA)
    meta.add_profile(MAYA, name="Maya Hart", username="maya.hart")
    meta.fail_profile_next(code=4)
    with pytest.raises(identity_lookup.Unavailable, match="rate limited"):
        identity_lookup.lookup(meta.sender, MAYA)
    calls = len(meta.requests_to(rf"/{MAYA}$"))
    with pytest.raises(identity_lookup.Unavailable, match="backing off"):
        identity_lookup.lookup(meta.sender, MAYA)
    assert len(meta.requests_to(rf"/{MAYA}$")) == calls  # the platform was not asked again

    cache.clear()
    assert identity_lookup.lookup(meta.sender, MAYA).username == "maya.hart"
    assert identity_lookup.lookup(meta.sender, MAYA).name == "Maya Hart"  # from the cache
    assert len(meta.requests_to(rf"/{MAYA}$")) == calls + 1

    cache.clear()
    monkeypatch.setattr(identity_lookup, "LOOKUPS_PER_MINUTE", 1)
    identity_lookup.lookup(meta.sender, MAYA)
    with pytest.raises(identity_lookup.Unavailable, match="budget"):
        identity_lookup.lookup(meta.sender, "982340000000005")


def test_a_messenger_stranger_is_named_from_the_psid_profile(meta):
    SenderAccountFactory(platform="messenger", variant="", account_id=PAGE, token=PAGE_TOKEN, api_base_url=meta.url)
    meta.add_profile("6543210000000009", first_name="Tom", last_name="Becker", profile_pic="https://cdn.example/t")
    meta.emit_message(PAGE, "6543210000000009", "Hello")
    account = SocialAccount.objects.get(platform="facebook", platform_user_id="6543210000000009")
    assert account.creator.name == "Tom Becker"
    [lookup] = meta.requests_to(r"/6543210000000009$")
    assert lookup.query["access_token"] == [PAGE_TOKEN]  # a Page token goes as the parameter


def test_a_messenger_reaction_opens_the_window_without_being_a_reply(meta):
    psid = "6543210000000001"
    account = SocialAccountFactory(platform="facebook", handle="ana.mueller", platform_user_id=psid)
    SenderAccountFactory(platform="messenger", variant="", account_id=PAGE, token=PAGE_TOKEN, api_base_url=meta.url)
    meta.emit_message(PAGE, psid, "Hi!")
    conversation = ConversationMessage.objects.get().conversation
    first = conversation.last_inbound_at
    member = CampaignMemberFactory(creator=account.creator, stage=CampaignMember.Stage.CONTACTED)
    meta.clock.advance(3600)
    meta.emit_reaction(PAGE, psid, ConversationMessage.objects.get().platform_message_id, "👍")
    conversation.refresh_from_db()
    member.refresh_from_db()
    assert conversation.last_inbound_at > first
    assert member.stage == CampaignMember.Stage.CONTACTED and ConversationMessage.objects.count() == 1


def test_a_person_decides_on_the_edited_version_and_the_ledger_keeps_both_decisions(meta, alice):
    from outreach.inbound import classify_by_person

    account = SocialAccountFactory(platform="instagram", handle="maya.hart", platform_user_id=MAYA)
    request = PermissionRequestFactory(content__creator=account.creator, requested=True)
    mid = meta.emit_message(IG_ACCOUNT, MAYA, "Sure! #YesAcme")
    meta.emit_edit(IG_ACCOUNT, MAYA, mid, "Actually no, please don't use it")
    message = ConversationMessage.objects.get(platform_message_id=mid)
    assert message.classification == "needs_review"
    classify_by_person(message, actor=alice, decision="revoked", request=request)
    message.refresh_from_db()
    assert message.classified_version == 1
    decisions = list(ConsentEvent.objects.filter(permission_request=request).order_by("id"))
    assert [(e.kind, e.inbound_text) for e in decisions] == [
        ("rights_granted", "Sure! #YesAcme"),  # the version it was made on, never rewritten
        ("rights_revoked", "Actually no, please don't use it"),
    ]


def test_instagram_through_facebook_login_looks_up_with_the_page_token(meta):
    from tests.fakes.meta import IG_PAGE, IG_PAGE_TOKEN

    SenderAccountFactory(
        platform="instagram", variant="messenger_platform", account_id=IG_PAGE, token=IG_PAGE_TOKEN,
        api_base_url=meta.url,
    )  # fmt: skip
    meta.sender.delete()  # only the Page-fronted account remains
    known = SocialAccountFactory(platform="instagram", handle="leo.hart", platform_user_id=None)
    meta.add_profile("982340000000002", name="Leo Hart", username="leo.hart")
    meta.user_wrote(IG_PAGE, "982340000000002")
    event = {
        "sender": {"id": "982340000000002"},
        "recipient": {"id": IG_ACCOUNT},
        "message": {"mid": "m-leo", "text": "hey"},
    }
    meta._messaging(IG_ACCOUNT, event)  # the webhook names the IG account, not the Page
    known.refresh_from_db()
    assert known.platform_user_id == "982340000000002"
    [lookup] = meta.requests_to(r"/982340000000002$")
    assert lookup.query["access_token"] == [IG_PAGE_TOKEN]
