"""A local SMTP server that keeps what it receives (PLATFORMS.md §7), so the email adapter is tested
over real SMTP: headers as the receiving server sees them, hard bounces and temporary failures.

It runs aiosmtpd on loopback in its own thread. Scripted failures follow what real servers do: a
550 5.1.1 at RCPT for an unknown mailbox, 451/421 at RCPT (greylisting) or after DATA, a connection
dropped before the message was sent, and a reply to DATA that comes too late.
"""

import asyncio
import email
import email.policy
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

TEMPORARY_FAILURE_TEXT = {
    421: "421 4.3.2 Service not available, closing transmission channel",
    450: "450 4.2.0 Mailbox temporarily unavailable",
    451: "451 4.3.0 Temporary local problem, try again later",
    452: "452 4.3.1 Insufficient system storage",
}


@dataclass(frozen=True)
class ReceivedMail:
    """One message the sink accepted: the SMTP envelope and the parsed message with all headers."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes

    def __getitem__(self, header: str):
        return self.message[header]


class _Handler:
    """aiosmtpd hooks; the sink's state lives on the sink and is read under its lock."""

    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.sink.users and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self.sink._take(self.sink._disconnects):
            # Hang up without a word, before any message was sent: aiosmtpd closes the connection.
            raise ConnectionResetError("sink hangs up")
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.sink.lock:
            bounced = address.lower() in self.sink._bounced
        if bounced:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"
        failure = self.sink._take(self.sink._failures["rcpt"])
        if failure:
            return TEMPORARY_FAILURE_TEXT.get(failure, f"{failure} 4.0.0 Temporary failure")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        failure = self.sink._take(self.sink._failures["data"])
        if failure:
            return TEMPORARY_FAILURE_TEXT.get(failure, f"{failure} 4.0.0 Temporary failure")
        raw = envelope.original_content or envelope.content
        mail = ReceivedMail(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=email.message_from_bytes(raw, policy=email.policy.default),
            raw=raw,
        )
        with self.sink.lock:
            self.sink.messages.append(mail)
        mailbox = self.sink.mailbox
        local = [rcpt for rcpt in envelope.rcpt_tos if mailbox is not None and rcpt.lower() in mailbox.users]
        if local:
            # Recipients with a mailbox on the sandbox's Dovecot get the message there, so a reply
            # "sent" by a creator lands in the manager's real IMAP inbox.
            try:
                for rcpt in local:
                    await asyncio.to_thread(mailbox.deliver, rcpt, raw, mail_from=envelope.mail_from or "")
            except Exception as error:  # a sink answers like a server whose store failed
                return f"451 4.3.0 Mailbox delivery failed: {error}"
        delay = self.sink._take(self.sink._delays)
        if delay:
            await asyncio.sleep(delay)  # the message is queued; only the answer is late
        return "250 2.0.0 Ok: queued"


class _LoopbackController(Controller):
    def _trigger_server(self):
        # Bound to port 0: learn the port the OS chose before aiosmtpd connects to itself.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    """An SMTP server on 127.0.0.1 (a free port unless given) that stores every message in `messages`.

    `bounce(address)` refuses a recipient with 550; `fail_next(n, code, at)` answers 4xx at RCPT or
    after DATA; `disconnect_next(n)` hangs up when MAIL FROM arrives; `delay_next(seconds)` keeps the
    message but answers DATA late. With `users={"name": "password"}` it asks for AUTH. With `mailbox`
    (an outreach.sandbox.dovecot.Dovecot), a recipient who is a user there also gets the message in
    their INBOX (through LMTP, as a real server delivers); the message is kept in `messages` either way.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, users: dict[str, str] | None = None, mailbox=None):
        self.host, self.port = host, port
        self.users = dict(users or {})
        self.mailbox = mailbox
        self.lock = threading.Lock()
        self.messages: list[ReceivedMail] = []
        self._bounced: set[str] = set()
        self._failures: dict[str, deque[int]] = {"rcpt": deque(), "data": deque()}
        self._disconnects: deque[bool] = deque()
        self._delays: deque[float] = deque()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def start(self) -> "SmtpSink":
        self._controller = _LoopbackController(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            server_hostname="sink.localhost",
            authenticator=self._authenticate if self.users else None,
            auth_require_tls=False,
        )
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def clear(self) -> None:
        """Forget received messages and scripted failures."""
        with self.lock:
            self.messages.clear()
            self._bounced.clear()
            for queue in (*self._failures.values(), self._disconnects, self._delays):
                queue.clear()

    def bounce(self, address: str) -> None:
        """Refuse this recipient with a hard bounce (550 5.1.1 at RCPT)."""
        with self.lock:
            self._bounced.add(address.lower())

    def fail_next(self, n: int = 1, code: int = 451, at: str = "data") -> None:
        """Answer the next `n` messages with a temporary failure `code` at "rcpt" or after "data"."""
        if at not in self._failures:
            raise ValueError(f"at must be 'rcpt' or 'data', not {at!r}")
        with self.lock:
            self._failures[at].extend([code] * n)

    def disconnect_next(self, n: int = 1) -> None:
        """Close the connection when the next `n` MAIL FROM commands arrive."""
        with self.lock:
            self._disconnects.extend([True] * n)

    def delay_next(self, seconds: float) -> None:
        """Keep the next message but send the 250 after DATA only `seconds` later."""
        with self.lock:
            self._delays.append(seconds)

    def _take(self, queue: deque):
        with self.lock:
            return queue.popleft() if queue else None

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            user, password = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)
