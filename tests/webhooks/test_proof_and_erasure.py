"""Proof of a granted permission (JSON, printable page, CSV), expiry alerts, and erasure that keeps proof."""

import csv
import datetime
import hashlib
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.models import EvidenceText
from outreach import services as outreach_services
from outreach.models import OutreachMessage
from tests.factories import CampaignFactory, ContentFactory, PermissionRequestFactory, SocialAccountFactory
from tests.outreach.factories import SenderAccountFactory

pytestmark = pytest.mark.django_db
REPLY = services.Evidence(
    channel="instagram",
    message_id="mid.42",
    text="Yes of course! #YesAcme",
    rule="approval hashtag #YesAcme as its own word",
)


@pytest.fixture
def granted(alice):
    campaign = CampaignFactory(owner=alice)
    account = SocialAccountFactory(platform="instagram", handle="maya.hart")
    request = PermissionRequestFactory(
        content=ContentFactory(creator=account.creator, campaign=campaign),
        campaign=campaign,
        created_by=alice,
        requested=True,
    )
    services.grant_rights(request, actor=None, evidence=REPLY)
    request.refresh_from_db()
    return request


def test_the_proof_has_everything_a_lawyer_asks_for(client, alice, granted):
    client.force_login(alice)
    proof = client.get(reverse("permission-proof-json", args=[granted.pk])).json()
    assert proof["status"] == "granted"
    assert (proof["asked_by"], proof["asked_with_text"]) == ("alice", "Reply #YesAcme to let us share your post")
    assert proof["asked_at"] and proof["decided_at"] and proof["rights_expire_at"]
    assert proof["terms"]["sha256"] == granted.terms_sha256 and proof["terms"]["url"] == granted.terms_url
    assert proof["scope"] == {
        "channels": ["organic_social", "paid_ads"],
        "territory": "worldwide",
        "exclusive": False,
        "duration_days": 90,
    }
    [decision] = proof["ledger"]
    assert decision["creator_text"] == "Yes of course! #YesAcme"
    assert (decision["platform_message_id"], decision["recorded_by"]) == ("mid.42", "system")
    assert decision["rule"] == "approval hashtag #YesAcme as its own word"
    assert proof["ledger_intact"] is True
    page = client.get(reverse("permission-proof", args=[granted.pk]))
    assert page.status_code == 200
    for expected in ["Yes of course! #YesAcme", granted.terms_sha256, "mid.42", "ledger is intact"]:
        assert expected in page.content.decode()


def test_the_campaign_decisions_export_lists_every_decision(client, alice, granted):
    client.force_login(alice)
    response = client.get(reverse("campaign-decisions-csv", args=[granted.campaign_id]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["permission_request"], r["decision"], r["platform_message_id"]) for r in rows] == [
        (str(granted.pk), "rights_granted", "mid.42")
    ]


def test_proof_pages_need_a_login(client, granted):
    response = client.get(reverse("permission-proof-json", args=[granted.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_rights_nearing_their_end_are_listed(granted):
    assert list(services.rights_expiring(within_days=14)) == []
    soon = timezone.now() + datetime.timedelta(days=89)
    assert list(services.rights_expiring(within_days=14, now=soon - datetime.timedelta(days=10))) == [granted]


def test_erasure_removes_the_person_and_their_words_but_keeps_the_proof(alice, granted):
    creator = granted.creator
    OutreachMessage.objects.create(
        permission_request=granted,
        creator=creator,
        sender_account=SenderAccountFactory(),
        platform="instagram",
        rendered_text="Hi Maya, may we share your post?",
        recipient_id="1789",
        status="sent",
    )
    outreach_services.erase_creator(creator, actor=alice)
    creator.refresh_from_db()
    assert creator.erased_at and creator.name == f"Erased creator {creator.pk}" and creator.email == ""
    assert not creator.accounts.exists()
    assert creator.erased_handle_hashes == [hashlib.sha256(b"instagram:maya.hart").hexdigest()]
    assert not EvidenceText.objects.filter(creator=creator).exists()
    assert set(OutreachMessage.objects.values_list("rendered_text", "recipient_id")) == {("[erased]", "")}
    proof = services.permission_proof(granted)
    [decision] = proof["ledger"]
    assert decision["creator_text"] is None
    assert decision["creator_text_sha256"] == EvidenceText.digest("Yes of course! #YesAcme")
    assert (decision["kind"], decision["platform_message_id"]) == ("rights_granted", "mid.42")
    assert proof["ledger_intact"] is True
    assert creator not in type(creator).objects.contactable()
