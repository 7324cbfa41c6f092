"""Log lines name their request (X-Request-ID, echoed in the answer) and their queue task."""

import json

import pytest
from django_q.signals import pre_execute

from config import logcontext
from tests.conftest import run_manage


def test_a_request_id_is_echoed_and_is_on_the_requests_log_lines():
    script = (
        "from django.test import Client; "
        "r = Client().get('/healthz', HTTP_X_REQUEST_ID='abc-123'); print('ECHO', r['X-Request-ID']); "
        "r2 = Client().get('/healthz', HTTP_X_REQUEST_ID='bad id with spaces'); print('NEW', r2['X-Request-ID'])"
    )
    result = run_manage("shell", "-c", script)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("ECHO", "NEW")))
    assert lines["ECHO"] == "abc-123"
    assert lines["NEW"] != "bad id with spaces" and len(lines["NEW"]) == 32  # a fresh id instead


def test_json_log_lines_carry_the_request_id():
    script = (
        "import logging\n"
        "from config import logcontext\n"
        "token = logcontext.request_id.set('req-42')\n"
        "logging.getLogger('outreach.worker').warning('sender 1 paused')\n"
    )
    result = run_manage("shell", "-c", script, env={"LOG_FORMAT": "json"})
    assert result.returncode == 0, result.stderr
    entry = json.loads([line for line in result.stderr.splitlines() if "sender 1 paused" in line][-1])
    assert entry["request_id"] == "req-42" and entry["task_id"] == "-" and entry["level"] == "WARNING"


@pytest.mark.django_db
def test_a_queue_task_sets_its_task_id():
    """django-q2's worker sends pre_execute with the task before running it (django_q/worker.py)."""
    pre_execute.send(sender="django_q", func=print, task={"id": "task-7", "name": "send-1"})
    assert logcontext.task_id.get() == "task-7"
