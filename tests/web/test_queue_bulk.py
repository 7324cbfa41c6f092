"""Bulk "mark as sent" in the manual queue: several at once, each recorded exactly once (also when two
managers click at the same moment), only what the person may act on, and the page's confirmation."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from crm.models import PermissionRequest
from outreach import services
from outreach.models import Conversation, OutreachMessage
from tests.factories import CampaignFactory, CreatorFactory, PermissionRequestFactory, SocialAccountFactory
from tests.outreach.factories import SenderAccountFactory

Status = OutreachMessage.Status


def queued(campaign, name, *, sender=None, status=Status.MANUAL, **extra):
    creator = CreatorFactory(name=name)
    SocialAccountFactory(creator=creator, platform="instagram", handle=name.lower().replace(" ", "."))
    return OutreachMessage.objects.create(
        campaign=campaign, creator=creator, sender_account=sender or SenderAccountFactory(), platform="instagram",
        rendered_text=f"Hi {name}", status=status, delivery_mode="manual", **extra,
    )  # fmt: skip


@pytest.mark.django_db
def test_several_are_marked_sent_once_each_with_their_follow_ups(campaign, alice):
    sender = SenderAccountFactory()
    request = PermissionRequestFactory(campaign=campaign)
    first = queued(campaign, "Maya Hart", sender=sender, permission_request=request)
    second = queued(campaign, "Liam Stone", sender=sender)
    done = services.mark_many_sent([first.pk, second.pk, first.pk], actor=alice)
    assert sorted(m.pk for m in done.sent) == [first.pk, second.pk] and done.skipped == 0
    for message in (first, second):
        message.refresh_from_db()
        assert (message.status, message.sent_by) == (Status.SENT, alice)
    request.refresh_from_db()
    assert request.status == PermissionRequest.Status.REQUESTED
    assert Conversation.objects.filter(creator=second.creator, platform="instagram", outbound_since_inbound=1).exists()
    again = services.mark_many_sent([first.pk, second.pk], actor=alice)
    assert again.sent == [] and again.skipped == 2
    assert Conversation.objects.get(creator=second.creator).outbound_since_inbound == 1  # counted once


@pytest.mark.django_db
def test_it_leaves_another_teams_and_cancelled_messages_alone(campaign, charlie, alice):
    theirs = queued(CampaignFactory(owner=charlie), "Zoe Reed")
    cancelled = queued(campaign, "Ada Lane", status=Status.CANCELLED)
    ours = queued(campaign, "Maya Hart")
    done = services.mark_many_sent([theirs.pk, cancelled.pk, ours.pk], actor=alice)
    assert [m.pk for m in done.sent] == [ours.pk] and done.skipped == 2
    assert OutreachMessage.objects.get(pk=theirs.pk).status == Status.MANUAL
    assert OutreachMessage.objects.get(pk=cancelled.pk).status == Status.CANCELLED


@pytest.mark.django_db
def test_nothing_ticked_or_too_many_is_refused_by_field(alice):
    with pytest.raises(ValidationError, match="at least one"):
        services.mark_many_sent([], actor=alice)
    with pytest.raises(ValidationError, match="at most 200"):
        services.mark_many_sent(range(1, 300), actor=alice)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_clicking_at_once_record_each_message_once(campaign, alice, bob):
    sender = SenderAccountFactory()
    ids = [queued(campaign, f"Creator {n}", sender=sender).pk for n in range(40)]
    barrier, results, errors = threading.Barrier(2), {}, []

    def click(user):
        try:
            barrier.wait()
            results[user.username] = services.mark_many_sent(ids, actor=user)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(user,)) for user in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    by_alice = {m.pk for m in results["alice"].sent}
    by_bob = {m.pk for m in results["bob"].sent}
    assert by_alice.isdisjoint(by_bob) and by_alice | by_bob == set(ids)
    assert results["alice"].skipped + results["bob"].skipped == len(ids)
    assert OutreachMessage.objects.filter(pk__in=ids, status=Status.SENT).count() == len(ids)
    assert Conversation.objects.filter(outbound_since_inbound=1).count() == len(ids)


@pytest.mark.django_db
def test_the_page_marks_the_ticked_and_says_what_it_left(alice_client, campaign):
    first, second, third = (queued(campaign, name) for name in ("Maya Hart", "Liam Stone", "Ada Lane"))
    page = alice_client.get("/manual-queue/").content.decode()
    assert 'id="bulk-sent"' in page and f'form="bulk-sent" id="tick-{first.pk}"' in page
    OutreachMessage.objects.filter(pk=second.pk).update(status=Status.SENT)  # a colleague was faster
    response = alice_client.post(
        "/manual-queue/sent/", {"message": [first.pk, second.pk], "back": "/manual-queue/"}, follow=True
    )
    text = response.content.decode()
    assert "Marked 1 message as sent: Maya Hart." in text and "1 left as they were" in text
    assert [row["message"].pk for row in response.context["rows"]] == [third.pk]
    refused = alice_client.post("/manual-queue/sent/", {"back": "/manual-queue/"}, follow=True).content.decode()
    assert "Choose at least one message to mark as sent." in refused


@pytest.mark.django_db
def test_a_viewer_cannot_mark_in_bulk(viewer_client, campaign):
    message = queued(campaign, "Maya Hart")
    assert viewer_client.post("/manual-queue/sent/", {"message": [message.pk]}).status_code == 403
    assert OutreachMessage.objects.get(pk=message.pk).status == Status.MANUAL


@pytest.mark.django_db
def test_the_api_marks_several_and_counts_the_skipped(alice, campaign):
    from rest_framework.test import APIClient

    first, second = queued(campaign, "Maya Hart"), queued(campaign, "Liam Stone", status=Status.SENT)
    api = APIClient()
    api.force_authenticate(alice)
    answer = api.post("/api/v1/outreach-messages/mark-sent/", {"messages": [first.pk, second.pk]}, format="json")
    assert answer.status_code == 200 and answer.json() == {"sent": [first.pk], "skipped": 1}
    assert api.post("/api/v1/outreach-messages/mark-sent/", {"messages": []}, format="json").status_code == 400
