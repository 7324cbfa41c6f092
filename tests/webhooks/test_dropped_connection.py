"""A webhook arriving on a database connection the server has dropped (a PostgreSQL restart, an idle
timeout, a failover) is still stored once and answered 200: the receiver's one statement is its own
connection check (outreach/inbound/deliveries.py), so it runs again on a new connection."""

import json

import psycopg
import pytest
from django.db import connection

from outreach.models import InboundEvent
from outreach.webhooks import meta

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SECRET = "dropped-connection-secret"
ADMIN_PARAMS = {"host", "port", "user", "password", "dbname"}


def delivery(mid: str) -> bytes:
    message = {"sender": {"id": "9001"}, "recipient": {"id": "1784"}, "timestamp": 1, "message": {"mid": mid}}
    return json.dumps({"object": "instagram", "entry": [{"id": "1784", "time": 1, "messaging": [message]}]}).encode()


def post(client, body: bytes):
    return client.post(
        "/webhooks/meta/", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta.sign(body, SECRET)
    )


def test_a_delivery_on_a_dropped_connection_is_stored_on_a_new_one(client, settings):
    settings.META_APP_SECRET = SECRET
    assert post(client, delivery("before-the-drop")).status_code == 200
    dropped = connection.connection.info.backend_pid
    params = {key: value for key, value in connection.get_connection_params().items() if key in ADMIN_PARAMS}
    with psycopg.connect(**params, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [dropped]).fetchone()[0]

    response = post(client, delivery("after-the-drop"))

    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "duplicate": False}
    assert connection.connection.info.backend_pid != dropped
    assert InboundEvent.objects.filter(provider="meta").count() == 2
    assert post(client, delivery("after-the-drop")).json()["duplicate"] is True  # and only once
