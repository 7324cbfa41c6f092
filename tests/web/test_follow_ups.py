"""Follow-up tasks, which every automatic reply leaves for a person, are shown and completed."""

import datetime

from django.utils import timezone

from outreach.models import Conversation, FollowUpTask
from tests.api.conftest import api_for
from tests.factories import CreatorFactory


def a_task(assignee=None):
    creator = CreatorFactory(name="Maya Hart")
    conversation = Conversation.objects.create(creator=creator, platform="instagram", last_inbound_at=timezone.now())
    return FollowUpTask.objects.create(
        creator=creator,
        conversation=conversation,
        assignee=assignee,
        reason="The creator wrote and got an automatic reply: answer them personally.",
        due_at=timezone.now() + datetime.timedelta(hours=4),
    )


def test_the_dashboard_lists_open_follow_ups_and_marks_one_done(alice_client, alice):
    task = a_task(assignee=alice)
    page = alice_client.get("/").content.decode()
    assert "Follow-ups for you" in page and "answer them personally" in page
    assert alice_client.post(f"/follow-ups/{task.pk}/done/").status_code == 302
    task.refresh_from_db()
    assert task.done_at is not None and task.done_by == alice
    assert "answer them personally" not in alice_client.get("/").content.decode()
    again = alice_client.post(f"/follow-ups/{task.pk}/done/", follow=True).content.decode()
    assert "already done" in again


def test_viewers_see_follow_ups_but_cannot_complete_them(viewer_client):
    task = a_task()
    assert "answer them personally" in viewer_client.get("/").content.decode()
    assert viewer_client.post(f"/follow-ups/{task.pk}/done/").status_code == 403
    task.refresh_from_db()
    assert task.done_at is None


def test_the_api_lists_open_tasks_and_completes_one_once(alice):
    task = a_task(assignee=alice)
    api = api_for(alice)
    listed = api.get("/api/v1/follow-up-tasks/?open=true").json()["results"]
    assert [row["id"] for row in listed] == [task.pk]
    done = api.post(f"/api/v1/follow-up-tasks/{task.pk}/done/")
    assert done.status_code == 200 and done.json()["done_by"] == alice.pk
    assert api.get("/api/v1/follow-up-tasks/?open=true").json()["results"] == []
    twice = api.post(f"/api/v1/follow-up-tasks/{task.pk}/done/")
    assert twice.status_code == 400 and "already done" in twice.json()["done_at"][0]
