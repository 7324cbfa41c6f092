"""Decisions a person can correct without rewriting the ledger: a "recorded in error" entry voids a
mistaken one (pages and API), withdrawals in the creator's words, opt-in only on their own message,
and no one-click grant when a creator has several open requests."""

import datetime

import pytest
from django.utils import timezone

from crm import services
from crm.errors import DomainError
from crm.models import ConsentEvent, Creator, PermissionRequest
from outreach import inbound
from outreach.classify import NEEDS_REVIEW, OPTED_IN, REVOKED, classify
from outreach.models import Conversation, ConversationMessage
from tests.api.conftest import api_for
from tests.factories import CampaignFactory, ContentFactory, CreatorFactory, PermissionRequestFactory

Status = PermissionRequest.Status


def reply_from(creator, text, mid):
    conversation, _ = Conversation.objects.get_or_create(creator=creator, platform="instagram")
    return ConversationMessage.objects.create(
        conversation=conversation, platform="instagram", direction="in", platform_message_id=mid, text=text,
        at=timezone.now(), classification="needs_review",
    )  # fmt: skip


def granted_by_misclick(alice, campaign):
    request = PermissionRequestFactory(
        content=ContentFactory(campaign=campaign), campaign=campaign, requested=True, duration_days=30
    )
    message = reply_from(request.creator, "What would you use it for?", "mid.question")
    inbound.classify_by_person(message, actor=alice, decision="granted")
    request.refresh_from_db()
    assert request.status == Status.GRANTED
    return request, message, request.consent_events.get()


def test_a_misclicked_grant_is_voided_by_a_new_entry_and_the_post_may_not_be_used(alice, campaign):
    request, message, grant = granted_by_misclick(alice, campaign)
    correction = inbound.correct_decision(grant, actor=alice, reason="Clicked granted on a question.")
    request.refresh_from_db()
    assert request.status == Status.REQUESTED  # as if the grant had not been written
    assert request.rights_expire_at is None and request.decided_at is None
    assert (correction.kind, correction.voids, correction.recorded_by) == (
        ConsentEvent.Kind.RECORDED_IN_ERROR,
        grant,
        alice,
    )
    assert correction.note == "Clicked granted on a question."
    assert ConsentEvent.objects.filter(pk=grant.pk, kind="rights_granted").exists()  # never rewritten
    assert services.verify_ledger(request.creator) == []
    proof = services.permission_proof(request)
    assert [entry["kind"] for entry in proof["ledger"]] == ["rights_granted", "recorded_in_error"]
    assert proof["ledger"][1]["voids"] == grant.pk
    message.refresh_from_db()
    assert message.classification == "needs_review"  # a person says again what it meant
    with pytest.raises(DomainError, match="already recorded as an error"):
        inbound.correct_decision(grant, actor=alice, reason="again")
    with pytest.raises(DomainError, match="cannot itself be voided"):
        inbound.correct_decision(correction, actor=alice, reason="undo")
    # The real answer can now be recorded on the request as usual.
    services.decline_rights(request, actor=alice, evidence=services.Evidence(text="No thanks", rule="test"))
    request.refresh_from_db()
    assert request.status == Status.DECLINED


def test_a_correction_needs_a_person_and_a_reason(alice, campaign):
    _, _, grant = granted_by_misclick(alice, campaign)
    with pytest.raises(DomainError, match="Only a person"):
        services.void_entry(grant, actor=None, reason="rules")
    with pytest.raises(DomainError, match="Say why"):
        services.void_entry(grant, actor=alice, reason="  ")


def test_a_correction_is_distinct_from_the_creators_withdrawal(alice, campaign):
    request, _, grant = granted_by_misclick(alice, campaign)
    services.revoke_rights(request, actor=alice, evidence=services.Evidence(text="take it down", rule="test"))
    revoke = request.consent_events.get(kind="rights_revoked")
    inbound.correct_decision(revoke, actor=alice, reason="Wrong creator's message.")
    request.refresh_from_db()
    assert request.status == Status.GRANTED  # the withdrawal was the mistake: the grant stands again
    assert request.rights_expire_at == grant.occurred_at + datetime.timedelta(days=30)


def test_a_mistaken_opt_out_is_voided_and_contact_is_derived_again(alice):
    creator = CreatorFactory()
    opt_out = services.opt_out(creator, actor=alice, evidence=services.Evidence(text="stop", rule="test"))
    assert Creator.objects.get(pk=creator.pk).opted_out_at is not None
    inbound.correct_decision(opt_out, actor=alice, reason="It was another creator's STOP.")
    assert Creator.objects.get(pk=creator.pk).opted_out_at is None


def test_the_api_and_the_page_record_a_correction_with_who_and_why(alice, bob, charlie, campaign, client):
    request, _, grant = granted_by_misclick(alice, campaign)
    assert api_for(charlie).post(f"/api/v1/consent-events/{grant.pk}/void/", {"reason": "x"}).status_code == 404
    answer = api_for(bob).post(f"/api/v1/consent-events/{grant.pk}/void/", {"reason": "Misclick."})
    assert answer.status_code == 201
    assert answer.json()["voids"] == grant.pk and answer.json()["kind"] == "recorded_in_error"
    listed = {row["id"]: row for row in api_for(alice).get("/api/v1/consent-events/").json()["results"]}
    assert listed[grant.pk]["voided_by"] == answer.json()["id"]
    assert api_for(bob).post(f"/api/v1/consent-events/{grant.pk}/void/", {"reason": "again"}).status_code == 400
    # The page: a second mistaken grant, corrected from the request's page; the proof shows both entries.
    message = reply_from(request.creator, "Maybe later?", "mid.later")
    inbound.classify_by_person(message, actor=alice, decision="granted", request=request)
    second = request.consent_events.filter(kind="rights_granted").latest("id")
    client.force_login(alice)
    page = client.get(f"/permission-requests/{request.pk}/").content.decode()
    assert "A decision recorded in error" in page and f'value="{second.pk}"' in page
    response = client.post(
        f"/permission-requests/{request.pk}/void/", {"entry": second.pk, "reason": "Read the wrong reply."}, follow=True
    )
    assert "recorded as an error" in response.content.decode()
    proof = client.get(f"/permission-requests/{request.pk}/proof/").content.decode()
    assert proof.count("recorded in error") >= 2 and "Read the wrong reply." in proof
    request.refresh_from_db()
    assert request.status == Status.REQUESTED


@pytest.mark.parametrize(
    "text",
    ["STOP RIGHTS", "stop rights.", "please take my post down", "Take it down please", "I withdraw my permission"],
)
def test_withdrawals_in_the_creators_words_revoke_granted_rights(text):
    assert classify(text, [], has_granted=True).outcome == REVOKED
    assert classify(text, [], has_granted=False).outcome == NEEDS_REVIEW  # nothing to withdraw: a person reads it
    assert classify(text, ["#YesAcme"], has_granted=True).outcome == NEEDS_REVIEW  # ambiguous with an open request


def test_an_opted_out_creator_is_opted_back_in_only_on_their_own_new_message(alice):
    creator = CreatorFactory()
    services.opt_out(creator, actor=None, evidence=services.Evidence(text="STOP", rule="keyword STOP"))
    with pytest.raises(DomainError, match="Quote the creator's own message"):
        services.opt_in(creator, actor=alice, evidence=services.Evidence(note="they said so on a call"))
    with pytest.raises(DomainError, match="after their opt-out"):
        services.opt_in(
            creator,
            actor=alice,
            evidence=services.Evidence(text="ok", occurred_at=timezone.now() - datetime.timedelta(days=1)),
        )
    assert classify("START", []).outcome == OPTED_IN
    message = reply_from(creator, "START", "mid.start")
    inbound.consent.apply_rules(message, creator)  # the rules, as for a webhook's reply
    creator.refresh_from_db()
    assert creator.opted_out_at is None
    event = creator.consent_events.latest("id")
    assert (event.kind, event.recorded_by, event.inbound_message_id) == ("opted_in", None, "mid.start")
    message.refresh_from_db()
    assert message.classification == "opted_in"


def test_the_inbox_never_grants_with_one_click_when_several_requests_are_open(alice, client):
    campaign = CampaignFactory(owner=alice)
    creator = CreatorFactory(name="Maya Hart")
    first, second = (
        PermissionRequestFactory(
            content=ContentFactory(creator=creator, campaign=campaign), campaign=campaign, requested=True
        )
        for _ in range(2)
    )
    message = reply_from(creator, "Sure!", "mid.sure")
    client.force_login(alice)
    inbox = client.get("/inbox/").content.decode()
    assert "Choose the request it answers" in inbox and first.content.url[:30] in inbox
    refused = client.post(
        f"/inbox/{message.conversation_id}/messages/{message.pk}/classify/", {"decision": "granted"}, follow=True
    )
    assert "choose the one this reply answers" in refused.content.decode()
    assert not ConsentEvent.objects.exists()
    client.post(
        f"/inbox/{message.conversation_id}/messages/{message.pk}/classify/",
        {"decision": "granted", "permission_request": second.pk},
    )
    assert list(ConsentEvent.objects.values_list("permission_request", flat=True)) == [second.pk]
