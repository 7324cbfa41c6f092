"""The inbox: conversations newest first, one-click classification, answers inside the window."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import ConsentEvent, PermissionRequest
from outreach.models import RECIPIENT_PLATFORM, Conversation, ConversationMessage, OutreachMessage
from tests.factories import (
    CampaignFactory,
    ContentFactory,
    CreatorFactory,
    PermissionRequestFactory,
    SocialAccountFactory,
)
from tests.outreach.factories import SenderAccountFactory
from tests.web import world
from tests.web.timing import fastest

pytestmark = pytest.mark.django_db
Classification = ConversationMessage.Classification


def thread(text="Yes! #YesAcme", *, ago=datetime.timedelta(hours=1), name="Maya Hart", platform="instagram"):
    creator = CreatorFactory(name=name)
    # The account the creator wrote from, with the id the webhook taught us: what lets us answer by API.
    account_platform = RECIPIENT_PLATFORM.get(platform)
    if account_platform:
        SocialAccountFactory(creator=creator, platform=account_platform, platform_user_id=f"{platform}-{creator.pk}")
    sender = SenderAccountFactory(platform=platform)
    conversation = Conversation.objects.create(
        creator=creator, platform=platform, sender_account=sender, last_inbound_at=timezone.now() - ago
    )
    message = ConversationMessage.objects.create(
        conversation=conversation,
        platform=platform,
        direction="in",
        text=text,
        at=timezone.now() - ago,
        classification=Classification.NEEDS_REVIEW,
        platform_message_id=f"mid.{creator.pk}",
    )
    return conversation, message


def asked(creator, campaign):
    return PermissionRequestFactory(
        content=ContentFactory(creator=creator, campaign=campaign), campaign=campaign, requested=True
    )


def test_it_lists_conversations_newest_first_with_replies_to_review(alice_client):
    thread(name="Older", ago=datetime.timedelta(days=2))
    thread(name="Newer", ago=datetime.timedelta(hours=1))
    response = alice_client.get("/inbox/")
    assert [c.creator.name for c in response.context["page"]] == ["Newer", "Older"]
    assert [m.conversation.creator.name for m in response.context["review"]] == ["Newer", "Older"]
    html = response.content.decode()
    assert 'name="decision" value="granted"' in html and 'value="opted_out"' in html


def test_it_records_a_grant_in_one_click_as_the_persons(alice_client, alice, campaign):
    conversation, message = thread()
    request = asked(conversation.creator, campaign)
    response = alice_client.post(
        f"/inbox/{conversation.pk}/messages/{message.pk}/classify/", {"decision": "granted", "back": "/inbox/"}
    )
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    message.refresh_from_db()
    request.refresh_from_db()
    assert message.classification == "granted" and message.classified_by == alice
    assert request.status == PermissionRequest.Status.GRANTED
    event = ConsentEvent.objects.get(permission_request=request)
    assert event.inbound_text == "Yes! #YesAcme" and "alice" in event.rule


def test_it_marks_just_a_reply_and_an_opt_out(alice_client):
    conversation, message = thread("Thanks, will think")
    alice_client.post(f"/inbox/{conversation.pk}/messages/{message.pk}/classify/", {"decision": "reply"})
    message.refresh_from_db()
    assert message.classification == "reply"
    other, stop = thread("Stop writing to me", name="Sam")
    alice_client.post(f"/inbox/{other.pk}/messages/{stop.pk}/classify/", {"decision": "opted_out"})
    other.creator.refresh_from_db()
    assert other.creator.opted_out_at is not None


def test_it_names_the_problem_without_a_request_or_with_a_bad_decision(alice_client):
    conversation, message = thread()
    url = f"/inbox/{conversation.pk}/messages/{message.pk}/classify/"
    response = alice_client.post(url, {"decision": "granted"}, follow=True)
    assert "decision: Maya Hart has no requested permission request." in response.content.decode()
    response = alice_client.post(url, {"decision": "maybe"}, follow=True)
    assert "decision: Choose granted" in response.content.decode()
    message.refresh_from_db()
    assert message.classification == Classification.NEEDS_REVIEW
    assert alice_client.post(f"/inbox/{conversation.pk}/messages/999999/classify/").status_code == 404


def test_it_does_not_decide_a_request_of_someone_elses_campaign(client, charlie, alice):
    conversation, message = thread()
    request = asked(conversation.creator, CampaignFactory(owner=alice))
    client.force_login(charlie)
    response = client.post(
        f"/inbox/{conversation.pk}/messages/{message.pk}/classify/", {"decision": "granted"}, follow=True
    )
    assert "has no requested permission request" in response.content.decode()
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.REQUESTED


def test_it_answers_inside_the_window_once_per_form(alice_client, alice):
    conversation, _ = thread()
    page = alice_client.get(f"/inbox/{conversation.pk}/")
    # The policy's own decision for a person's answer, not a second reckoning of the window.
    assert "Your answer goes out by API now. Inside the 24 h window" in page.content.decode()
    key = page.context["form"]["key"].value()
    data = {"text": "Thank you Maya!", "sender_account": conversation.sender_account_id, "key": key}
    assert alice_client.post(f"/inbox/{conversation.pk}/reply/", data).status_code == 302
    assert alice_client.post(f"/inbox/{conversation.pk}/reply/", data).status_code == 302
    message = OutreachMessage.objects.get()
    assert message.rendered_text == "Thank you Maya!" and message.human_agent and message.created_by == alice


def test_it_says_the_window_closed_and_shows_errors_by_the_field(alice_client):
    conversation, _ = thread(ago=datetime.timedelta(days=9))
    page = alice_client.get(f"/inbox/{conversation.pk}/")
    assert "Your answer goes to the manual queue, to send by hand. The Instagram window is closed" in (
        page.content.decode()
    )
    response = alice_client.post(
        f"/inbox/{conversation.pk}/reply/",
        {"text": "x" * 1001, "sender_account": conversation.sender_account_id, "key": "k"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["text"] == [
        "The message is 1001 bytes on Instagram; the limit is 1000 bytes."
    ]
    assert 'id="id_text_error"' in response.content.decode()
    response = alice_client.post(f"/inbox/{conversation.pk}/reply/", {"text": "", "sender_account": "nope"})
    assert set(response.context["form"].errors) == {"text", "sender_account", "key"}
    assert not OutreachMessage.objects.exists()


def test_it_shows_viewers_no_controls_and_refuses_their_writes(viewer_client):
    conversation, message = thread()
    html = viewer_client.get(f"/inbox/{conversation.pk}/").content.decode()
    assert "Send the answer" not in html and 'name="decision"' not in html and "Log the reply" not in html
    assert 'name="decision"' not in viewer_client.get("/inbox/").content.decode()
    assert viewer_client.post(f"/inbox/{conversation.pk}/reply/", {"text": "hi"}).status_code == 403
    assert viewer_client.post(f"/inbox/{conversation.pk}/log-reply/", {"said": "hi"}).status_code == 403
    url = f"/inbox/{conversation.pk}/messages/{message.pk}/classify/"
    assert viewer_client.post(url, {"decision": "reply"}).status_code == 403


def test_it_lists_the_inbox_in_a_constant_number_of_queries(alice_client, alice):
    world.build(alice, campaigns=1, members=1)
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/inbox/")
    world.build(alice, campaigns=3, members=10)
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get("/inbox/")
    assert len(response.context["review"]) == 31 and len(response.context["page"]) == 31
    assert len(many) == len(few)


def test_it_shows_a_conversation_in_a_constant_number_of_queries(alice_client, alice):
    conversation, _ = thread()
    with CaptureQueriesContext(connection) as few:
        alice_client.get(f"/inbox/{conversation.pk}/")
    for number in range(30):
        ConversationMessage.objects.create(
            conversation=conversation,
            platform="instagram",
            direction="out",
            text=f"Message {number}",
            at=timezone.now(),
            classified_by=alice,
        )
    with CaptureQueriesContext(connection) as many:
        response = alice_client.get(f"/inbox/{conversation.pk}/")
    assert len(response.context["thread"]) == 31
    assert len(many) == len(few)


def test_it_renders_in_under_300_ms(alice_client, alice):
    world.build(alice, **world.DEMO_SIZED)
    assert fastest(lambda: alice_client.get("/inbox/")) < 0.3


def test_it_logs_a_reply_received_elsewhere_for_review(alice_client, alice):
    conversation, _ = thread(ago=datetime.timedelta(days=3))
    response = alice_client.post(f"/inbox/{conversation.pk}/log-reply/", {"said": "Called: yes, use it"}, follow=True)
    assert "Reply logged; say what it means below." in response.content.decode()
    logged = conversation.messages.get(text="Called: yes, use it")
    assert logged.classification == Classification.NEEDS_REVIEW and "alice" in logged.classification_rule
    assert f"/inbox/{conversation.pk}/messages/{logged.pk}/classify/" in response.content.decode()


def test_it_names_the_field_of_a_bad_logged_reply(alice_client):
    conversation, _ = thread()
    response = alice_client.post(f"/inbox/{conversation.pk}/log-reply/", {"said": " ", "at": "yesterday"})
    assert set(response.context["log_form"].errors) == {"said", "at"}
    future = (timezone.now() + datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = alice_client.post(f"/inbox/{conversation.pk}/log-reply/", {"said": "Yes", "at": future})
    assert response.context["log_form"].errors["at"] == ["A reply cannot have been received in the future."]
    assert 'id="id_at_error"' in response.content.decode()
    assert conversation.messages.count() == 1


def test_each_conversation_shows_its_last_message_that_this_person_may_see(alice_client, alice, bob):
    # The last message's text and direction are read for the page's conversations only: still the
    # latest one alice may see (another team's message to the creator is not hers to read).
    mine, _ = thread(name="Mine", ago=datetime.timedelta(hours=3))
    theirs, _ = thread(name="Theirs", ago=datetime.timedelta(hours=5))
    ConversationMessage.objects.create(
        conversation=mine, platform="instagram", direction="out", text="Here are the details", at=timezone.now()
    )
    other_team = CampaignFactory(owner=bob)
    sent = OutreachMessage.objects.create(
        campaign=other_team, creator=theirs.creator, sender_account=theirs.sender_account, platform="instagram",
        rendered_text="Bob's offer", status=OutreachMessage.Status.SENT,
    )  # fmt: skip
    ConversationMessage.objects.create(
        conversation=theirs, platform="instagram", direction="out", text="Bob's offer", at=timezone.now(),
        outreach_message=sent,
    )  # fmt: skip
    page = alice_client.get("/inbox/").context["page"]
    shown = [(c.creator.name, c.last_direction, c.last_text) for c in page]
    assert shown == [("Mine", "out", "Here are the details"), ("Theirs", "in", "Yes! #YesAcme")]
