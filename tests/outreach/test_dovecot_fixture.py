"""The `dovecot` fixture is a real IMAP server, seen through IMAPClient, the library the mailbox
channel uses: what the product code will rely on (UIDs, UIDVALIDITY, the Sent folder, refused
logins) is checked here against Dovecot itself."""

import email.policy
import smtplib
import ssl
from email.message import EmailMessage

import dkim
import imapclient
import pytest
from imapclient.exceptions import LoginError
from imapclient.imapclient import SENT

from tests.fakes.dkim import sign
from tests.fakes.imap import MANAGER, MANAGER_PASSWORD


def message(subject: str, sender: str = "creator@creator.example", to: str = MANAGER) -> bytes:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Message-ID"] = f"<{''.join(c for c in subject if c.isalnum())}@creator.example>"
    mail.set_content(f"{subject}: yes, you may repost it.")
    return mail.as_bytes(policy=email.policy.SMTP)  # CRLF line ends, as on the wire


def client(server, user: str = MANAGER, password: str = MANAGER_PASSWORD) -> imapclient.IMAPClient:
    imap = imapclient.IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
    imap.login(user, password)
    return imap


def test_delivered_mail_is_found_and_fetched_by_uid(dovecot):
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    dovecot.deliver(MANAGER, message("first"))
    dovecot.deliver(MANAGER, message("second"))
    with client(dovecot) as imap:
        selected = imap.select_folder("INBOX", readonly=True)
        assert selected[b"EXISTS"] == 2
        assert imap.search(["ALL"]) == [1, 2]  # UIDs, as delivery assigned them
        found = imap.search(["SUBJECT", "second"])
        assert found == [2]
        fetched = imap.fetch(found, ["BODY.PEEK[]", "FLAGS"])
        raw = fetched[2][b"BODY[]"]
        assert b"Subject: second" in raw
        assert b"Message-ID: <second@creator.example>" in raw
        assert b"Delivered-To: " + MANAGER.encode() in raw  # LMTP delivery, as a mail server does it
        assert b"\\Seen" not in fetched[2][b"FLAGS"]
        assert imap.search(["UID", "2:*"]) == [2]
    dovecot.deliver(MANAGER, message("third"))
    with client(dovecot) as imap:
        imap.select_folder("INBOX", readonly=True)
        assert imap.search(["UID", "3:*"]) == [3]  # a new mail gets the next UID


def test_uidvalidity_is_read_and_changes_when_the_folder_is_recreated(dovecot):
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    for n in range(3):
        dovecot.deliver(MANAGER, message(f"before {n}"))
        dovecot.append(MANAGER, message(f"sent {n}"), "Sent", flags=("\\Seen",))
    with client(dovecot) as imap:
        inbox = imap.folder_status("INBOX", ["UIDVALIDITY", "UIDNEXT"])
        sent = imap.select_folder("Sent")
    assert inbox[b"UIDNEXT"] == 4
    assert sent[b"UIDNEXT"] == 4

    dovecot.reset_uidvalidity(MANAGER, "INBOX")
    dovecot.reset_uidvalidity(MANAGER, "Sent")
    dovecot.deliver(MANAGER, message("after"))
    with client(dovecot) as imap:
        selected = imap.select_folder("INBOX", readonly=True)
        assert selected[b"UIDVALIDITY"] != inbox[b"UIDVALIDITY"]
        assert imap.search(["ALL"]) == [1]  # UIDs start over: uid 1 is a different message now
        raw = imap.fetch([1], ["BODY.PEEK[]"])[1][b"BODY[]"]
        assert b"Subject: after" in raw
        after_sent = imap.folder_status("Sent", ["UIDVALIDITY", "MESSAGES"])
    assert after_sent[b"UIDVALIDITY"] != sent[b"UIDVALIDITY"]
    assert after_sent[b"MESSAGES"] == 0


def test_the_sent_folder_is_the_special_use_sent_folder(dovecot):
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    with client(dovecot) as imap:
        assert imap.find_special_folder(SENT) == "Sent"
        folders = {name: flags for flags, _, name in imap.list_folders()}
        assert SENT in folders["Sent"]
        assert {"INBOX", "Drafts", "Junk", "Trash"} <= set(folders)
    uid = dovecot.append(MANAGER, message("my own copy", sender=MANAGER, to="creator@creator.example"), "Sent")
    with client(dovecot) as imap:
        imap.select_folder("Sent", readonly=True)
        assert imap.search(["ALL"]) == [uid]


def test_a_wrong_password_or_unknown_user_is_refused(dovecot):
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    for user, password in ((MANAGER, "not-the-password"), ("nobody@brand.example", MANAGER_PASSWORD)):
        imap = imapclient.IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
        with pytest.raises(LoginError, match="AUTHENTICATIONFAILED"):
            imap.login(user, password)
        imap.shutdown()


def test_each_test_starts_with_no_users_and_no_mail(dovecot):
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    dovecot.deliver(MANAGER, message("left over"))
    with client(dovecot) as imap:
        assert imap.select_folder("INBOX")[b"EXISTS"] == 1
    dovecot.wipe()  # what the fixture does between tests
    assert dovecot.users == {}
    assert not list((dovecot.root / "mail").iterdir())
    dovecot.add_user(MANAGER, "a-new-password")  # the next test's user of the same name
    imap = imapclient.IMAPClient(dovecot.host, port=dovecot.port, ssl=False, timeout=10)
    with pytest.raises(LoginError):
        imap.login(MANAGER, MANAGER_PASSWORD)  # the old password is gone, not cached
    imap.shutdown()
    with client(dovecot, password="a-new-password") as imap:
        assert imap.select_folder("INBOX")[b"EXISTS"] == 0


def test_imaps_with_the_self_signed_certificate(dovecot):
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    dovecot.deliver(MANAGER, message("over tls"))
    context = ssl.create_default_context(cafile=str(dovecot.cert_path))
    with imapclient.IMAPClient("localhost", port=dovecot.imaps_port, ssl=True, ssl_context=context, timeout=10) as imap:
        imap.login(MANAGER, MANAGER_PASSWORD)
        imap.select_folder("INBOX", readonly=True)
        assert imap.search(["SUBJECT", "over tls"]) == [1]
    untrusting = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        imapclient.IMAPClient("localhost", port=dovecot.imaps_port, ssl=True, ssl_context=untrusting, timeout=10)


def test_the_smtp_sink_delivers_to_dovecot_users_and_keeps_the_rest(smtp_to_dovecot, dovecot):
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    reply = message("Re: our campaign")
    with smtplib.SMTP(smtp_to_dovecot.host, smtp_to_dovecot.port, timeout=5) as smtp:
        smtp.sendmail("creator@creator.example", [MANAGER], reply)
        smtp.sendmail(MANAGER, ["someone@elsewhere.example"], message("outbound", sender=MANAGER, to="x@y"))
    assert len(smtp_to_dovecot.messages) == 2
    with client(dovecot) as imap:
        imap.select_folder("INBOX", readonly=True)
        uids = imap.search(["ALL"])
        assert len(uids) == 1
        raw = imap.fetch(uids, ["BODY.PEEK[]"])[uids[0]][b"BODY[]"]
    assert raw.endswith(reply)  # the bytes the sender sent, after the delivery headers
    assert b"Return-Path: <creator@creator.example>" in raw


def test_a_dkim_signed_reply_still_verifies_after_delivery_and_fetch(smtp_to_dovecot, dovecot, dns_stub):
    # The chain the mailbox channel relies on: signed by the creator's server, delivered by a mail
    # server (which adds headers above the signature), fetched over IMAP, verified offline.
    dovecot.add_user(MANAGER, MANAGER_PASSWORD)
    signed = sign(message("Re: signed"))
    with smtplib.SMTP(smtp_to_dovecot.host, smtp_to_dovecot.port, timeout=5) as smtp:
        smtp.sendmail("creator@creator.example", [MANAGER], signed)
    with client(dovecot) as imap:
        imap.select_folder("INBOX", readonly=True)
        (uid,) = imap.search(["ALL"])
        raw = imap.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    assert raw.startswith(b"Return-Path: ")
    assert dkim.verify(raw, dnsfunc=dns_stub)
    assert not dkim.verify(raw.replace(b"yes, you may repost it", b"no, you may not repost it"), dnsfunc=dns_stub)
