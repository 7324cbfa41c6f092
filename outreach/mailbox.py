"""Reading the team's own mailbox over IMAP (IMAPClient): the django-q2 schedule "outreach: fetch
mailboxes" runs `fetch_all_mailboxes` every minute.

Each folder read (the inbox and the Sent folder) remembers its UIDVALIDITY and the last UID read
(`MailboxFolder`), so a restart neither reads a message twice nor misses one. When the server
announces a new UIDVALIDITY (its UIDs were renumbered), the folder is read again from the last
check; messages already stored are recognised by their Message-ID (`store_delivery`), so nothing is
processed twice. Every message goes into the same pipeline as the webhook's: stored raw once, then
processed by a task (`outreach.inbound.deliveries`).

Health is kept on the sender account: the last successful fetch, and the last error (wrong
password, server unreachable, folder missing). A refused login opens the account's breaker, like
a platform's auth error, so a wrong password is not retried every minute against the server.
"""

import contextlib
import datetime
import logging
import ssl
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from imapclient import IMAPClient
from imapclient import imapclient as imap_flags
from imapclient.exceptions import IMAPClientError, LoginError

from core import netguard
from outreach.inbound.deliveries import store_delivery
from outreach.inbound.mail import ROLE_KEY, SENDER_KEY
from outreach.mail.addresses import imap_server
from outreach.models import InboundEvent, MailboxFolder, SenderAccount, SenderPlatform
from outreach.queue import enqueue_inbound
from outreach.worker import open_breaker

logger = logging.getLogger(__name__)
INBOX, SENT = "inbox", "sent"


class MailboxError(Exception):
    """Reading the mailbox failed; `kind` is login, unreachable or folder (shown on the senders page)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class FetchReport:
    fetched: int = 0
    stored: int = 0
    folders: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def fetch_all_mailboxes() -> dict[int, int]:
    """Every email sender account with a mailbox, except one whose breaker a person must close; the
    number of new messages stored per account. One account's failure does not stop the others."""
    stored = {}
    accounts = SenderAccount.objects.filter(platform=SenderPlatform.EMAIL).exclude(imap_host="")
    for sender in accounts:
        if sender.breaker_state == SenderAccount.Breaker.OPEN and sender.breaker_until is None:
            continue
        try:
            stored[sender.pk] = fetch_mailbox(sender).stored
        except MailboxError:
            stored[sender.pk] = 0  # recorded on the account by fetch_mailbox
    return stored


def fetch_mailbox(sender: SenderAccount) -> FetchReport:
    """Read what is new in the account's inbox and Sent folder; raises MailboxError (after recording
    it on the account) when the server cannot be reached or refuses the login."""
    report = FetchReport()
    try:
        with connect(sender) as client:
            for role, name in folders(client, report):
                read_folder(client, sender, role, name, report)
    except MailboxError as error:
        record_health(sender, error)
        raise
    except (OSError, IMAPClientError) as error:  # dropped mid-session, timeouts
        failure = MailboxError("unreachable", f"The IMAP server stopped answering: {error}")
        record_health(sender, failure)
        raise failure from None
    record_health(sender, None, "; ".join(report.problems))
    return report


def connect(sender: SenderAccount) -> IMAPClient:
    server = imap_server(sender)
    context = ssl.create_default_context(cafile=settings.EMAIL_IMAP_CA_FILE or None)
    port = server.port or (993 if server.security == "ssl" else 143)
    try:  # the address guard again at connect time: the name may resolve elsewhere since it was saved
        netguard.check_host(server.host, port, allow_loopback=settings.ALLOW_INSECURE_PLATFORM_URLS)
    except netguard.UnsafeAddress as error:
        raise MailboxError("unreachable", f"Refused to connect to {server.host}:{port}: {error}") from None
    try:
        client = IMAPClient(
            server.host,
            port=port,
            ssl=server.security == "ssl",
            ssl_context=context,
            timeout=settings.EMAIL_IMAP_TIMEOUT,
        )
    except (OSError, IMAPClientError) as error:
        raise MailboxError("unreachable", f"Cannot reach {server.host}:{port}: {error}") from None
    try:  # and the peer actually reached, before a word of ours (STARTTLS, the login) goes to it
        netguard.check_peer(client.socket(), allow_loopback=settings.ALLOW_INSECURE_PLATFORM_URLS)
    except netguard.UnsafeAddress as error:
        raise MailboxError("unreachable", f"Refused to talk to {server.host}:{port}: {error}") from None
    try:
        if server.security == "starttls":
            client.starttls(context)
        client.login(server.username, server.password)
    except LoginError as error:
        _logout(client)
        raise MailboxError("login", f"The IMAP server refused the login of {server.username}: {_text(error)}") from None
    except (OSError, IMAPClientError) as error:
        _logout(client)
        raise MailboxError("unreachable", f"{server.host}:{port} failed before login: {_text(error)}") from None
    return client


def folders(client: IMAPClient, report: FetchReport) -> list[tuple[str, str]]:
    """The inbox and the Sent folder (by its special-use flag, else by a usual name)."""
    found = [(INBOX, "INBOX")]
    sent = client.find_special_folder(imap_flags.SENT)
    if sent:
        found.append((SENT, sent))
    else:
        report.problems.append("No Sent folder found: mail sent by hand from the mailbox is not seen.")
    return found


def read_folder(client: IMAPClient, sender: SenderAccount, role: str, name: str, report: FetchReport) -> None:
    try:
        info = client.select_folder(name, readonly=True)
    except IMAPClientError as error:
        report.problems.append(f"Folder {name!r} cannot be opened: {_text(error)}")
        return
    uidvalidity = int(info[b"UIDVALIDITY"])
    state, created = MailboxFolder.objects.get_or_create(sender_account=sender, name=name, defaults={"role": role})
    if created or state.uidvalidity is None:
        since = timezone.now() - datetime.timedelta(days=settings.EMAIL_FETCH_FIRST_DAYS)
        uids = client.search(["SINCE", since.date()])
    elif state.uidvalidity != uidvalidity:
        # Renumbered: read again from the day before the last check; stored ones are recognised.
        since = (state.checked_at or timezone.now()) - datetime.timedelta(days=1)
        logger.warning("mailbox %s folder %s: UIDVALIDITY %s -> %s", sender.pk, name, state.uidvalidity, uidvalidity)
        uids = client.search(["SINCE", since.date()])
    else:
        uids = [uid for uid in client.search(["UID", f"{state.last_uid + 1}:*"]) if uid > state.last_uid]
    if state.uidvalidity != uidvalidity:
        state.uidvalidity, state.last_uid = uidvalidity, 0
    uids = sorted(uids)[: settings.EMAIL_FETCH_BATCH]
    for uid, data in sorted(client.fetch(uids, [b"BODY.PEEK[]"]).items()) if uids else []:
        raw = data.get(b"BODY[]")
        if raw is None:
            continue
        report.fetched += 1
        with transaction.atomic():
            if store(sender, role, name, uidvalidity, uid, raw):
                report.stored += 1
            state.last_uid = max(state.last_uid, uid)
            state.checked_at = timezone.now()
            state.save()
    state.checked_at = timezone.now()
    state.save()
    report.folders[name] = len(uids)


def store(sender: SenderAccount, role: str, folder: str, uidvalidity: int, uid: int, raw: bytes) -> bool:
    """Keep the message once per Message-ID and have it processed; True when it was new."""
    headers = {SENDER_KEY: sender.pk, ROLE_KEY: role, "imap:folder": folder, "imap:uid": f"{uidvalidity}/{uid}"}
    event, created = store_delivery("email", message_id_of(raw), raw, headers)
    if created or event.status == InboundEvent.Status.RECEIVED:
        enqueue_inbound(event.pk)  # again for one stored before a crash and never processed
    return created


def message_id_of(raw: bytes) -> str:
    """The Message-ID header, read without parsing the whole message ("" if there is none)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    for index, line in enumerate(lines):
        if line.lower().startswith(b"message-id:"):
            value = line.split(b":", 1)[1]
            for more in lines[index + 1 :]:  # folded onto the next line
                if not more[:1].isspace():
                    break
                value += more
            return value.decode(errors="replace").strip()[:255]
    return ""


def record_health(sender: SenderAccount, error: MailboxError | None, problems: str = "") -> None:
    now = timezone.now()
    if error is None:
        SenderAccount.objects.filter(pk=sender.pk).update(
            mailbox_checked_at=now, mailbox_error=problems, mailbox_error_at=now if problems else None
        )
        return
    SenderAccount.objects.filter(pk=sender.pk).update(
        mailbox_error=f"{error.kind}: {error}"[:2000], mailbox_error_at=now
    )
    if error.kind == "login":
        open_breaker(sender, f"Mailbox login refused: {error}. Enter the right password, then resume.", now)


def _logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (OSError, IMAPClientError):
        with contextlib.suppress(OSError):
            client.shutdown()


def _text(error: Exception) -> str:
    text = str(error)
    return text[2:-1] if text.startswith("b'") else text
