"""Log lines that say which request or queue task they belong to.

A request gets an id (the proxy's X-Request-ID when it is a sane token, else a new one), echoed in
the response's X-Request-ID; a queue task's id is django-q2's task id. Both live in a context
variable that `ContextFilter` copies onto every log record (`request_id`, `task_id`), so the
plain format shows them and `LOG_FORMAT=json` writes one JSON object per line for a log pipeline.
"""

import contextvars
import json
import logging
import re
import uuid

request_id = contextvars.ContextVar("request_id", default="-")
task_id = contextvars.ContextVar("task_id", default="-")
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give each request an id for its log lines and its answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        token = request_id.set(given if _SANE.match(given) else uuid.uuid4().hex)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id.get()
            return response
        finally:
            request_id.reset(token)


class ContextFilter(logging.Filter):
    """Put the current request and task ids on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.task_id = task_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request and task ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "task_id": getattr(record, "task_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def task_started(sender, func=None, task=None, **kwargs) -> None:
    """django-q2's pre_execute receiver (connected in outreach/apps.py: signals need the app registry)."""
    task_id.set(str((task or {}).get("id", "-")))
