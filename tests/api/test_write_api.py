"""The write API, resource by resource, for each persona: owner, teammate, outsider, viewer, anonymous.

Outsiders get 404 for another team's campaign and what hangs off it, viewers 403 on every write,
anonymous callers 401; fields the services own (status, owner, ids, tokens) cannot be set.
"""

import pytest

from crm.models import Campaign, CampaignMember, ConsentEvent, Creator, PermissionRequest
from outreach import worker
from outreach.models import Conversation, ConversationMessage, OutreachMessage, SenderAccount
from tests.factories import CampaignMemberFactory, ContentFactory, CreatorFactory, SocialAccountFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def email_sender(alice, smtp_sink):
    return SenderAccountFactory(
        platform="email", variant="", account_id="partners@acme.example", api_base_url=smtp_sink.url, owner=alice
    )


def test_it_creates_a_campaign_owned_by_the_caller_whatever_the_body_says(as_alice, alice, charlie):
    answer = as_alice.post(
        "/api/v1/campaigns/",
        {"name": "Spring", "brand": "Acme", "owner": charlie.pk, "id": 999, "approval_hashtag": "YesAcme"},
    )
    assert answer.status_code == 201, answer.json()
    campaign = Campaign.objects.get(pk=answer.json()["id"])
    assert campaign.owner == alice and campaign.pk != 999
    assert answer.json()["approval_hashtag"] == "#YesAcme"


def test_it_names_the_field_of_a_bad_campaign(as_alice):
    answer = as_alice.post(
        "/api/v1/campaigns/", {"name": "", "brand": "Acme", "starts_on": "2026-05-02", "ends_on": "2026-05-01"}
    )
    assert answer.status_code == 400
    assert "name" in answer.json()
    answer = as_alice.post("/api/v1/campaigns/", {"name": "X", "brand": "Acme", "starts_on": "2026-05-02",
                                                   "ends_on": "2026-05-01"})  # fmt: skip
    assert answer.status_code == 400 and "ends_on" in str(answer.json())


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("as_alice", 200),
        ("as_bob", 200),
        ("as_charlie", 404),
        ("as_viewer", 403),
        ("as_nobody", 401),
        ("as_admin", 200),
    ],
)
def test_who_may_change_a_campaign(request, campaign, persona, expected):
    api = request.getfixturevalue(persona)
    answer = api.patch(f"/api/v1/campaigns/{campaign.pk}/", {"goal": "More reach"})
    assert answer.status_code == expected
    campaign.refresh_from_db()
    assert (campaign.goal == "More reach") == (expected == 200)


def test_members_are_added_once_listed_and_moved(as_alice, as_charlie, campaign):
    first, second = CreatorFactory.create_batch(2)
    path = f"/api/v1/campaigns/{campaign.pk}/members/"
    assert as_alice.post(path, {"creators": [first.pk, second.pk]}).json() == {"added": 2}
    assert as_alice.post(path, {"creators": [first.pk]}).json() == {"added": 0}
    listed = as_alice.get(path).json()["results"]
    assert sorted(m["creator"] for m in listed) == [first.pk, second.pk]
    member = CampaignMember.objects.get(campaign=campaign, creator=first)
    moved = as_alice.patch(f"{path}{member.pk}/", {"stage": "negotiating"})
    assert moved.status_code == 200 and moved.json()["stage"] == "negotiating"
    assert as_alice.patch(f"{path}{member.pk}/", {"stage": "famous"}).json().keys() == {"stage"}
    assert as_charlie.get(path).status_code == 404
    assert as_charlie.post(path, {"creators": [first.pk]}).status_code == 404
    assert as_alice.get(path, stage="negotiating").json()["results"][0]["creator"] == first.pk
    refused = as_alice.get(path, stage="famous")
    assert refused.status_code == 400 and "Choose one of" in refused.json()["stage"][0]


def test_a_creator_can_be_edited_but_not_its_consent_or_owner(as_alice, as_viewer, charlie):
    creator = CreatorFactory(name="Maya")
    answer = as_alice.patch(
        f"/api/v1/creators/{creator.pk}/",
        {"name": "Maya Hart", "status": "partner", "opted_out_at": "2026-01-01T00:00:00Z", "owner": charlie.pk,
         "tags": ["beauty", "uk"]},
    )  # fmt: skip
    assert answer.status_code == 200
    creator.refresh_from_db()
    assert creator.name == "Maya Hart" and creator.status != "partner"
    assert creator.opted_out_at is None and creator.owner != charlie
    assert sorted(answer.json()["tags"]) == ["beauty", "uk"]
    assert as_viewer.patch(f"/api/v1/creators/{creator.pk}/", {"name": "X"}).status_code == 403
    assert as_alice.patch(f"/api/v1/creators/{creator.pk}/", {"email": "not-an-email"}).json().keys() == {"email"}


def test_only_an_admin_erases_a_creator_and_the_ledger_still_verifies(as_alice, as_admin, alice):
    from crm import services

    creator = CreatorFactory(name="Maya Hart", email="maya@example.com")
    services.opt_out(creator, actor=alice, evidence=services.Evidence(text="stop"))
    assert as_alice.delete(f"/api/v1/creators/{creator.pk}/").status_code == 403
    assert as_admin.delete(f"/api/v1/creators/{creator.pk}/").status_code == 204
    creator.refresh_from_db()
    assert creator.erased_at and creator.email == "" and "Maya" not in creator.name
    assert services.verify_ledger(creator) == []


def test_accounts_tags_and_content_are_added_by_handle_name_and_link(as_alice, as_viewer, campaign):
    creator = CreatorFactory()
    account = as_alice.post(
        "/api/v1/social-accounts/",
        {"creator": creator.pk, "platform": "instagram", "handle": "https://www.instagram.com/Maya.Hart/",
         "platform_user_id": "123"},
    )  # fmt: skip
    assert account.status_code == 201 and account.json()["handle"] == "maya.hart"
    assert account.json()["platform_user_id"] is None
    again = as_alice.post(
        "/api/v1/social-accounts/", {"creator": creator.pk, "platform": "instagram", "handle": "@maya.hart"}
    )
    assert again.status_code == 400 and "already belongs" in again.json()["handle"][0]
    assert as_alice.post("/api/v1/tags/", {"name": "beauty"}).status_code == 201
    assert as_alice.post("/api/v1/tags/", {"name": "beauty"}).json().keys() == {"name"}
    post = as_alice.post(
        "/api/v1/content/",
        {"creator": creator.pk, "url": "https://instagram.com/p/Cxyz/?igsh=abc", "campaign": campaign.pk},
    )
    assert post.status_code == 201 and post.json()["url"] == "https://instagram.com/p/Cxyz"
    assert post.json()["platform"] == "instagram" and post.json()["social_account"] is not None
    assert as_alice.post("/api/v1/content/", {"creator": creator.pk, "url": "nonsense"}).json().keys() == {"url"}
    assert as_viewer.post("/api/v1/tags/", {"name": "x"}).status_code == 403


def test_templates_are_checked_by_field_and_previewed_for_a_creator(as_alice, as_viewer):
    unknown = as_alice.post("/api/v1/templates/", {"name": "Hi", "body": "Hi {{ creator.shoe_size }}"})
    assert unknown.status_code == 400 and list(unknown.json()) == ["body"]
    too_long = as_alice.post("/api/v1/templates/", {"name": "Hi", "body": "é" * 600, "platforms": ["instagram"]})
    assert too_long.status_code == 400 and "1000 bytes" in str(too_long.json())
    created = as_alice.post(
        "/api/v1/templates/", {"name": "Hi", "body": "Hi {{ creator.first_name }}!", "variables": ["x"]}
    )
    assert created.status_code == 201 and created.json()["variables"] == ["creator.first_name"]
    creator = CreatorFactory(name="Maya Hart")
    preview = as_alice.post(
        f"/api/v1/templates/{created.json()['id']}/preview/", {"creator": creator.pk, "platform": "instagram"}
    )
    assert preview.json() == {"subject": "", "text": "Hi Maya!", "length": 8, "limit": 1000, "unit": "bytes"}
    assert as_viewer.post("/api/v1/templates/", {"name": "Hi", "body": "Hi"}).status_code == 403
    # A variable with no value for this creator (no campaign given) and no default: a 400 naming it.
    branded = as_alice.post("/api/v1/templates/", {"name": "Brand", "body": "Hi from {{ campaign.brand }}"})
    unfilled = as_alice.post(
        f"/api/v1/templates/{branded.json()['id']}/preview/", {"creator": creator.pk, "platform": "instagram"}
    )
    assert unfilled.status_code == 400
    assert list(unfilled.json()) == ["template"] and "campaign.brand" in unfilled.json()["template"][0]


def test_a_sequence_is_written_with_its_steps_and_rewritten_whole(as_alice):
    first, second = MessageTemplateFactory.create_batch(2)
    created = as_alice.post(
        "/api/v1/sequences/",
        {"name": "Intro", "steps": [{"template": first.pk}, {"template": second.pk, "delay_days": 3}]},
    )
    assert created.status_code == 201, created.json()
    assert [(s["position"], s["delay_days"]) for s in created.json()["steps"]] == [(0, 0), (1, 3)]
    changed = as_alice.patch(f"/api/v1/sequences/{created.json()['id']}/", {"steps": [{"template": second.pk}]})
    assert [s["template"] for s in changed.json()["steps"]] == [second.pk]
    late_start = as_alice.post("/api/v1/sequences/", {"name": "x", "steps": [{"template": first.pk, "delay_days": 2}]})
    assert late_start.status_code == 400 and "steps" in late_start.json()
    in_use = as_alice.delete(f"/api/v1/templates/{second.pk}/")
    assert in_use.status_code == 400 and "archive it instead" in in_use.json()["template"][0]


def test_a_sender_accounts_token_is_write_only_and_its_breaker_is_not_ours_to_set(as_alice, as_bob, as_admin):
    answer = as_alice.post(
        "/api/v1/sender-accounts/",
        {"name": "Acme IG", "platform": "instagram", "variant": "instagram_login", "account_id": "1784",
         "access_token": "EAAB-secret", "breaker_state": "open", "consecutive_failures": 9, "paused": True},
    )  # fmt: skip
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert "access_token" not in body and body["has_token"] is True and "EAAB" not in str(body)
    sender = SenderAccount.objects.get(pk=body["id"])
    assert sender.access_token == "EAAB-secret" and "EAAB" not in sender.access_token_encrypted
    assert (sender.breaker_state, sender.consecutive_failures, sender.paused) == ("closed", 0, False)
    assert "EAAB" not in str(as_alice.get(f"/api/v1/sender-accounts/{sender.pk}/").json())
    assert as_bob.patch(f"/api/v1/sender-accounts/{sender.pk}/", {"name": "Mine"}).status_code == 403
    assert as_admin.patch(f"/api/v1/sender-accounts/{sender.pk}/", {"access_token": "EAAB-new"}).status_code == 200
    sender.refresh_from_db()
    assert sender.access_token == "EAAB-new"
    assert as_alice.post(f"/api/v1/sender-accounts/{sender.pk}/pause/").json()["sending"] is False
    assert as_alice.post(f"/api/v1/sender-accounts/{sender.pk}/resume/").json()["sending"] is True
    bad = as_alice.post("/api/v1/sender-accounts/", {"name": "x", "platform": "email", "account_id": "a@b.c",
                                                      "api_base_url": "https://mail.example"})  # fmt: skip
    assert bad.status_code == 400 and list(bad.json()) == ["api_base_url"]


def test_launch_counts_by_mode_and_reason_then_queues_once(as_alice, as_charlie, as_viewer, campaign, email_sender):
    campaign.status = Campaign.Status.ACTIVE
    campaign.save()
    reachable = CampaignMemberFactory(campaign=campaign, creator__email="maya@example.com")
    CampaignMemberFactory(campaign=campaign, creator__email="")
    template = MessageTemplateFactory(subject="Hello", body="Hi {{ creator.first_name }}")
    body = {"template": template.pk, "sender_account": email_sender.pk}
    path = f"/api/v1/campaigns/{campaign.pk}/launch/"

    counted = as_alice.post(path, {**body, "dry_run": True}).json()
    assert counted["members"] == 2 and counted["created"] == 2 and sum(counted["by_mode"].values()) == 2
    assert counted["by_mode"]["api"] == 1 and counted["by_mode"]["blocked"] == 1
    assert {r["mode"] for r in counted["by_reason"]} == {"api", "blocked"}
    assert not OutreachMessage.objects.exists()

    assert as_charlie.post(path, body).status_code == 404
    assert as_viewer.post(path, body).status_code == 403
    launched = as_alice.post(path, body).json()
    assert launched["created"] == 2 and OutreachMessage.objects.count() == 2
    assert as_alice.post(path, body).json()["already_queued"] == 2 and OutreachMessage.objects.count() == 2
    # The member nothing reaches is blocked at launch, with the policy's reason, for the lists to show.
    assert OutreachMessage.objects.get(status="blocked").reason == "The creator has no email address."
    assert worker.send_due(email_sender.pk).outcomes == {"sent": 1}
    sent = as_alice.get("/api/v1/outreach-messages/", status="sent").json()["results"]
    assert [m["creator"] for m in sent] == [reachable.creator_id]
    assert as_charlie.get("/api/v1/outreach-messages/").json()["results"] == []


def test_launch_needs_a_template_or_a_sequence(as_alice, campaign, email_sender):
    campaign.status = Campaign.Status.ACTIVE
    campaign.save()
    answer = as_alice.post(f"/api/v1/campaigns/{campaign.pk}/launch/", {"sender_account": email_sender.pk})
    assert answer.status_code == 400 and "template" in answer.json()


def _queued(campaign, status, **fields):
    member = CampaignMemberFactory(campaign=campaign)
    return OutreachMessage.objects.create(
        campaign=campaign, creator=member.creator, sender_account=SenderAccountFactory(platform="linkedin", variant=""),
        platform="linkedin", rendered_text="Hi", status=status, **fields,
    )  # fmt: skip


def test_the_outbox_actions_follow_the_message_status(as_alice, as_bob, as_charlie, as_viewer, campaign, alice):
    manual = _queued(campaign, OutreachMessage.Status.MANUAL)
    failed = _queued(campaign, OutreachMessage.Status.FAILED, attempts=5, error_code="500")
    review = _queued(campaign, OutreachMessage.Status.NEEDS_REVIEW)
    path = "/api/v1/outreach-messages/{}/{}/"

    assert as_charlie.post(path.format(manual.pk, "mark-sent")).status_code == 404
    assert as_viewer.post(path.format(manual.pk, "mark-sent")).status_code == 403
    sent = as_bob.post(path.format(manual.pk, "mark-sent"), {"provider_message_id": "m-1"})
    assert sent.status_code == 200 and sent.json()["status"] == "sent" and sent.json()["provider_message_id"] == "m-1"
    again = as_bob.post(path.format(manual.pk, "mark-sent"))
    assert again.status_code == 400 and list(again.json()) == ["status"]
    assert as_alice.post(path.format(failed.pk, "approve")).status_code == 400
    retried = as_alice.post(path.format(failed.pk, "retry")).json()
    assert (retried["status"], retried["attempts"], retried["error_code"]) == ("pending", 0, "")
    assert as_alice.post(path.format(review.pk, "approve")).json()["status"] == "pending"
    cancelled = as_alice.post(path.format(review.pk, "cancel")).json()
    assert cancelled["status"] == "cancelled" and "alice" in cancelled["reason"]
    assert as_alice.post(path.format(manual.pk, "cancel")).status_code == 400  # it went out already


def test_a_reply_logged_by_hand_stops_the_sequence_and_waits_for_a_person(as_alice, alice, campaign):
    from outreach.models import Conversation

    member = CampaignMemberFactory(campaign=campaign, stage=CampaignMember.Stage.CONTACTED)
    conversation = Conversation.objects.create(creator=member.creator, platform="instagram")
    follow_up = _queued(campaign, OutreachMessage.Status.PENDING, step=1)
    follow_up.creator = member.creator
    follow_up.save()
    path = f"/api/v1/conversations/{conversation.pk}/messages/"
    logged = as_alice.post(path, {"text": "Called me: happy to chat"})
    assert logged.status_code == 201 and logged.json()["classification"] == "needs_review"
    follow_up.refresh_from_db()
    member.refresh_from_db()
    assert follow_up.status == "cancelled" and member.stage == "replied"
    conversation.refresh_from_db()
    assert conversation.last_inbound_at is None  # the platform never saw it: no window opens
    assert as_alice.get(path).json()["results"][0]["text"] == "Called me: happy to chat"
    assert as_alice.get("/api/v1/conversations/", needs_review="true").json()["results"][0]["id"] == conversation.pk
    empty = as_alice.post(path, {"text": ""})
    assert empty.status_code == 400 and list(empty.json()) == ["text"]


def test_conversations_are_searched_by_the_creators_name_email_and_handles(as_alice, campaign):
    maya, lee = (CampaignMemberFactory(campaign=campaign).creator for _ in range(2))
    Creator.objects.filter(pk=maya.pk).update(name="Maya Hart", email="maya@studio.example")
    Creator.objects.filter(pk=lee.pk).update(name="Lee Park", email="lee@example.com")
    SocialAccountFactory(creator=lee, platform="instagram", handle="lee.travels")
    talks = {Conversation.objects.create(creator=c, platform="instagram").pk: c for c in (maya, lee)}

    def found(q):
        return [talks[row["id"]] for row in as_alice.get("/api/v1/conversations/", q=q).json()["results"]]

    assert found("hart") == [maya] and found("studio.example") == [maya]
    assert found("@lee.trav") == [lee] and found("  Lee ") == [lee]
    assert found("nobody") == []


def test_a_person_classifies_a_reply_and_the_ledger_says_who(as_alice, alice):
    from crm import services

    request = requested_permission(alice)
    from outreach.models import Conversation

    conversation = Conversation.objects.create(creator=request.creator, platform="instagram")
    logged = as_alice.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "sure, go ahead"}).json()
    answer = as_alice.post(
        f"/api/v1/conversations/{conversation.pk}/messages/{logged['id']}/classify/", {"decision": "granted"}
    )
    assert answer.status_code == 200 and answer.json()["classification"] == "granted"
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.GRANTED
    event = ConsentEvent.objects.get(kind="rights_granted")
    assert event.recorded_by == alice and event.rule == "classified by alice"
    assert services.verify_ledger(request.creator) == []


def requested_permission(owner):
    from tests.factories import PermissionRequestFactory

    return PermissionRequestFactory(requested=True, campaign=None, content__campaign=None)


def test_a_reply_goes_through_the_outbox_as_a_persons_message(as_alice, alice):
    from outreach.models import Conversation

    sender = SenderAccountFactory(owner=alice)
    conversation = Conversation.objects.create(creator=CreatorFactory(), platform="instagram", sender_account=sender)
    answer = as_alice.post(
        f"/api/v1/conversations/{conversation.pk}/reply/", {"text": "Thanks!"}, **{"Idempotency-Key": "r1"}
    )
    assert answer.status_code == 201
    message = OutreachMessage.objects.get()
    assert message.human_agent and message.rendered_text == "Thanks!" and message.created_by == alice
    replay = as_alice.post(
        f"/api/v1/conversations/{conversation.pk}/reply/", {"text": "Thanks!"}, **{"Idempotency-Key": "r1"}
    )
    assert replay.headers["Idempotent-Replayed"] == "true" and OutreachMessage.objects.count() == 1
    x_sender = SenderAccountFactory(platform="x", variant="")
    wrong = as_alice.post(
        f"/api/v1/conversations/{conversation.pk}/reply/", {"text": "Hi", "sender_account": x_sender.pk}
    )
    assert wrong.status_code == 400 and list(wrong.json()) == ["sender_account"]


def test_a_permission_request_is_created_sent_decided_and_revoked(as_alice, as_charlie, alice, campaign, email_sender):
    creator = CreatorFactory(email="maya@example.com")
    content = ContentFactory(creator=creator, campaign=campaign)
    template = MessageTemplateFactory(
        subject="May we?", body="Reply {{ permission_request.approval_hashtag }} to agree."
    )
    body = {"content": content.pk, "channels": ["paid_ads"], "terms_url": "https://acme.example/terms",
            "terms_text": "You grant Acme...", "approval_hashtag": "YesAcme", "sender_account": email_sender.pk,
            "template": template.pk, "status": "granted"}  # fmt: skip
    refused = as_charlie.post("/api/v1/permission-requests/", body)  # another team's post: unknown to charlie
    assert refused.status_code == 400 and list(refused.json()) == ["content"]
    created = as_alice.post("/api/v1/permission-requests/", body)
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "draft" and created.json()["may_be_used"] is False
    request = PermissionRequest.objects.get()
    assert OutreachMessage.objects.get().permission_request == request
    assert worker.send_due(email_sender.pk).outcomes == {"sent": 1}
    request.refresh_from_db()
    assert request.status == "requested"

    path = f"/api/v1/permission-requests/{request.pk}/"
    decided = as_alice.post(
        f"{path}record-decision/", {"decision": "granted", "text": "Yes! #YesAcme", "channel": "phone"}
    )
    assert decided.status_code == 200 and decided.json()["status"] == "granted" and decided.json()["may_be_used"]
    assert ConsentEvent.objects.get(kind="rights_granted").recorded_by == alice
    assert as_charlie.post(f"{path}revoke/", {"text": "no more"}).status_code == 404
    revoked = as_alice.post(f"{path}revoke/", {"text": "Please stop using it"})
    assert revoked.json()["status"] == "revoked"
    twice = as_alice.post(f"{path}revoke/", {"text": "again"})
    assert twice.status_code == 400


def test_a_permission_request_without_the_hashtag_in_its_text_is_refused_by_field(as_alice, campaign, email_sender):
    content = ContentFactory(campaign=campaign)
    template = MessageTemplateFactory(subject="May we?", body="Can we use your post?")
    answer = as_alice.post(
        "/api/v1/permission-requests/",
        {"content": content.pk, "channels": ["website"], "terms_url": "https://acme.example/terms",
         "terms_text": "Terms", "approval_hashtag": "YesAcme", "sender_account": email_sender.pk,
         "template": template.pk},
    )  # fmt: skip
    assert answer.status_code == 400 and list(answer.json()) == ["template"]
    assert not PermissionRequest.objects.exists()  # nothing half-made


@pytest.mark.parametrize(
    "path",
    ["/api/v1/templates/", "/api/v1/sequences/", "/api/v1/sender-accounts/", "/api/v1/outreach-messages/",
     "/api/v1/conversations/", "/api/v1/creators/", "/api/v1/campaigns/", "/api/v1/permission-requests/"],
)  # fmt: skip
def test_writes_are_refused_to_viewers_and_to_anonymous_callers(as_viewer, as_nobody, path):
    assert as_viewer.post(path, {}).status_code == 403
    assert as_nobody.post(path, {}).status_code == 401
    assert as_nobody.get(path).status_code == 401
    assert as_viewer.get(path).status_code == 200


def test_creators_are_shared_but_another_teams_campaign_items_are_not_found(as_charlie, campaign):
    creator = CreatorFactory()
    SocialAccountFactory(creator=creator)
    assert as_charlie.get(f"/api/v1/creators/{creator.pk}/").status_code == 200
    message = _queued(campaign, OutreachMessage.Status.MANUAL)
    assert as_charlie.get(f"/api/v1/outreach-messages/{message.pk}/").status_code == 404
    assert as_charlie.get(f"/api/v1/campaigns/{campaign.pk}/members/").status_code == 404
    assert Creator.objects.count() >= 1 and ConversationMessage.objects.count() == 0


def test_each_token_has_its_own_request_budget(settings, alice, bob):
    from django.core.cache import cache

    from tests.api.conftest import api_for

    cache.clear()
    settings.API_RATE_LIMIT = "3/min"
    first, second = api_for(alice), api_for(bob)
    assert [first.get("/api/v1/tags/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "Retry-After" in first.get("/api/v1/tags/").headers
    assert second.get("/api/v1/tags/").status_code == 200  # another token, another budget


def test_an_unexpected_failure_under_the_api_is_json_without_a_traceback(rf):
    from crm.api.errors import server_error

    answer = server_error(rf.get("/api/v1/creators/"))
    assert answer.status_code == 500 and answer["Content-Type"] == "application/json"
    assert b"Traceback" not in answer.content and b"detail" in answer.content


def test_lists_search_and_order(as_alice, alice):
    from tests.factories import CampaignFactory

    CampaignFactory(owner=alice, name="Winter glow", brand="Acme")
    CampaignFactory(owner=alice, name="Autumn", brand="Glowco")
    CampaignFactory(owner=alice, name="Spring", brand="Acme")
    found = as_alice.get("/api/v1/campaigns/", q="glow", ordering="name").json()["results"]
    assert [c["name"] for c in found] == ["Autumn", "Winter glow"]
    newest_first = as_alice.get("/api/v1/campaigns/", ordering="-name").json()["results"]
    assert [c["name"] for c in newest_first] == ["Winter glow", "Spring", "Autumn"]
    ignored = as_alice.get("/api/v1/campaigns/", ordering="team")  # not an ordering field: ignored, not a 500
    assert ignored.status_code == 200


# --- What a second review found: another team's consent, odd input, shared keys ------------------


def _conversation_with_request_in(campaign):
    from outreach.models import Conversation
    from tests.factories import PermissionRequestFactory

    request = PermissionRequestFactory(requested=True, campaign=campaign, content__campaign=campaign)
    conversation = Conversation.objects.create(creator=request.creator, platform="instagram")
    return request, conversation


def test_another_team_cannot_record_consent_on_a_campaigns_request(as_charlie, as_alice, campaign):
    request, conversation = _conversation_with_request_in(campaign)
    logged = as_charlie.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "yes", "decision": "granted"}
    )
    assert logged.status_code == 400 and "decision" in logged.json()
    note = as_charlie.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "yes"}).json()
    path = f"/api/v1/conversations/{conversation.pk}/messages/{note['id']}/classify/"
    assert as_charlie.post(path, {"decision": "granted"}).status_code == 400
    assert as_charlie.post(path, {"decision": "granted", "permission_request": request.pk}).status_code == 400
    request.refresh_from_db()
    assert request.status == "requested" and not ConsentEvent.objects.filter(kind="rights_granted").exists()
    assert as_alice.post(path, {"decision": "granted"}).json()["classification"] == "granted"


def test_a_person_names_the_request_when_a_creator_has_several_open(as_alice, alice, campaign):
    from tests.factories import PermissionRequestFactory

    first, conversation = _conversation_with_request_in(campaign)
    second = PermissionRequestFactory(requested=True, campaign=campaign, creator=first.creator,
                                      content__campaign=campaign, content__creator=first.creator)  # fmt: skip
    note = as_alice.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "yes to the reel"}).json()
    path = f"/api/v1/conversations/{conversation.pk}/messages/{note['id']}/classify/"
    ambiguous = as_alice.post(path, {"decision": "granted"})
    assert ambiguous.status_code == 400 and list(ambiguous.json()) == ["permission_request"]
    assert as_alice.post(path, {"decision": "granted", "permission_request": second.pk}).status_code == 200
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("requested", "granted")


def test_out_of_range_numbers_and_long_links_are_field_errors(as_alice, campaign, email_sender):
    creator = CreatorFactory()
    huge = as_alice.post("/api/v1/social-accounts/", {"creator": creator.pk, "platform": "tiktok", "handle": "a",
                                                      "follower_count": 10**19})  # fmt: skip
    assert huge.status_code == 400 and list(huge.json()) == ["follower_count"]
    nested = as_alice.post("/api/v1/creators/", {"name": "A", "accounts": [{"platform": "x", "handle": "a",
                                                                           "follower_count": 10**19}]})  # fmt: skip
    assert nested.status_code == 400, nested.json()
    assert "follower_count" in nested.json()["accounts"]["0"], nested.json()
    long_link = as_alice.post(
        "/api/v1/content/", {"creator": creator.pk, "url": "https://www.instagram.com/p/" + "A" * 900}
    )
    assert long_link.status_code == 400 and list(long_link.json()) == ["url"]
    content = ContentFactory(campaign=campaign)
    template = MessageTemplateFactory(body="{{ permission_request.approval_hashtag }}")
    forever = as_alice.post("/api/v1/permission-requests/", {
        "content": content.pk, "channels": ["website"], "terms_url": "https://acme.example/t", "terms_text": "T",
        "approval_hashtag": "YesAcme", "duration_days": 2_000_000_000, "sender_account": email_sender.pk,
        "template": template.pk})  # fmt: skip
    assert forever.status_code == 400 and list(forever.json()) == ["duration_days"]
    accounts = [{"platform": "instagram", "handle": "dupe"}, {"platform": "instagram", "handle": "@Dupe"}]
    twice = as_alice.post("/api/v1/creators/", {"name": "B", "accounts": accounts})
    assert twice.status_code == 400 and twice.json()["accounts"][1]["handle"] == ["instagram @dupe is listed twice."]


def test_another_teams_campaign_cannot_be_named_in_a_body(as_charlie, charlie, campaign, email_sender):
    template = MessageTemplateFactory(body="Hi {{ campaign.name }}")
    body = {"creator": CreatorFactory().pk, "platform": "instagram", "campaign": campaign.pk}
    preview = as_charlie.post(f"/api/v1/templates/{template.pk}/preview/", body)
    assert preview.status_code == 400 and list(preview.json()) == ["campaign"]
    theirs = ContentFactory(campaign=campaign)
    assert as_charlie.get(f"/api/v1/content/{theirs.pk}/").status_code == 404
    from tests.factories import CampaignFactory

    own = CampaignFactory(owner=charlie)
    asked = as_charlie.post("/api/v1/permission-requests/", {
        "content": theirs.pk, "campaign": own.pk, "channels": ["website"], "terms_url": "https://acme.example/t",
        "terms_text": "T", "approval_hashtag": "YesAcme", "sender_account": email_sender.pk,
        "template": MessageTemplateFactory(body="#YesAcme").pk})  # fmt: skip
    assert asked.status_code == 400 and "content" in asked.json()
    post = as_charlie.post("/api/v1/content/", {"creator": CreatorFactory().pk, "url": "https://x.com/a/status/1",
                                                 "campaign": campaign.pk})  # fmt: skip
    unknown = as_charlie.post("/api/v1/content/", {"creator": CreatorFactory().pk, "url": "https://x.com/a/status/2",
                                                    "campaign": 999_999})  # fmt: skip
    assert post.json() == {"campaign": [f'Invalid pk "{campaign.pk}" - object does not exist.']}
    assert unknown.json() == {"campaign": ['Invalid pk "999999" - object does not exist.']}


def test_consent_events_of_another_teams_requests_are_not_listed(as_charlie, as_alice, alice, campaign):
    from crm import services

    request, _ = _conversation_with_request_in(campaign)
    services.grant_rights(request, actor=alice, evidence=services.Evidence(text="#YesAcme"))
    services.opt_out(CreatorFactory(), actor=alice, evidence=services.Evidence(text="stop"))
    assert [e["kind"] for e in as_charlie.get("/api/v1/consent-events/").json()["results"]] == ["opted_out"]
    assert len(as_alice.get("/api/v1/consent-events/").json()["results"]) == 2


def test_reply_keys_belong_to_their_caller(as_alice, as_bob, alice):
    from outreach.models import Conversation

    conversation = Conversation.objects.create(
        creator=CreatorFactory(), platform="instagram", sender_account=SenderAccountFactory(owner=alice)
    )
    path = f"/api/v1/conversations/{conversation.pk}/reply/"
    as_alice.post(path, {"text": "From Alice"}, **{"Idempotency-Key": "1"})
    as_bob.post(path, {"text": "From Bob"}, **{"Idempotency-Key": "1"})
    as_alice.post(path, {"text": "Long one"}, **{"Idempotency-Key": "k" * 100 + "1"})
    as_alice.post(path, {"text": "Long two"}, **{"Idempotency-Key": "k" * 100 + "2"})
    assert sorted(OutreachMessage.objects.values_list("rendered_text", flat=True)) == [
        "From Alice", "From Bob", "Long one", "Long two"]  # fmt: skip


def test_members_are_added_in_a_constant_number_of_queries_and_assigned_only_to_the_team(
    as_alice, campaign, charlie, bob, django_assert_max_num_queries
):
    creators = CreatorFactory.create_batch(100)
    path = f"/api/v1/campaigns/{campaign.pk}/members/"
    with django_assert_max_num_queries(15):
        assert as_alice.post(path, {"creators": [c.pk for c in creators]}).json() == {"added": 100}
    unknown = as_alice.post(path, {"creators": [creators[0].pk, 999_999]})
    assert unknown.status_code == 400 and unknown.json() == {"creators": ["No creator has the id(s) 999999."]}
    member = CampaignMember.objects.filter(campaign=campaign).first()
    outsider = as_alice.patch(f"{path}{member.pk}/", {"assignee": charlie.pk, "stage": "confirmed"})
    assert outsider.status_code == 400 and list(outsider.json()) == ["assignee"]
    member.refresh_from_db()
    assert member.stage == "prospect"  # nothing half-done
    assert as_alice.patch(f"{path}{member.pk}/", {"assignee": bob.pk}).status_code == 200
    member.refresh_from_db()
    assert member.assignee == bob


def test_a_platform_address_must_be_https(as_alice, settings):
    settings.ALLOW_INSECURE_PLATFORM_URLS = False
    body = {"name": "x", "platform": "x", "account_id": "1", "api_base_url": "http://127.0.0.1:8080"}
    refused = as_alice.post("/api/v1/sender-accounts/", body)
    assert refused.status_code == 400 and list(refused.json()) == ["api_base_url"]
    settings.ALLOW_INSECURE_PLATFORM_URLS = True  # the sandbox: plain http to loopback, never to a private network
    assert as_alice.post("/api/v1/sender-accounts/", body).status_code == 201
    inside = as_alice.post("/api/v1/sender-accounts/", {**body, "api_base_url": "http://10.0.0.5:8080"})
    assert inside.status_code == 400 and list(inside.json()) == ["api_base_url"]


def test_a_patched_sequence_step_without_a_template_is_a_field_error(as_alice):
    template = MessageTemplateFactory()
    created = as_alice.post("/api/v1/sequences/", {"name": "Intro", "steps": [{"template": template.pk}]}).json()
    answer = as_alice.patch(f"/api/v1/sequences/{created['id']}/", {"steps": [{}], "name": "0"})
    assert answer.status_code == 400
    assert answer.json() == {"steps": {"0": {"template": ["Each step needs a template."]}}}


def test_an_unknown_id_in_a_filter_matches_nothing(as_alice):
    answer = as_alice.get("/api/v1/outreach-messages/", sender_account=999_999)
    assert answer.status_code == 200 and answer.json()["results"] == []
