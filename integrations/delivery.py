"""Delivering one webhook: claim the row, POST the signed event, record the answer.

At least once: a worker that dies mid-delivery leaves the row `sending` until its lease ends, and
the sweep hands it out again; receivers de-duplicate on `X-CRM-Event-Id`. Only the claimer (by
claim token) records an outcome. A 2xx answer is a delivery; anything else (a redirect included:
redirects are not followed) is retried with capped exponential backoff and jitter, up to
MAX_ATTEMPTS; after DISABLE_AFTER deliveries in a row are given up on, the subscription is
disabled with the reason, until its owner re-enables it.
"""

import datetime
import hashlib
import hmac
import json
import logging
import time
import uuid

import requests
from django.db.models import F
from django.utils import timezone

from core import crypto
from core.backoff import backoff_seconds
from integrations import ssrf
from integrations.models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status

MAX_ATTEMPTS = 8  # about 1 to 2 hours of retries with outreach's backoff (30 s doubling, 1 h cap)
DISABLE_AFTER = 5  # deliveries given up on in a row
TIMEOUT = (3.05, 10)  # connect, read (seconds)
LEASE = datetime.timedelta(seconds=60)  # well past the timeouts: a live worker keeps its claim
EXCERPT = 500  # characters of an answer or error kept in the log
USER_AGENT = "OutreachCRM-Webhooks/1"


def body_of(payload: dict) -> bytes:
    """The exact bytes sent (and signed): the same for every attempt at the same event."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`X-CRM-Signature`: hex HMAC-SHA256 of "<timestamp>.<body>" under the subscription's secret."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def claim(delivery_id: int, now: datetime.datetime) -> WebhookDelivery | None:
    """Take a due delivery for this worker (a conditional UPDATE), or None if it is not ours to send."""
    token = uuid.uuid4().hex
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now)
        .filter(subscription__in=WebhookSubscription.objects.delivering())
        .update(
            status=Status.SENDING,
            claim_token=token,
            lease_expires_at=now + LEASE,
            last_attempt_at=now,
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    )
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related("subscription", "event").get(pk=delivery_id, claim_token=token)


def deliver(delivery_id: int) -> str | None:
    """Attempt one delivery if it is due; returns its status afterwards (None when not attempted)."""
    delivery = claim(delivery_id, timezone.now())
    if delivery is None:
        return None
    started = time.monotonic()
    status_code, error = post(delivery)
    duration_ms = int((time.monotonic() - started) * 1000)
    return _record(delivery, status_code, error, duration_ms)


def post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """(HTTP status or None, error or the answer's first characters); never raises for the endpoint."""
    subscription, event = delivery.subscription, delivery.event
    try:
        secret = subscription.secret
    except crypto.SecretUnreadable as error:
        return None, f"The signing secret cannot be decrypted: {error}"
    try:
        ssrf.check_url(subscription.url)  # again now: what a host resolves to can change
    except ssrf.UnsafeUrl as error:
        return None, f"Refused: {error}"
    body = body_of(event.payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CRM-Event": event.type,
        "X-CRM-Event-Id": str(event.id),
        "X-CRM-Delivery": str(delivery.pk),
        "X-CRM-Timestamp": str(timestamp),
        "X-CRM-Signature": sign(secret, timestamp, body),
    }
    with requests.Session() as session:
        session.trust_env = False  # never through a proxy from the environment: the address check must see the peer
        adapter = ssrf.GuardedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        try:
            response = session.post(
                subscription.url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False, stream=True
            )
        except ssrf.UnsafeUrl as error:
            return None, f"Refused: {error}"
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"[:EXCERPT]
        with response:
            try:
                answer = response.raw.read(EXCERPT, decode_content=True).decode("utf-8", "replace")
            except Exception as error:  # a broken body does not change what the status said
                answer = f"(answer unreadable: {type(error).__name__})"
        if 200 <= response.status_code < 300:
            return response.status_code, ""
        if 300 <= response.status_code < 400:
            where = response.headers.get("Location", "")
            return response.status_code, f"Redirects are not followed (to {where}); register the final URL."[:EXCERPT]
        retry_after = response.headers.get("Retry-After", "")
        note = f" (Retry-After: {retry_after})" if retry_after else ""
        return response.status_code, f"HTTP {response.status_code}{note}: {answer}"[:EXCERPT]


def _record(delivery: WebhookDelivery, status_code: int | None, error: str, duration_ms: int) -> str:
    now = timezone.now()
    mine = WebhookDelivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token, status=Status.SENDING)
    common = {"response_status": status_code, "duration_ms": duration_ms, "lease_expires_at": None, "updated_at": now}
    subscriptions = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
    if not error:
        mine.update(status=Status.DELIVERED, delivered_at=now, error="", **common)
        subscriptions.update(consecutive_failures=0, last_success_at=now)
        return Status.DELIVERED
    if delivery.attempts < MAX_ATTEMPTS:
        wait = backoff_seconds(delivery.attempts)
        mine.update(
            status=Status.PENDING, next_attempt_at=now + datetime.timedelta(seconds=wait), error=error, **common
        )
        return Status.PENDING
    if not mine.update(status=Status.FAILED, error=error, **common):
        return Status.FAILED  # another claim recorded it meanwhile; count the failure once
    subscriptions.update(consecutive_failures=F("consecutive_failures") + 1, last_failure_at=now)
    reason = f"{DISABLE_AFTER} deliveries in a row failed after {MAX_ATTEMPTS} attempts each; the last: {error}"
    disabled = subscriptions.filter(consecutive_failures__gte=DISABLE_AFTER, disabled_at__isnull=True).update(
        disabled_at=now, disabled_reason=reason[:2000]
    )
    if disabled:
        logger.warning("webhook subscription %s disabled: %s", delivery.subscription_id, reason)
    return Status.FAILED


def requeue_stale(now: datetime.datetime) -> int:
    """Deliveries left `sending` by a worker that stopped go back to the queue (at least once)."""
    return WebhookDelivery.objects.filter(status=Status.SENDING, lease_expires_at__lt=now).update(
        status=Status.PENDING, claim_token="", lease_expires_at=None, next_attempt_at=now, updated_at=now
    )


def due_ids(now: datetime.datetime, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come, for subscriptions that deliver."""
    return list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(subscription__in=WebhookSubscription.objects.delivering())
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
