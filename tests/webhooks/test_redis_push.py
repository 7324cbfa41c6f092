"""With Redis as the broker, each stored delivery's task is pushed on the one connection of this
process's broker (outreach/queue.py), not on a new client and TCP connection per push: measured on a
redis-server of this test's own, so no one else's connections are counted."""

import shutil
import socket
import subprocess
import time

import pytest
import redis
from django_q.conf import Conf
from django_q.signing import SignedPackage

from outreach import queue
from outreach.models import InboundEvent
from tests.webhooks.test_dropped_connection import delivery, post

pytestmark = pytest.mark.django_db(transaction=True)  # real commits: the push follows one
SECRET = "dropped-connection-secret"  # test_dropped_connection's post() signs with it


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("no redis-server")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=tmp_path)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    server.kill()
    server.wait()


def test_deliveries_are_pushed_on_one_connection(client, settings, monkeypatch, own_redis):
    settings.META_APP_SECRET = SECRET
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "REDIS", own_redis)
    watcher = redis.from_url(own_redis)
    before = watcher.info("stats")["total_connections_received"]  # the watcher's own connection

    for n in range(5):
        assert post(client, delivery(f"redis-push-{n}")).json() == {"received": True, "duplicate": False}

    assert watcher.info("stats")["total_connections_received"] - before == 1  # the broker's one connection
    pushed = [SignedPackage.loads(package) for package in watcher.lrange(f"django_q:{Conf.CLUSTER_NAME}:q", 0, -1)]
    stored = InboundEvent.objects.order_by("id").values_list("event_id", flat=True)
    assert [(task["func"], task["args"]) for task in pushed] == [
        ("outreach.tasks.process_inbound_delivery", ("meta", event_id)) for event_id in stored
    ]
    assert queue.shared_broker() is queue.shared_broker()


def test_a_changed_broker_configuration_gets_its_own_broker(monkeypatch, own_redis):
    monkeypatch.setattr(Conf, "ORM", "default")
    database = queue.shared_broker()
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", own_redis)
    assert queue.shared_broker() is not database
    assert type(queue.shared_broker()).__name__ == "Redis" and type(database).__name__ == "ORM"
