"""Replies the rules leave to a person: their decision is recorded as theirs."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm import services
from crm.models import PermissionRequest
from outreach import inbound
from outreach.models import Conversation, ConversationMessage
from tests.factories import PermissionRequestFactory

pytestmark = pytest.mark.django_db


def reply_from(creator, text="Sure, sounds good"):
    conversation, _ = Conversation.objects.get_or_create(creator=creator, platform="instagram")
    return ConversationMessage.objects.create(
        conversation=conversation, platform="instagram", direction="in", platform_message_id=None, text=text,
        at=timezone.now(), classification="needs_review",
    )  # fmt: skip


def test_a_person_grants_from_a_reply_and_it_is_recorded_as_theirs(alice):
    request = PermissionRequestFactory(requested=True)
    message = reply_from(request.creator)
    inbound.classify_by_person(message, actor=alice, decision="granted")
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.GRANTED
    event = request.consent_events.get()
    assert (event.recorded_by, event.rule, event.channel) == (alice, "classified by alice", "instagram")
    assert event.inbound_text == "Sure, sounds good"
    message.refresh_from_db()
    assert (message.classification, message.classified_by) == ("granted", alice)


def test_a_person_revokes_and_opts_out_and_marks_just_a_reply(alice):
    request = PermissionRequestFactory(requested=True)
    services.grant_rights(request, actor=alice, evidence=services.Evidence(text="#YesAcme"))
    message = reply_from(request.creator, "hmm please take it down")
    inbound.classify_by_person(message, actor=alice, decision="revoked")
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.REVOKED
    inbound.classify_by_person(message, actor=alice, decision="opted_out")
    assert request.creator.__class__.objects.get(pk=request.creator_id).opted_out_at is not None
    inbound.classify_by_person(message, actor=alice, decision="reply")
    message.refresh_from_db()
    assert message.classification == "reply"


def test_a_decision_without_a_request_to_decide_is_refused_with_the_reason(alice):
    request = PermissionRequestFactory()  # a draft: nothing was asked
    with pytest.raises(ValidationError, match="no requested permission request"):
        inbound.classify_by_person(reply_from(request.creator), actor=alice, decision="granted")
    with pytest.raises(ValidationError, match="Choose granted, declined, revoked, opted_out or reply"):
        inbound.classify_by_person(reply_from(request.creator), actor=alice, decision="maybe")
