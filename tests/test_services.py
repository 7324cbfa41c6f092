import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm import services
from crm.models import ConsentEvent, Creator, PermissionRequest
from crm.services import Evidence, Scope, TransitionNotAllowed
from tests.factories import ContentFactory, CreatorFactory, PermissionRequestFactory

pytestmark = pytest.mark.django_db
Status = PermissionRequest.Status
HASHTAG_REPLY = Evidence(
    channel="instagram", message_id="mid.1", text="yes! #YesAcme", rule="approval hashtag #YesAcme"
)


def test_request_permission_freezes_the_terms_and_takes_the_campaigns_hashtag(alice, campaign):
    content = ContentFactory(campaign=campaign)
    request = services.request_permission(
        content,
        actor=alice,
        scope=Scope(channels=["paid_ads"], territory="GB", exclusive=True, duration_days=30),
        terms_url="https://acme.example.com/terms",
        terms_text="Terms v1",
    )
    assert request.status == Status.DRAFT
    assert request.approval_hashtag == "#YesAcme"
    assert request.terms_sha256 == PermissionRequest.hash_terms("Terms v1")
    assert request.terms_version == campaign.terms_version
    assert request.creator == content.creator
    assert request.created_by == alice


def test_request_permission_names_every_bad_field(alice):
    with pytest.raises(ValidationError) as error:
        services.request_permission(
            ContentFactory(),
            actor=alice,
            scope=Scope(channels=["billboards"], territory=" "),
            terms_url="https://acme.example.com/terms",
            terms_text="x",
        )
    assert set(error.value.message_dict) == {"channels", "territory"}
    with pytest.raises(ValidationError) as error:
        services.request_permission(
            ContentFactory(), actor=alice, scope=Scope(), terms_url="", terms_text=" ", approval_hashtag="no spaces"
        )
    assert set(error.value.message_dict) == {"approval_hashtag", "terms_text", "terms_url"}


def test_a_request_is_requested_once_it_is_sent_with_the_text_that_asked():
    request = PermissionRequestFactory()
    sent = services.mark_permission_requested(request, request_text="Reply #YesAcme")
    assert (sent.status, sent.request_text) == (Status.REQUESTED, "Reply #YesAcme")
    with pytest.raises(TransitionNotAllowed, match="already sent"):
        services.mark_permission_requested(request, request_text="again")


def test_granting_records_the_creators_words_what_was_asked_and_the_terms(alice):
    request = PermissionRequestFactory(requested=True, duration_days=90)
    said_at = timezone.now() - datetime.timedelta(hours=2)
    event = services.grant_rights(
        request, actor=None, evidence=Evidence(**{**HASHTAG_REPLY.__dict__, "occurred_at": said_at})
    )
    request.refresh_from_db()
    assert request.status == Status.GRANTED == services.derive_permission_status(request)
    assert request.decided_at == said_at
    assert request.rights_expire_at == said_at + datetime.timedelta(days=90)
    assert event.kind == ConsentEvent.Kind.RIGHTS_GRANTED
    assert (event.inbound_text, event.inbound_message_id, event.channel) == ("yes! #YesAcme", "mid.1", "instagram")
    assert event.outbound_text == "Reply #YesAcme to let us share your post"
    assert event.terms_sha256 == request.terms_sha256
    assert event.scope == request.scope
    assert (event.recorded_by, event.recorded_by_label, event.rule) == (None, "system", "approval hashtag #YesAcme")


def test_a_person_recording_a_decision_is_named(alice):
    request = PermissionRequestFactory(requested=True)
    event = services.decline_rights(request, actor=alice, evidence=Evidence(channel="phone", text="No thanks"))
    assert (event.recorded_by, event.recorded_by_label, event.rule) == (alice, "alice", "recorded by hand")


def test_the_system_must_name_the_rule_it_applied():
    request = PermissionRequestFactory(requested=True)
    with pytest.raises(ValueError, match="rule"):
        services.grant_rights(request, actor=None, evidence=Evidence(text="#YesAcme"))
    assert not ConsentEvent.objects.exists()


@pytest.mark.parametrize(
    ("steps", "final"),
    [
        (["grant"], Status.GRANTED),
        (["decline"], Status.DECLINED),
        (["decline", "grant"], Status.GRANTED),
        (["grant", "revoke"], Status.REVOKED),
        (["expire"], Status.EXPIRED),
        (["expire", "grant"], Status.GRANTED),
        (["grant", "expire"], Status.EXPIRED),
    ],
)
def test_allowed_transitions(alice, steps, final):
    request = PermissionRequestFactory(requested=True)
    verbs = {
        "grant": services.grant_rights,
        "decline": services.decline_rights,
        "revoke": services.revoke_rights,
        "expire": services.expire_rights,
    }
    for step in steps:
        verbs[step](request, actor=alice, evidence=Evidence(text=step))
    request.refresh_from_db()
    assert request.status == final == services.derive_permission_status(request)
    assert request.consent_events.count() == len(steps)


@pytest.mark.parametrize(
    ("setup", "verb", "message"),
    [
        ([], services.grant_rights, "on a request that is draft"),
        (["sent"], services.revoke_rights, "on a request that is requested"),
        (["sent", "grant"], services.grant_rights, "on a request that is granted"),
        (["sent", "grant", "revoke"], services.grant_rights, "on a request that is revoked"),
        (["sent", "decline"], services.revoke_rights, "on a request that is declined"),
    ],
)
def test_refused_transitions_say_why_and_record_nothing(alice, setup, verb, message):
    request = PermissionRequestFactory(requested="sent" in setup)
    if "grant" in setup:
        services.grant_rights(request, actor=alice, evidence=Evidence())
    if "revoke" in setup:
        services.revoke_rights(request, actor=alice, evidence=Evidence())
    if "decline" in setup:
        services.decline_rights(request, actor=alice, evidence=Evidence())
    before = ConsentEvent.objects.count()
    with pytest.raises(TransitionNotAllowed, match=message):
        verb(request, actor=alice, evidence=Evidence())
    assert ConsentEvent.objects.count() == before


def test_expire_due_permissions_lapses_old_requests_and_ended_rights(alice):
    now = timezone.now()
    stale = PermissionRequestFactory(requested=True)
    PermissionRequest.objects.filter(pk=stale.pk).update(requested_at=now - datetime.timedelta(days=15))
    fresh = PermissionRequestFactory(requested=True)
    ended = PermissionRequestFactory(requested=True, duration_days=10)
    services.grant_rights(ended, actor=alice, evidence=Evidence(occurred_at=now - datetime.timedelta(days=11)))
    running = PermissionRequestFactory(requested=True, duration_days=10)
    services.grant_rights(running, actor=alice, evidence=Evidence(occurred_at=now - datetime.timedelta(days=2)))

    assert services.expire_due_permissions(unanswered_after_days=14, now=now) == 2
    statuses = dict(PermissionRequest.objects.values_list("pk", "status"))
    assert statuses == {
        stale.pk: Status.EXPIRED,
        fresh.pk: Status.REQUESTED,
        ended.pk: Status.EXPIRED,
        running.pk: Status.GRANTED,
    }
    assert services.expire_due_permissions(unanswered_after_days=14, now=now) == 0


def test_opting_out_and_in_is_derived_from_the_ledger(alice):
    creator = CreatorFactory()
    services.opt_out(creator, actor=None, evidence=Evidence(channel="instagram", text="STOP", rule="keyword STOP"))
    creator.refresh_from_db()
    assert creator.opted_out_at is not None
    assert not creator.is_contactable
    assert creator not in Creator.objects.contactable()
    services.opt_in(creator, actor=alice, evidence=Evidence(channel="email", text="Happy to hear from you again"))
    creator.refresh_from_db()
    assert creator.opted_out_at is None
    assert creator.contact_allowed_at is not None
    assert (creator.opted_out_at, creator.contact_allowed_at) == services.derive_contactability(creator)
    assert creator in Creator.objects.contactable()


def test_allow_contact_is_recorded_without_touching_an_opt_out(alice):
    creator = CreatorFactory()
    services.opt_out(creator, actor=alice, evidence=Evidence(text="stop"))
    services.allow_contact(creator, actor=alice, evidence=Evidence(text="ok for email"))
    creator.refresh_from_db()
    assert creator.opted_out_at is not None and creator.contact_allowed_at is not None


def test_each_creators_ledger_is_a_hash_chain():
    creator = CreatorFactory()
    request = PermissionRequestFactory(content=ContentFactory(creator=creator), requested=True)
    first = services.opt_out(creator, actor=None, evidence=Evidence(rule="keyword STOP", text="STOP"))
    second = services.grant_rights(request, actor=None, evidence=HASHTAG_REPLY)
    assert first.previous_hash == ""
    assert second.previous_hash == first.entry_hash
    assert services.verify_ledger(creator) == []
    other = CreatorFactory()
    assert services.opt_out(other, actor=None, evidence=Evidence(rule="r")).previous_hash == ""
