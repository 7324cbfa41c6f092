"""The health check load balancers and uptime monitors poll.

503 when the database or the queue's broker cannot be reached; the sending backlog (how many
messages are due, how long the oldest has waited, claims past their lease) is reported for
monitors to alert on, without failing the check: a backlog is work, not an outage.
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker

from outreach.mail.health import mailbox_states
from outreach.models import OutreachMessage

logger = logging.getLogger(__name__)


def database_state() -> dict:
    """Round-trip one query so a dead or unreachable database shows as such, with the reason."""
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # The full message can name hosts and users: it goes to the log, not to the public answer.
        logger.error("health check: database unreachable: %s", error)
        return {"ok": False, "vendor": connection.vendor, "error": type(error).__name__}
    return {
        "ok": True,
        "vendor": connection.vendor,
        "latency_ms": round((time.monotonic() - started) * 1000, 2),
    }


def broker_state() -> dict:
    """The queue's broker (Redis, or the database under the ORM broker): reachable, and tasks waiting."""
    kind = "redis" if settings.REDIS_URL else "orm"
    started = time.monotonic()
    try:
        broker = get_broker()
        broker.ping()
        waiting = broker.queue_size()
    except Exception as error:  # redis.ConnectionError, DatabaseError...: the name only, as above
        logger.error("health check: queue broker unreachable: %s", error)
        return {"ok": False, "kind": kind, "error": type(error).__name__}
    latency_ms = round((time.monotonic() - started) * 1000, 2)
    return {"ok": True, "kind": kind, "tasks_waiting": waiting, "latency_ms": latency_ms}


def _mailboxes() -> list[dict]:
    """Each connected mailbox's state; an unreadable table is logged, never a 500 of the check."""
    try:
        return mailbox_states()
    except DatabaseError as error:
        logger.error("health check: mailboxes unreadable: %s", error)
        return []


def sending_state() -> dict:
    """The outbox's backlog: messages due now, the oldest one's wait, and claims past their lease
    (a stopped worker's, settled by the reaper within OUTREACH_REAP_SECONDS)."""
    now = timezone.now()
    try:
        due = OutreachMessage.objects.due(now)
        oldest = due.order_by("due_at").values_list("due_at", flat=True).first()
        return {
            "due": due.count(),
            "oldest_due_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
            "sending": OutreachMessage.objects.filter(status=OutreachMessage.Status.SENDING).count(),
            "expired_leases": OutreachMessage.objects.filter(
                status=OutreachMessage.Status.SENDING, lease_expires_at__lt=now
            ).count(),
        }
    except DatabaseError as error:
        return {"error": type(error).__name__}


@never_cache
@require_GET
def healthz(request):
    database = database_state()
    broker = broker_state()
    healthy = database["ok"] and broker["ok"]
    body = {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker}
    if database["ok"]:
        body["sending"] = sending_state()
        # A mailbox that cannot be read is reported, but the application itself is still up.
        body["mailboxes"] = _mailboxes()
    return JsonResponse(body, status=200 if healthy else 503)
