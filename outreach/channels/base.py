"""The one interface every channel adapter implements, in plain data (no models, no Django ORM).

An adapter turns an `Outbound` message into one HTTP call (or SMTP send) to its platform and maps
the platform's answer onto an `Outcome` the outbox knows how to act on:

- SENT: the platform accepted it; `provider_message_id` is set.
- RETRY: try again later (rate limit, 5xx, timeout, transient code); `retry_after` in seconds when
  the platform said (Retry-After, x-rate-limit-reset, ...), else None and the outbox backs off.
- WINDOW_CLOSED: the platform refuses because the messaging window is closed -> the message goes to
  a person's manual queue.
- RECIPIENT_UNAVAILABLE: the person blocked us, has messages off, does not accept DMs -> failed.
- INVALID_RECIPIENT: no such user / bad id / bad address -> failed.
- AUTH_BROKEN: the token is expired, revoked or lacks a permission -> the sender's breaker opens.
- REJECTED: any other permanent refusal (bad payload, too long) -> failed with the reason.
- UNCERTAIN: the request may have reached the platform but no answer came (read timeout, connection
  dropped after sending) -> never resent automatically; the row goes to `needs_review` unless an
  echo event from the platform proves it was sent.
"""

import enum
import os
import time
from dataclasses import dataclass, field
from typing import Protocol

import requests
from django.conf import settings

from core import netguard

# (connect, read) seconds for every platform call; a hung platform must not hold a worker.
DEFAULT_TIMEOUT = (3.05, 15)


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    WINDOW_CLOSED = "window_closed"
    RECIPIENT_UNAVAILABLE = "recipient_unavailable"
    INVALID_RECIPIENT = "invalid_recipient"
    AUTH_BROKEN = "auth_broken"
    REJECTED = "rejected"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True)
class MailServer:
    """An SMTP or IMAP server of the team's own mailbox; `security` is ssl, starttls, none or ""
    (the settings' default)."""

    host: str
    port: int | None = None
    security: str = ""
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:  # never print the password
        return f"MailServer(host={self.host!r}, port={self.port!r}, security={self.security!r}, user={self.username!r})"


@dataclass(frozen=True)
class SenderConfig:
    """What an adapter needs to know about the brand's account on the platform."""

    platform: str  # instagram, messenger, x, tiktok, whatsapp, email, linkedin, manual
    base_url: str  # e.g. https://graph.instagram.com (no trailing slash); empty for email/manual
    account_id: str  # IG account id, Page id, X user id, TikTok business id, phone number id, From address
    access_token: str = ""
    api_version: str = "v25.0"  # Graph API version for Meta hosts
    # instagram only: "instagram_login" (graph.instagram.com, Bearer token) or
    # "messenger_platform" (graph.facebook.com/{page-id}/messages, access_token parameter)
    variant: str = ""
    timeout: tuple[float, float] = DEFAULT_TIMEOUT
    smtp: MailServer | None = None  # email: the mailbox's SMTP submission server (else base_url / settings)


@dataclass(frozen=True)
class Outbound:
    """One message to send, already rendered."""

    recipient_id: str  # IGSID, PSID, X user id, TikTok conversation id, WhatsApp digits, email address
    text: str
    idempotency_key: str = ""  # our outbox row's key; email uses it in the Message-ID
    subject: str = ""  # email only
    human_agent: bool = False  # Meta: send with messaging_type MESSAGE_TAG + tag HUMAN_AGENT
    whatsapp_template: str = ""  # approved template name, for WhatsApp outside the window
    whatsapp_template_language: str = "en"
    whatsapp_template_params: tuple[str, ...] = ()
    unsubscribe_url: str = ""  # email: List-Unsubscribe target and the visible link
    from_name: str = ""  # email display name
    reply_to_message_id: str = ""  # email: In-Reply-To / References for follow-ups
    reply_to_address: str = ""  # email: Reply-To, e.g. a per-request plus address
    profile_url: str = ""  # manual: where a person opens the chat


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str = ""
    retry_after: float | None = None
    error_code: str = ""
    error_message: str = ""
    # Anything else worth keeping (rate-limit headers, conversation id, Message-ID header...)
    details: dict = field(default_factory=dict)

    @property
    def sent(self) -> bool:
        return self.outcome == Outcome.SENT


class Channel(Protocol):
    def send(self, message: Outbound) -> SendResult: ...


def new_session(base_url: str = "", *, pool_size: int = 10) -> requests.Session:
    """One Session per sender account: keeps connections alive across a batch of sends.

    The one place platform HTTP clients are made. Given the account's base URL, the proxy and
    CA-bundle environment variables are read once here instead of on every request (requests
    re-reads them per call, a measurable cost in the send loop). `pool_size` keeps that many
    connections open per host, for a worker with that many calls in flight. Every connection it
    opens is checked by core.netguard (no private, loopback or metadata address, however the host is
    spelt or what it resolves to; loopback only with ALLOW_INSECURE_PLATFORM_URLS). Connections
    leave from OUTREACH_SOURCE_ADDRESS when it is set (a machine with several addresses).
    """
    session = netguard.guard_session(
        requests.Session(), pool_size=pool_size, source_address=settings.OUTREACH_SOURCE_ADDRESS
    )
    session.headers["User-Agent"] = "outreach-crm/1.0"
    if base_url:
        session.proxies.update(requests.utils.get_environ_proxies(base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
        session.trust_env = False
    return session


def retry_after_seconds(response: requests.Response) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or x-rate-limit-reset (Unix time)."""
    value = response.headers.get("Retry-After")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                return None
    reset = response.headers.get("x-rate-limit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - time.time())
        except ValueError:
            return None
    return None


def transport_failure(error: requests.RequestException) -> SendResult:
    """Map a requests exception: RETRY when the request surely never reached the platform
    (connect timeout, connection refused), UNCERTAIN when it may have (read timeout, reset);
    REJECTED when core.netguard refused the address (nothing was sent, and resending will not help)."""
    if isinstance(error, netguard.RefusedAddress):
        return SendResult(Outcome.REJECTED, error_code="refused_address", error_message=str(error)[:500])
    reason = getattr(error.args[0], "reason", None) if error.args else None
    never_sent = isinstance(error, requests.ConnectTimeout) or (
        isinstance(error, requests.ConnectionError) and type(reason).__name__ == "NewConnectionError"
    )
    return SendResult(
        Outcome.RETRY if never_sent else Outcome.UNCERTAIN,
        error_code=type(error).__name__,
        error_message=str(error)[:500],
    )
