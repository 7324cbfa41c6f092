"""manage.py sandbox gives the demo's email sender a real mailbox when Dovecot is installed: a reply
sent to it through the sandbox's SMTP server can be read over IMAP."""

import os
import re
import signal
import smtplib
import subprocess
import sys

import imapclient
import pytest

from outreach.demo import DEMO_SENDERS, SANDBOX_TOKEN
from outreach.sandbox import dovecot
from tests.conftest import ROOT
from tests.outreach.test_sandbox import free_ports

pytestmark = [
    pytest.mark.skipif(not dovecot.installed(), reason="Dovecot is not installed (dovecot-imapd)"),
    pytest.mark.slow(seconds=8),
]

SENDER_ADDRESS = next(account for _, platform, _, account, _ in DEMO_SENDERS if platform == "email")


def test_the_sandbox_mailbox_receives_a_reply_sent_through_its_smtp_server(migrated_sqlite):
    env = migrated_sqlite
    port = free_ports(4)
    sandbox = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--port", str(port), "--seconds", "60"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [sandbox.stdout.readline(), sandbox.stdout.readline()]
        assert "Demo mailbox: IMAP imap://127.0.0.1:" in lines[1], (lines, sandbox.stderr.read())
        imap_port = int(re.search(r"imap://127\.0\.0\.1:(\d+)", lines[1]).group(1))
        assert SENDER_ADDRESS in lines[1]
        reply = (
            f"From: creator@creator.example\r\nTo: {SENDER_ADDRESS}\r\nSubject: Re: Summer Glow\r\n"
            "Message-ID: <reply@creator.example>\r\n\r\nYes, repost it.\r\n"
        ).encode()
        with smtplib.SMTP("127.0.0.1", port + 3, timeout=5) as smtp:
            smtp.sendmail("creator@creator.example", [SENDER_ADDRESS], reply)
        with imapclient.IMAPClient("127.0.0.1", port=imap_port, ssl=False, timeout=10) as imap:
            imap.login(SENDER_ADDRESS, SANDBOX_TOKEN)
            imap.select_folder("INBOX", readonly=True)
            uids = imap.search(["HEADER", "Message-ID", "<reply@creator.example>"])
            assert len(uids) == 1
    finally:
        sandbox.send_signal(signal.SIGTERM)
        output, _ = sandbox.communicate(timeout=30)
    assert "it received 0 DM(s) and 1 email(s)" in output
