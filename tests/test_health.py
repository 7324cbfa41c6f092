import datetime
import json
import sys
import textwrap

import pytest
from django.utils import timezone

from crm.models import Creator
from outreach.models import OutreachMessage
from tests.conftest import run_manage
from tests.outreach.factories import SenderAccountFactory


@pytest.mark.django_db
def test_healthz_answers_ok_with_the_database_state(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] in {"sqlite", "postgresql"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_answers_503_when_the_database_is_unreachable(tmp_path):
    """A real request through the whole stack, in a process whose database cannot be opened."""
    script = textwrap.dedent(
        """
        import json, django
        django.setup()
        from django.test import Client
        response = Client().get("/healthz")
        print(json.dumps({"status": response.status_code, "body": response.json()}))
        """
    )
    unreachable = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'db.sqlite3'}"
    result = run_manage("shell", "-c", script, env={"DATABASE_URL": unreachable})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 503
    assert answer["body"]["status"] == "unavailable"
    assert answer["body"]["database"] == {"ok": False, "vendor": "sqlite", "error": "OperationalError"}
    assert sys.executable  # the child ran with this interpreter


def test_healthz_answers_503_when_postgres_is_down():
    script = 'from django.test import Client; r = Client().get("/healthz"); print(r.status_code, r.json()["database"])'
    result = run_manage("shell", "-c", script, env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("503 {'ok': False, 'vendor': 'postgresql'")


@pytest.mark.django_db
def test_healthz_reports_the_broker_and_the_sending_backlog(client):
    sender = SenderAccountFactory(platform="instagram", variant="instagram_login")
    creator = Creator.objects.create(name="Waiting")
    past = timezone.now() - datetime.timedelta(minutes=5)
    OutreachMessage.objects.create(
        creator=creator,
        sender_account=sender,
        platform="instagram",
        rendered_text="hi",
        due_at=past,
        dedupe_key="health-1",
    )
    OutreachMessage.objects.create(
        creator=creator,
        sender_account=sender,
        platform="instagram",
        rendered_text="hi",
        status="sending",
        lease_expires_at=past,
        dedupe_key="health-2",
    )
    body = client.get("/healthz").json()
    assert body["broker"]["ok"] is True and body["broker"]["kind"] == "orm"
    assert body["sending"]["due"] == 1
    assert body["sending"]["oldest_due_seconds"] >= 300
    assert body["sending"]["expired_leases"] == 1


def test_healthz_answers_503_when_redis_is_down():
    script = 'from django.test import Client; r = Client().get("/healthz"); print(r.status_code, r.json()["broker"])'
    result = run_manage("shell", "-c", script, env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "503 {'ok': False, 'kind': 'redis', 'error': 'ConnectionError'}"
