import json
import sys
import textwrap

import pytest

from tests.conftest import run_manage


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
