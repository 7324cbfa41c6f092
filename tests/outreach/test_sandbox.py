"""The demo loop a new user sees: the sandbox platforms, the demo's senders wired to them, a launch."""

import json
import os
import random
import signal
import socket
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_manage

LAUNCH = """
import json
from django.contrib.auth import get_user_model
from crm.models import Campaign
from outreach import services, worker
from outreach.models import MessageTemplate, SenderAccount
sender = SenderAccount.objects.get(name="Acme Instagram (sandbox)")
summary = services.launch_campaign(
    Campaign.objects.get(name="Summer Glow 2026"),
    actor=get_user_model().objects.get(username="demo"),
    sender_account=sender,
    template=MessageTemplate.objects.get(name="Intro DM"),
)
report = worker.send_due(sender.pk)
print(json.dumps({"planned": summary.as_dict()["by_mode"], "outcomes": report.outcomes}))
"""


def free_ports(count: int) -> int:
    for _ in range(50):
        base = random.randint(20_000, 60_000)
        sockets = []
        try:
            for offset in range(count):
                sock = socket.socket()
                sock.bind(("127.0.0.1", base + offset))
                sockets.append(sock)
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError("no free ports")


@pytest.mark.slow(seconds=12)
def test_the_sandbox_demo_sends_to_creators_who_wrote_and_queues_the_rest(migrated_sqlite):
    env = migrated_sqlite
    result = run_manage("seed_demo", env=env)
    assert result.returncode == 0, result.stderr
    port = free_ports(4)
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--setup-demo", "--port", str(port), "--seconds", "60"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [sandbox.stdout.readline(), sandbox.stdout.readline()]
        assert "Demo sender accounts point at the sandbox" in lines[0], sandbox.stderr.read()
        assert f"Meta http://127.0.0.1:{port}" in lines[1]
        result = run_manage("shell", "-c", LAUNCH, env=env)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        sandbox.send_signal(signal.SIGTERM)
        output, _ = sandbox.communicate(timeout=20)
    assert answer["outcomes"]["sent"] >= 1
    assert answer["outcomes"]["manual"] >= 1
    assert answer["planned"]["api"] == answer["outcomes"]["sent"]
    assert f"it received {answer['outcomes']['sent']} DM(s)" in output
