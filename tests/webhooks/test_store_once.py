"""The receivers' stored-once path on the database broker: the delivery and its task are written in
one transaction (one commit), so neither exists without the other and a re-delivery adds neither."""

import pytest
from django.db import DatabaseError
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from outreach import queue, tasks
from outreach.models import InboundEvent
from outreach.webhooks import meta
from tests.webhooks.test_receivers import META_SECRET, fixture

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: on_commit callbacks would run


@pytest.fixture(autouse=True)
def database_broker(settings, monkeypatch):
    settings.META_APP_SECRET = META_SECRET
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", "default")


def post(client, body: bytes):
    signature = meta.sign(body, META_SECRET)
    return client.post("/webhooks/meta/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature)


def test_a_delivery_is_stored_with_its_task_and_a_redelivery_adds_nothing(client):
    body = fixture("meta/instagram_message.json")
    assert post(client, body).json() == {"received": True, "duplicate": False}
    assert post(client, body).json() == {"received": True, "duplicate": True}
    event = InboundEvent.objects.get()
    (task,) = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert (task["func"], task["args"], task["name"]) == (
        "outreach.tasks.process_inbound_delivery",
        ("meta", event.event_id),
        "inbound-meta",
    )
    assert event.status == InboundEvent.Status.RECEIVED  # nothing processed inline
    assert tasks.process_inbound_delivery(*task["args"]) == 1
    event.refresh_from_db()
    assert event.status == InboundEvent.Status.PROCESSED


def test_when_the_task_cannot_be_written_the_delivery_is_not_kept_either(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("the queue table is gone")

    monkeypatch.setattr(queue, "async_task", broken)
    client.raise_request_exception = False
    assert post(client, fixture("meta/instagram_message.json")).status_code == 500  # the platform retries
    assert not InboundEvent.objects.exists()
    assert not OrmQ.objects.exists()
