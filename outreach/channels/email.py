"""Email over SMTP, the one channel that allows cold outreach (PLATFORMS.md §7).

It sends through Django's mail API, so the backend is Django's: an SMTP connection to the team's
own mailbox (`config.smtp`, from the sender account's encrypted mailbox fields), or to the host in
`config.base_url` (`smtp://host:port`, credentials there only from before they moved), else the
one in settings. Every message
carries what bulk senders must: a unique Message-ID on the sender's domain, RFC 8058 one-click
unsubscribe headers and a visible unsubscribe link; follow-ups carry In-Reply-To and References so
replies thread. A message without an unsubscribe URL is refused before anything is sent.

SMTP answers map by where in the dialogue they came: a 5xx at RCPT is a hard bounce
(INVALID_RECIPIENT); a 4xx anywhere, or a dropped connection before DATA, is RETRY; a failure
after DATA began may follow the server queuing the message, so it is UNCERTAIN.
"""

import contextlib
import html
import re
import smtplib
from email.utils import formataddr
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection, make_msgid
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as DjangoSMTPBackend
from django.core.mail.utils import DNS_NAME
from django.core.validators import validate_email
from django.utils.html import linebreaks

from core import netguard
from core.headersafe import one_line
from outreach.channels.base import MailServer, Outbound, Outcome, SenderConfig, SendResult

SMTP_BACKEND = "outreach.channels.email.GuardedSMTPBackend"
AUTH_FAILURE_CODES = {530, 534, 535, 538}  # authentication required / failed (RFC 4954)
BAD_MAILBOX = re.compile(rb"^5\.1\.\d+")  # enhanced status 5.1.x: bad destination address


def _guarded_socket(host: str, port: int, timeout):
    """The socket smtplib would open, but only to an address core.netguard allows, and checked again
    once connected: the name cannot resolve to a private address between the check and the connect."""
    return netguard.create_connection(host, port, timeout, allow_loopback=settings.ALLOW_INSECURE_PLATFORM_URLS)


class _GuardedSMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        return _guarded_socket(host, port, timeout)


class _GuardedSMTPSSL(smtplib.SMTP_SSL):
    def _get_socket(self, host, port, timeout):
        return self.context.wrap_socket(_guarded_socket(host, port, timeout), server_hostname=self._host)


class GuardedSMTPBackend(DjangoSMTPBackend):
    """Django's SMTP backend whose connections go through the address guard at connect time, so a
    team's SMTP host can never reach this server's own network, whatever its name resolves to later."""

    @property
    def connection_class(self):
        return _GuardedSMTPSSL if self.use_ssl else _GuardedSMTP


def build(config: SenderConfig, session=None) -> "EmailChannel":
    """`session` is unused: email keeps no HTTP session."""
    return EmailChannel(config, connection_for(config))


def connection_for(config: SenderConfig) -> BaseEmailBackend:
    """Django's SMTP backend for the mailbox's SMTP server, or for `smtp://` / `smtps://` base URLs,
    else the backend from settings."""
    if config.smtp is not None and config.smtp.host:
        return smtp_connection(config.smtp, config.timeout[1])
    url = urlsplit(config.base_url)
    if url.scheme not in ("smtp", "smtps"):
        return get_connection(fail_silently=False)
    return get_connection(
        SMTP_BACKEND,
        fail_silently=False,
        host=url.hostname,
        port=url.port or (465 if url.scheme == "smtps" else 25),
        username=unquote(url.username) if url.username else None,
        password=unquote(url.password) if url.password else None,
        use_ssl=url.scheme == "smtps",
        use_tls=False if url.scheme == "smtps" else None,
        timeout=config.timeout[1],
    )


def smtp_connection(server: MailServer, timeout: float) -> BaseEmailBackend:
    """Implicit TLS for `ssl` (default port 465), STARTTLS for `starttls` (587), none for `none`, the
    settings' default for an empty security."""
    ssl = server.security == "ssl"
    starttls = {"starttls": True, "none": False, "ssl": False}.get(server.security)
    return get_connection(
        SMTP_BACKEND,
        fail_silently=False,
        host=server.host,
        port=server.port or (465 if ssl else 587 if starttls else 25),
        username=server.username or None,
        password=server.password or None,
        use_ssl=ssl,
        use_tls=starttls,
        timeout=timeout,
    )


class EmailChannel:
    """Sends as `config.account_id` (the From address) through one Django mail connection."""

    def __init__(self, config: SenderConfig, connection: BaseEmailBackend):
        self.config = config
        self.connection = connection

    def send(self, message: Outbound) -> SendResult:
        if not message.unsubscribe_url:
            return SendResult(
                Outcome.REJECTED,
                error_code="no_unsubscribe_url",
                error_message="Bulk outreach email must carry a one-click unsubscribe link.",
            )
        try:
            validate_email(message.recipient_id)
        except ValidationError:
            return SendResult(
                Outcome.INVALID_RECIPIENT,
                error_code="invalid_address",
                error_message=f"Not an email address: {message.recipient_id!r}",
            )
        email = self.compose(message)
        message_id = email.extra_headers["Message-ID"]
        details = {"message_id": message_id}

        refused = self._refused_address()
        if refused is not None:
            return refused
        try:
            self.connection.open()
        except netguard.UnsafeAddress as error:  # the name resolved elsewhere at connect time
            return SendResult(Outcome.REJECTED, error_code="refused_address", error_message=str(error)[:500])
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as error:
            return _failure(Outcome.AUTH_BROKEN, error, details)  # wrong credentials, or no AUTH/STARTTLS
        except OSError as error:  # refused, timed out, TLS, greeting refused: nothing was sent
            return _failure(Outcome.RETRY, error, details)

        watch = _DataWatch(self.connection)
        try:
            self.connection.send_messages([email])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            outcome = Outcome.RETRY if 400 <= code < 500 else Outcome.INVALID_RECIPIENT
            return _failure(outcome, error, details, code=code, reply=reply)
        except smtplib.SMTPResponseException as error:  # MAIL FROM or DATA answered with an error
            return _failure(_outcome_of_reply(error), error, details, code=error.smtp_code, reply=error.smtp_error)
        except OSError as error:  # includes SMTPServerDisconnected and timeouts
            outcome = Outcome.UNCERTAIN if watch.data_started else Outcome.RETRY
            return _failure(outcome, error, details)
        finally:
            self._close()
        return SendResult(Outcome.SENT, provider_message_id=message_id, details=details)

    def _refused_address(self) -> SendResult | None:
        """The address guard at connect time (core.netguard): the SMTP server's name must not
        resolve to a private, loopback or metadata address (loopback only in the sandbox)."""
        host, port = getattr(self.connection, "host", None), getattr(self.connection, "port", None)
        if not host:
            return None  # the settings' backend (console, locmem): nothing is connected to
        try:
            netguard.check_host(host, int(port or 25), allow_loopback=settings.ALLOW_INSECURE_PLATFORM_URLS)
        except netguard.UnsafeAddress as error:
            return SendResult(Outcome.REJECTED, error_code="refused_address", error_message=str(error)[:500])
        return None

    def compose(self, message: Outbound) -> EmailMultiAlternatives:
        """The email as it will go out, with the unsubscribe link in both the text and the HTML part."""
        sender_domain = self.config.account_id.rpartition("@")[2] or str(DNS_NAME)
        headers = {
            "Message-ID": make_msgid(idstring=_atom(message.idempotency_key) or None, domain=sender_domain),
            "List-Unsubscribe": f"<{message.unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        if message.reply_to_address:
            headers["Reply-To"] = message.reply_to_address
        if message.reply_to_message_id:
            # We know the parent only; it stands for the whole chain in References.
            headers["In-Reply-To"] = headers["References"] = one_line(message.reply_to_message_id)
        text = f"{message.text}\n\n-- \nTo stop receiving these emails, unsubscribe: {message.unsubscribe_url}\n"
        html_body = (
            f"{linebreaks(message.text, autoescape=True)}\n"
            f'<p style="font-size:small">To stop receiving these emails, '
            f'<a href="{html.escape(message.unsubscribe_url)}">unsubscribe</a>.</p>\n'
        )
        email = EmailMultiAlternatives(
            subject=one_line(message.subject),
            body=text,
            from_email=formataddr((one_line(message.from_name), self.config.account_id)),
            to=[message.recipient_id],
            headers=headers,
            connection=self.connection,
        )
        email.attach_alternative(html_body, "text/html")
        return email

    def _close(self) -> None:
        with contextlib.suppress(OSError):  # the outcome is already decided; a failed QUIT changes nothing
            self.connection.close()


class _DataWatch:
    """Notes when smtplib starts DATA on the backend's connection: after that point the server may
    have queued the message even if no answer comes back. Backends that are not smtplib-based give
    no such signal, so any failure while sending through them counts as after DATA."""

    def __init__(self, backend: BaseEmailBackend):
        smtp = getattr(backend, "connection", None)
        self.data_started = not isinstance(smtp, smtplib.SMTP)
        if isinstance(smtp, smtplib.SMTP):
            send_data = smtp.data

            def data(msg):
                self.data_started = True
                return send_data(msg)

            smtp.data = data


def _outcome_of_reply(error: smtplib.SMTPResponseException) -> Outcome:
    code = error.smtp_code
    if 400 <= code < 500:
        return Outcome.RETRY
    if code in AUTH_FAILURE_CODES:
        return Outcome.AUTH_BROKEN
    if isinstance(error, smtplib.SMTPDataError) and BAD_MAILBOX.match(_as_bytes(error.smtp_error)):
        return Outcome.INVALID_RECIPIENT  # servers that check the mailbox only after DATA
    return Outcome.REJECTED


def _failure(outcome: Outcome, error: Exception, details: dict, code: int | None = None, reply=b"") -> SendResult:
    message = _as_bytes(reply).decode(errors="replace") or str(error)
    return SendResult(
        outcome,
        error_code=str(code) if code is not None else type(error).__name__,
        error_message=message[:500],
        details=details,
    )


def _as_bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _atom(key: str) -> str:
    """The idempotency key reduced to characters allowed in a Message-ID's left part."""
    return re.sub(r"[^A-Za-z0-9._-]", "", key)[:64]
