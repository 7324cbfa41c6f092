"""A stored delivery is never left waiting for ever because its task was lost: with Redis, a push
that fails after the commit is pushed again on the platform's retry, and a sweep queues again any
delivery still waiting after ten minutes (outreach/inbound/deliveries.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from outreach import queue, tasks
from outreach.inbound import deliveries
from outreach.models import InboundEvent
from outreach.webhooks import meta
from tests.webhooks.test_receivers import META_SECRET, fixture

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: the push happens after one


def post(client, body: bytes):
    signature = meta.sign(body, META_SECRET)
    return client.post("/webhooks/meta/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


def test_a_push_that_failed_after_the_commit_is_pushed_again_on_the_retry(client, settings, monkeypatch):
    settings.META_APP_SECRET = META_SECRET
    monkeypatch.setattr(Conf, "ORM", None)  # a Redis broker: the push follows the commit
    monkeypatch.setattr(Conf, "SYNC", False)
    pushed = []

    def redis_down(func, *args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(queue, "async_task", redis_down)
    client.raise_request_exception = False
    body = fixture("meta/instagram_message.json")
    assert post(client, body).status_code == 500  # stored, but its task is lost: the platform retries
    assert InboundEvent.objects.get().status == InboundEvent.Status.RECEIVED

    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kwargs: pushed.append((func, args)))
    assert post(client, body).json() == {"received": True, "duplicate": True}
    event = InboundEvent.objects.get()
    assert pushed == [("outreach.tasks.process_inbound_delivery", ("meta", event.event_id))]

    assert tasks.process_inbound_delivery(*pushed[0][1]) == 1
    pushed.clear()
    assert post(client, body).json()["duplicate"] is True
    assert pushed == []  # processed: a later re-delivery pushes nothing


def test_the_sweep_queues_again_only_deliveries_waiting_too_long(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)  # the queued task runs at once: the sweep's effect is visible
    body = fixture("meta/instagram_message.json")
    lost, _fresh, done = (
        InboundEvent.objects.create(provider="meta", event_id=name, body=body, headers={})
        for name in ("lost", "fresh", "done")
    )
    InboundEvent.objects.filter(pk__in=[lost.pk, done.pk]).update(received_at=timezone.now() - timedelta(minutes=11))
    InboundEvent.objects.filter(pk=done.pk).update(status=InboundEvent.Status.PROCESSED)

    assert tasks.requeue_stranded_deliveries() == 1

    statuses = dict(InboundEvent.objects.values_list("event_id", "status"))
    assert statuses == {"lost": "processed", "fresh": "received", "done": "processed"}
    assert deliveries.requeue_stranded() == 0  # nothing left waiting too long
