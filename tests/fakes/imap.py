"""The `dovecot` fixture: a real Dovecot IMAP server (outreach.sandbox.dovecot) for the mailbox channel.

One server per test process (starting Dovecot costs ~0.1 s, stopping it ~1 s), wiped before each
test: no users, no mail. Tests add the mailboxes they need:

    def test_reply_is_read(dovecot):
        dovecot.add_user(MANAGER, MANAGER_PASSWORD)
        dovecot.deliver(MANAGER, raw_reply)
        with IMAPClient(dovecot.host, port=dovecot.port, ssl=False) as client: ...

`smtp_to_dovecot` is an SMTP sink (like `smtp_sink`) that also delivers every message to the
Dovecot user it is addressed to. Without Dovecot installed the tests using these fixtures are
skipped with the reason; CI (.ci/run) installs it.
"""

import atexit

import pytest

from outreach.sandbox import dovecot as sandbox_dovecot
from outreach.sandbox.smtp import SmtpSink

MANAGER = "manager@brand.example"
MANAGER_PASSWORD = "manager-secret"

_server: sandbox_dovecot.Dovecot | None = None


def running_dovecot() -> sandbox_dovecot.Dovecot:
    """This process's Dovecot, started on first use and stopped when the process exits."""
    global _server
    if not sandbox_dovecot.installed():
        pytest.skip(
            f"Dovecot is not installed ({sandbox_dovecot.DOVECOT}); "
            "apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd"
        )
    if _server is None or not _server.running:
        _server = sandbox_dovecot.Dovecot(imaps=True).start()
        atexit.register(_server.stop)
    return _server


@pytest.fixture
def dovecot():
    server = running_dovecot()
    server.wipe()
    yield server
    server.wipe()


@pytest.fixture
def smtp_to_dovecot(dovecot):
    with SmtpSink(mailbox=dovecot) as sink:
        yield sink
