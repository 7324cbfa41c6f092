"""The demo: `manage.py sandbox --setup-demo` gives the demo email sender its Dovecot mailbox to read,
so a creator's answer sent to it arrives in a conversation through the mailbox fetch, no gateway."""

import os
import re
import signal
import smtplib
import subprocess
import sys

import pytest

from outreach.demo import DEMO_SENDERS
from outreach.sandbox import dovecot
from tests.conftest import ROOT, run_manage
from tests.outreach.test_sandbox import free_ports

pytestmark = [
    pytest.mark.skipif(not dovecot.installed(), reason="Dovecot is not installed (dovecot-imapd)"),
    pytest.mark.slow(seconds=15),
]
SENDER_ADDRESS = next(account for _, platform, _, account, _ in DEMO_SENDERS if platform == "email")
READ = (
    "from outreach.mailbox import fetch_all_mailboxes; from outreach.inbound import process_event; "
    "from outreach.models import InboundEvent, ConversationMessage; print('stored', fetch_all_mailboxes()); "
    "[process_event(e.pk) for e in InboundEvent.objects.all()]; "
    "print('texts', list(ConversationMessage.objects.values_list('text', flat=True)))"
)


def test_the_demo_email_sender_reads_a_reply_from_its_mailbox(migrated_sqlite):
    env = migrated_sqlite
    port = free_ports(4)
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--setup-demo", "--seconds", "60"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = [sandbox.stdout.readline() for _ in range(3)]
        assert any("Demo mailbox: IMAP imap://" in line for line in lines), (lines, sandbox.stderr.read())
        reply = (
            f"From: Maya Hart <maya@creator.example>\r\nTo: {SENDER_ADDRESS}\r\nSubject: Re: Summer Glow\r\n"
            "Message-ID: <demo-reply@creator.example>\r\n\r\nYes, repost it.\r\n"
        ).encode()
        with smtplib.SMTP("127.0.0.1", port + 3, timeout=5) as smtp:
            smtp.sendmail("maya@creator.example", [SENDER_ADDRESS], reply)
        result = run_manage("shell", "-c", READ, env=env)
        assert result.returncode == 0, result.stderr
        assert re.search(r"stored \{\d+: 1\}", result.stdout), result.stdout
        assert "'Yes, repost it.'" in result.stdout
    finally:
        sandbox.send_signal(signal.SIGTERM)
        sandbox.communicate(timeout=30)
