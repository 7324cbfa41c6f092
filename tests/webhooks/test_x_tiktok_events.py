"""The fake X and TikTok servers deliver signed webhooks to the live CRM: DMs with the users map
in both shapes (a known creator is matched by handle, never duplicated), echoes of our sends, and
read receipts (TikTok's repeat the same message id, and none is lost as a duplicate)."""

import pytest
from django_q.conf import Conf

from crm.models import Creator
from outreach.channels.base import Outbound
from outreach.channels.tiktok import build as build_tiktok
from outreach.channels.x import build as build_x
from outreach.models import ConversationMessage, InboundEvent
from tests.factories import SocialAccountFactory
from tests.fakes.tiktok import BRAND_BUSINESS_ID, tiktok_config
from tests.fakes.x import BRAND_X_ID, x_config

pytestmark = pytest.mark.django_db(transaction=True)

CONVERSATION = "0:1:7301000000000000001:-000Creator0Lily0Openid"
LILY = "-000Creator0Lily0Openid"


@pytest.fixture(autouse=True)
def queue_runs_at_once(monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.X_CONSUMER_SECRET = "x-secret"
    settings.TIKTOK_APP_SECRET = "tiktok-secret"


@pytest.mark.parametrize("shape", ["aaa", "xaa"])
def test_a_known_x_creator_is_matched_by_the_users_map_in_both_shapes(live_server, fake_x, shape):
    known = SocialAccountFactory(platform="x", handle="ninacosta", platform_user_id=None)
    fake_x.deliver_to(f"{live_server.url}/webhooks/x/", "x-secret", shape=shape)
    fake_x.emit_dm(BRAND_X_ID, "2244994945", "Of course #YesAcme", screen_name="NinaCosta", name="Nina Costa")
    known.refresh_from_db()
    assert known.platform_user_id == "2244994945"
    assert Creator.objects.count() == 1
    assert ConversationMessage.objects.get().conversation.creator_id == known.creator_id

    fake_x.accepts_dms(BRAND_X_ID, "2244994945")
    sent = build_x(x_config(fake_x)).send(Outbound(recipient_id="2244994945", text="Thanks Nina!"))
    fake_x.emit_echoes(BRAND_X_ID)
    ours = ConversationMessage.objects.get(platform_message_id=sent.provider_message_id)
    assert ours.direction == "out"
    fake_x.now.advance(10)  # the fake's hand-moved clock
    fake_x.emit_read(BRAND_X_ID, "2244994945", sent.provider_message_id)
    ours.refresh_from_db()
    assert ours.read_at is not None


def test_tiktok_read_receipts_are_each_applied_not_dropped_as_duplicates(live_server, fake_tiktok):
    known = SocialAccountFactory(platform="tiktok", handle="lilycooks", platform_user_id=None)
    fake_tiktok.deliver_to(f"{live_server.url}/webhooks/tiktok/", "tiktok-secret")
    fake_tiktok.emit_message(BRAND_BUSINESS_ID, CONVERSATION, LILY, "lilycooks", "hi! #YesAcme")
    known.refresh_from_db()
    assert known.platform_user_id == LILY

    channel = build_tiktok(tiktok_config(fake_tiktok))
    first = channel.send(Outbound(recipient_id=CONVERSATION, text="Hi Lily!"))
    fake_tiktok.emit_echoes(BRAND_BUSINESS_ID)
    clock = fake_tiktok.now  # the fake's hand-moved clock
    clock.advance(5)
    fake_tiktok.emit_read(BRAND_BUSINESS_ID, CONVERSATION, LILY, "lilycooks")
    assert ConversationMessage.objects.get(platform_message_id=first.provider_message_id).read_at is not None

    clock.advance(5)
    second = channel.send(Outbound(recipient_id=CONVERSATION, text="Could we feature it?"))
    fake_tiktok.emit_echoes(BRAND_BUSINESS_ID)
    clock.advance(5)
    fake_tiktok.emit_read(BRAND_BUSINESS_ID, CONVERSATION, LILY, "lilycooks")
    assert ConversationMessage.objects.get(platform_message_id=second.provider_message_id).read_at is not None
    reads = InboundEvent.objects.filter(provider="tiktok", event_id__startswith="im_mark_read_msg")
    assert reads.count() == 2 and all(r.status == "processed" for r in reads)
