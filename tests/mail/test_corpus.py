"""Regression tests on real-client emails (tests/fixtures/webhooks/MANIFEST.json, the corpus): what
each message is, the creator's own words, and, through the whole pipeline with an authenticated
sender answering our email, that an approval hashtag only inside the quoted text never grants."""

import json
from pathlib import Path

import pytest
from django.utils import timezone
from django_q.conf import Conf

from crm.models import PermissionRequest
from outreach.models import ConversationMessage, OutreachMessage
from outreach.webhooks import email as email_hook
from tests.factories import CreatorFactory, PermissionRequestFactory
from tests.outreach.factories import SenderAccountFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
MANIFEST = FIXTURES / "MANIFEST.json"
ENTRIES = [e for e in json.loads(MANIFEST.read_text()) if e["provider"] == "email"] if MANIFEST.exists() else []
REPLIES = [e for e in ENTRIES if e["expect"]["kind"] in ("reply", "forward")]
OURS = ("partners@acme.example",)
SECRET = "mail-secret"


def normal(text: str) -> str:
    return " ".join((text or "").split())


def raw_of(entry) -> bytes:
    return (FIXTURES / entry["file"]).read_bytes()


def test_the_corpus_has_enough_client_replies():
    assert len(REPLIES) >= 25


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_what_each_message_is(entry):
    expect = entry["expect"]
    parsed = email_hook.parse(raw_of(entry), our_addresses=OURS)
    assert parsed.sender_id == expect["from"].lower()
    assert parsed.kind == {"reply": "message", "forward": "message"}.get(expect["kind"], expect["kind"])
    if expect["kind"] == "bounce":
        assert parsed.recipient_id == expect["bounced_recipient"]
        assert parsed.bounce_status == expect["status"]
        assert parsed.bounce_status.startswith("5") == expect["permanent"]
        assert expect["in_reply_to"] in parsed.references  # the report names our message
    else:
        assert parsed.message_id == expect["message_id"]
        assert expect["in_reply_to"] in parsed.references


@pytest.mark.parametrize("entry", REPLIES, ids=[e["file"] for e in REPLIES])
def test_the_creators_own_words(entry):
    expect = entry["expect"]
    parsed = email_hook.parse(raw_of(entry), our_addresses=OURS)
    assert parsed.split_certain, parsed.evidence
    mine, theirs = normal(parsed.text), normal(expect["own_words"])
    # A sign-off the library counts as signature may be left out; nothing else may differ.
    assert mine and (mine == theirs or theirs.startswith(mine)), (mine, theirs)
    assert ("#YesAcme" in parsed.text) == expect["own_words_have_hashtag"]


@pytest.mark.django_db
@pytest.mark.parametrize("entry", REPLIES + [e for e in ENTRIES if e["expect"]["kind"] == "auto_reply"],
                         ids=lambda e: e["file"])  # fmt: skip
def test_a_hashtag_only_in_the_quote_never_grants(
    entry, client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.EMAIL_WEBHOOK_SECRET, settings.EMAIL_TRUSTED_AUTHSERV_IDS = SECRET, ["mx.acme.example"]
    monkeypatch.setattr(Conf, "SYNC", True)
    expect = entry["expect"]
    creator = CreatorFactory(email=expect["from"].lower())
    request = PermissionRequestFactory(content__creator=creator, requested=True)
    OutreachMessage.objects.create(
        permission_request=request, creator=creator, platform="email", status="sent", sent_at=timezone.now(),
        sender_account=SenderAccountFactory(platform="email", variant="", account_id=OURS[0]),
        rendered_text="Reply #YesAcme to let us share your post", provider_message_id=expect["in_reply_to"],
    )  # fmt: skip
    domain = expect["from"].rpartition("@")[2]
    raw = f"Authentication-Results: mx.acme.example; dkim=pass header.d={domain}\r\n".encode() + raw_of(entry)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/webhooks/email/", raw, content_type="message/rfc822", HTTP_X_WEBHOOK_SECRET=SECRET)
    assert response.status_code == 200
    request.refresh_from_db()
    recorded = ConversationMessage.objects.get()
    if expect["kind"] == "auto_reply" or not expect["own_words_have_hashtag"]:
        assert request.status == PermissionRequest.Status.REQUESTED
        assert recorded.classification != "granted"
    else:
        assert request.status == PermissionRequest.Status.GRANTED, recorded.classification_rule
