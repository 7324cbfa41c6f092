"""The health check load balancers and uptime monitors poll."""

import logging
import time

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from outreach.mail.health import mailbox_states

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


@never_cache
@require_GET
def healthz(request):
    database = database_state()
    healthy = database["ok"]
    # A mailbox that cannot be read is reported, but the application itself is still up.
    mailboxes = mailbox_states() if healthy else []
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "mailboxes": mailboxes},
        status=200 if healthy else 503,
    )
