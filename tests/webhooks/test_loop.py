"""The whole loop against the fake Instagram API: the creator writes first, a campaign DM goes out
by API, a permission request follows, the creator answers with the hashtag, rights are granted."""

import json
import time

import pytest
from django_q.conf import Conf

from crm.models import ConsentEvent, PermissionRequest
from outreach import services, worker
from outreach.models import ConversationMessage, OutreachMessage
from outreach.webhooks import meta
from tests.factories import CampaignFactory, CampaignMemberFactory, ContentFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db
SECRET = "meta-app-secret"


@pytest.fixture(autouse=True)
def secrets(settings, monkeypatch):
    settings.META_APP_SECRET = SECRET
    monkeypatch.setattr(Conf, "SYNC", True)


def creator_writes(client, fake, igsid: str, text: str, mid: str, capture):
    """The platform side (the fake records the user's message) and its signed webhook to us."""
    fake.user_wrote(IG_ACCOUNT, igsid)
    now = int(time.time() * 1000)
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": IG_ACCOUNT,
                    "time": now,
                    "messaging": [
                        {
                            "sender": {"id": igsid},
                            "recipient": {"id": IG_ACCOUNT},
                            "timestamp": now,
                            "message": {"mid": mid, "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()
    with capture(execute=True):
        response = client.post(
            "/webhooks/meta/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta.sign(body, SECRET)
        )
    assert response.status_code == 200


def test_creator_writes_first_then_dm_then_rights_request_then_hashtag_grants(
    client, fake_meta, alice, django_capture_on_commit_callbacks
):
    sender = SenderAccountFactory(
        platform="instagram",
        variant="instagram_login",
        account_id=IG_ACCOUNT,
        token=IG_TOKEN,
        api_base_url=fake_meta.url,
    )
    campaign = CampaignFactory(owner=alice, brand="Acme", approval_hashtag="#YesAcme")

    # 1. A creator nobody knew writes to the brand's Instagram.
    creator_writes(
        client, fake_meta, "982340000000001", "Hi! Love your serums", "mid-1", django_capture_on_commit_callbacks
    )
    member = CampaignMemberFactory(campaign=campaign, creator=ConversationMessage.objects.get().conversation.creator)
    creator = member.creator

    # 2. The campaign's DM goes out through the API, inside the window.
    template = MessageTemplateFactory(body='Hi {{ creator.first_name|default:"there" }}! {{ campaign.brand }} here.')
    with django_capture_on_commit_callbacks(execute=True):
        services.launch_campaign(campaign, actor=alice, sender_account=sender, template=template)
    dm = OutreachMessage.objects.get(campaign=campaign, permission_request=None)
    assert (dm.status, dm.delivery_mode) == ("sent", "api")

    # 3. A permission request for one of their posts, sent as a DM with the hashtag and terms.
    content = ContentFactory(creator=creator, campaign=campaign)
    from crm import services as crm_services

    request = crm_services.request_permission(
        content,
        actor=alice,
        scope=crm_services.Scope(channels=["organic_social", "paid_ads"], territory="worldwide", duration_days=90),
        terms_url="https://acme.example.com/ugc-terms",
        terms_text="You grant Acme a licence to repost this post with credit.",
    )
    ask = MessageTemplateFactory(
        body="May we share {{ content.url }} ({{ permission_request.scope }}, {{ permission_request.expiry }})? "
        "Reply {{ permission_request.approval_hashtag }} to agree to {{ permission_request.terms_url }}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.send_permission_request(request, actor=alice, sender_account=sender, template=ask)
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.REQUESTED
    asked = [m for m in fake_meta.sent(IG_ACCOUNT) if "#YesAcme" in m["text"]]
    assert len(asked) == 1 and request.request_text == asked[0]["text"]

    # 4. The creator answers with the hashtag: rights granted, with the proof.
    creator_writes(
        client, fake_meta, "982340000000001", "Of course! #yesacme", "mid-2", django_capture_on_commit_callbacks
    )
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.GRANTED
    grant = ConsentEvent.objects.get(permission_request=request)
    assert grant.kind == "rights_granted"
    assert (grant.inbound_text, grant.inbound_message_id, grant.channel) == (
        "Of course! #yesacme",
        "mid-2",
        "instagram",
    )
    assert grant.outbound_text == asked[0]["text"]
    assert grant.terms_sha256 == PermissionRequest.hash_terms(
        "You grant Acme a licence to repost this post with credit."
    )
    assert grant.rule == "approval hashtag #YesAcme as its own word"
    assert grant.recorded_by is None and grant.recorded_by_label == "system"
    assert request.rights_expire_at is not None
    reply = ConversationMessage.objects.get(platform_message_id="mid-2")
    assert reply.classification == "granted"
    assert worker.send_due(sender.pk).claimed == 0
