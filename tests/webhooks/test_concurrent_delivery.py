"""The same delivery arriving twice at the same moment is stored once and processed once (PostgreSQL)."""

import threading
from pathlib import Path

import pytest
import requests
from django.db import connections

from outreach import inbound
from outreach.models import ConversationMessage, InboundEvent
from outreach.webhooks import meta

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BODY = (
    Path(__file__).resolve().parent.parent / "fixtures" / "webhooks" / "meta" / "instagram_message.json"
).read_bytes()


def at_once(count, work):
    barrier, results = threading.Barrier(count), [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = work()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_simultaneous_redeliveries_are_stored_once_and_processed_once(live_server, settings):
    settings.META_APP_SECRET = "meta-app-secret"
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(BODY, "meta-app-secret")}
    answers = at_once(
        4, lambda: requests.post(f"{live_server.url}/webhooks/meta/", data=BODY, headers=headers, timeout=10)
    )
    assert [answer.status_code for answer in answers] == [200] * 4
    assert sorted(answer.json()["duplicate"] for answer in answers) == [False, True, True, True]
    event = InboundEvent.objects.get()
    processed = at_once(3, lambda: inbound.process_event(event.pk))
    assert sorted(processed) == [0, 0, 1]
    assert ConversationMessage.objects.count() == 1
