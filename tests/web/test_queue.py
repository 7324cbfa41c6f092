"""The manual queue: text to copy, a deep link per platform, "mark as sent", roles, and echoes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outreach import inbound
from outreach.deeplinks import deep_link
from outreach.models import OutreachMessage
from outreach.webhooks import InboundMessage
from tests.factories import CampaignFactory, CreatorFactory, SocialAccountFactory
from tests.outreach.factories import SenderAccountFactory
from tests.web import world
from tests.web.timing import fastest

pytestmark = pytest.mark.django_db
Status = OutreachMessage.Status


def queued(campaign, *, text="Hi Maya, would you share your post?", platform="instagram", handle="mayahart"):
    creator = CreatorFactory(name="Maya Hart", email="maya@example.com")
    SocialAccountFactory(creator=creator, platform="instagram", handle=handle, platform_user_id="IGSID-1")
    sender = SenderAccountFactory(platform=platform)
    return OutreachMessage.objects.create(
        campaign=campaign, creator=creator, sender_account=sender, platform=platform, rendered_text=text,
        status=Status.MANUAL, delivery_mode="manual", reason="The Instagram window is closed.",
    )  # fmt: skip


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_it_shows_the_text_a_deep_link_and_mark_as_sent(alice_client, campaign):
    message = queued(campaign)
    html = alice_client.get("/manual-queue/").content.decode()
    assert "Hi Maya, would you share your post?" in html
    assert 'href="https://ig.me/m/mayahart"' in html
    assert f'data-copy="text-{message.pk}"' in html
    assert f"/manual-queue/{message.pk}/sent/" in html
    assert "The Instagram window is closed." in html


def test_it_marks_a_message_sent_by_the_person_and_clears_it(alice_client, alice, campaign):
    message = queued(campaign)
    response = alice_client.post(f"/manual-queue/{message.pk}/sent/", {"back": "/manual-queue/"}, follow=True)
    message.refresh_from_db()
    assert message.status == Status.SENT and message.sent_by == alice
    assert response.context["rows"] == []
    assert "Marked as sent to Maya Hart." in response.content.decode()


def test_it_lets_a_teammate_act_and_hides_the_row_from_outsiders(client, bob, charlie, campaign):
    message = queued(campaign)
    client.force_login(charlie)
    assert client.get("/manual-queue/").context["rows"] == []
    assert client.post(f"/manual-queue/{message.pk}/sent/").status_code == 404
    client.force_login(bob)
    assert client.post(f"/manual-queue/{message.pk}/cancel/").status_code == 302
    message.refresh_from_db()
    assert message.status == Status.CANCELLED


def test_it_shows_viewers_no_write_controls_and_refuses_their_writes(viewer_client, viewer, alice):
    campaign = CampaignFactory(owner=alice)
    campaign.team.add(viewer)
    message = queued(campaign)
    html = viewer_client.get("/manual-queue/").content.decode()
    assert "Hi Maya" in html and "Mark as sent" not in html
    assert viewer_client.post(f"/manual-queue/{message.pk}/sent/").status_code == 403
    message.refresh_from_db()
    assert message.status == Status.MANUAL


def test_it_names_the_problem_when_the_message_already_went(alice_client, campaign):
    message = queued(campaign)
    OutreachMessage.objects.filter(pk=message.pk).update(status=Status.SENT)
    response = alice_client.post(f"/manual-queue/{message.pk}/sent/", follow=True)
    assert "status: Only a message in the manual queue can be marked sent; it is sent." in response.content.decode()


def test_it_answers_404_not_a_traceback_for_bad_ids_and_filters(alice_client):
    assert alice_client.post("/manual-queue/999999/sent/").status_code == 404
    assert alice_client.get("/manual-queue/?page=lots&platform=myspace&campaign=x").status_code == 200


def test_it_loses_the_row_when_the_platform_echoes_the_sent_message(alice_client, campaign):
    message = queued(campaign)
    inbound.handle(
        InboundMessage(
            platform="instagram", business_id=message.sender_account.account_id, sender_id="us",
            message_id="mid.echo.1", at=timezone.now(), text=message.rendered_text, kind="echo",
            recipient_id="IGSID-1",
        )
    )  # fmt: skip
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert alice_client.get("/manual-queue/").context["rows"] == []


def test_it_links_each_platform_to_the_chat_or_profile():
    creator = CreatorFactory(email="maya@example.com")
    accounts = [
        SocialAccountFactory.build(creator=creator, platform="instagram", handle="maya"),
        SocialAccountFactory.build(creator=creator, platform="facebook", handle="maya.page"),
        SocialAccountFactory.build(creator=creator, platform="x", handle="maya", platform_user_id="42"),
        SocialAccountFactory.build(creator=creator, platform="tiktok", handle="maya.tt", profile_url="https://www.tiktok.com/@maya.tt"),
        SocialAccountFactory.build(creator=creator, platform="linkedin", handle="maya-h", profile_url="https://www.linkedin.com/in/maya-h/"),
        SocialAccountFactory.build(creator=creator, platform="whatsapp", handle="447700900123"),
    ]  # fmt: skip
    assert deep_link("instagram", creator, accounts)[0] == "https://ig.me/m/maya"
    assert deep_link("messenger", creator, accounts)[0] == "https://m.me/maya.page"
    assert deep_link("x", creator, accounts)[0] == "https://x.com/messages/compose?recipient_id=42"
    assert deep_link("tiktok", creator, accounts)[0] == "https://www.tiktok.com/@maya.tt"
    assert deep_link("linkedin", creator, accounts)[0] == "https://www.linkedin.com/in/maya-h/"
    assert deep_link("whatsapp", creator, accounts)[0] == "https://wa.me/447700900123"
    email = deep_link("email", creator, accounts, subject="Hi", text="A b")[0]
    assert email == "mailto:maya@example.com?subject=Hi&body=A%20b"
    assert deep_link("x", creator, [accounts[0]]) == ("", "")


def test_it_lists_the_queue_in_a_constant_number_of_queries(alice_client, alice):
    world.build(alice, campaigns=1, members=2)
    few, response = queries_for(alice_client, "/manual-queue/")
    assert len(response.context["rows"]) == 1
    world.build(alice, campaigns=3, members=20)
    many, response = queries_for(alice_client, "/manual-queue/")
    assert len(response.context["rows"]) == 31
    assert many == few


def test_it_renders_in_under_300_ms(alice_client, alice):
    world.build(alice, **world.DEMO_SIZED)
    assert fastest(lambda: alice_client.get("/manual-queue/")) < 0.3


def test_it_lists_sends_held_for_review_and_approves_one(alice_client, campaign):
    message = queued(campaign)
    OutreachMessage.objects.filter(pk=message.pk).update(
        status=Status.NEEDS_REVIEW, reason="The platform never answered."
    )
    response = alice_client.get("/manual-queue/?show=needs_review")
    assert [row["message"] for row in response.context["rows"]] == [message]
    assert {value: count for value, _, count in response.context["tabs"]} == {
        "manual": 0, "needs_review": 1, "failed": 0
    }  # fmt: skip
    html = response.content.decode()
    assert "Approve to send again" in html and "Mark as sent" in html and "Try again" not in html
    alice_client.post(f"/manual-queue/{message.pk}/approve/", {"back": "/manual-queue/?show=needs_review"})
    message.refresh_from_db()
    assert message.status == Status.PENDING


def test_it_lists_failures_with_their_error_and_retries_one(alice_client, campaign):
    message = queued(campaign)
    OutreachMessage.objects.filter(pk=message.pk).update(
        status=Status.FAILED, attempts=5, error_code="190", error_message="Invalid OAuth access token."
    )
    html = alice_client.get("/manual-queue/?show=failed").content.decode()
    assert "<code>190</code> Invalid OAuth access token." in html and "Mark as sent" not in html
    response = alice_client.post(f"/manual-queue/{message.pk}/retry/", follow=True)
    assert "will be tried again" in response.content.decode()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.error_code) == (Status.PENDING, 0, "")
    response = alice_client.post(f"/manual-queue/{message.pk}/retry/", follow=True)
    assert "status: Only a failed message can be retried; it is pending." in response.content.decode()


def test_it_lists_failures_in_a_constant_number_of_queries(alice_client, alice):
    world.build(alice, campaigns=1, members=2)
    few, response = queries_for(alice_client, "/manual-queue/?show=failed")
    assert len(response.context["rows"]) == 1
    world.build(alice, campaigns=3, members=20)
    many, response = queries_for(alice_client, "/manual-queue/?show=failed")
    assert len(response.context["rows"]) == 31 and many == few
