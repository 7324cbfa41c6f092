"""Verified webhook deliveries: stored raw once per provider id, then processed once, each message
handed to the handler of its kind."""

import dataclasses
import functools
import hashlib
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from outreach.inbound import changes, mail
from outreach.inbound.comments import handle_comment
from outreach.inbound.echoes import echo, receipt
from outreach.inbound.replies import reply
from outreach.models import ConversationMessage, InboundEvent
from outreach.queue import database_broker, enqueue_inbound_in_transaction, enqueue_now, packaged_inbound
from outreach.webhooks import InboundMessage, kinds, meta, tiktok, x
from outreach.webhooks import email as email_hook
from outreach.webhooks.meta_comments import InboundComment

logger = logging.getLogger(__name__)


def store_delivery(provider: str, event_id: str, body: bytes, headers: dict) -> tuple[InboundEvent, bool]:
    """Keep a verified delivery; (event, False) when the same one was stored before (a re-delivery)."""
    event_id = event_id or hashlib.sha256(body).hexdigest()
    try:
        with transaction.atomic():
            return InboundEvent.objects.create(provider=provider, event_id=event_id, body=body, headers=headers), True
    except IntegrityError:
        return InboundEvent.objects.get(provider=provider, event_id=event_id), False


def accept_delivery(provider: str, event_id: str, body: bytes, headers: dict) -> bool:
    """Keep a verified webhook delivery and have it processed; False for a re-delivery.

    The receivers' path, made cheap because platforms wait on it, and it costs one commit: on
    PostgreSQL outside a transaction one statement stores the row if it is new and, on the database
    broker, its task with it (a worker cannot see the task before the row, nor the row without
    its task); elsewhere one transaction holds both. A re-delivery writes nothing; with Redis it
    pushes the task again while the stored delivery still waits (its first push can have failed
    after the commit, which the platform saw as an error and retried).
    """
    event_id = event_id or hashlib.sha256(body).hexdigest()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _accept_in_one_statement(provider, event_id, body, headers)
    try:
        with transaction.atomic():
            InboundEvent.objects.create(provider=provider, event_id=event_id, body=body, headers=headers)
            enqueue_inbound_in_transaction(provider, event_id)
    except IntegrityError:
        if not InboundEvent.objects.filter(provider=provider, event_id=event_id).exists():
            raise  # some other constraint: not a re-delivery
        _push_again_if_waiting(provider, event_id)
        return False
    return True


def _push_again_if_waiting(provider: str, event_id: str) -> None:
    """A re-delivery of a stored delivery nobody processed yet: with Redis its task may never have
    been pushed, so push it (processing is once-only: a second task for it costs one no-op). On the
    database broker the task was committed with the row and nothing is needed."""
    if database_broker():
        return
    if InboundEvent.objects.filter(provider=provider, event_id=event_id, status=InboundEvent.Status.RECEIVED).exists():
        enqueue_inbound_in_transaction(provider, event_id)


STRANDED_AFTER = timedelta(minutes=10)


def requeue_stranded(*, older_than: timedelta = STRANDED_AFTER, limit: int = 1000) -> int:
    """Queue again the deliveries stored but still waiting after `older_than` (oldest first, at most
    `limit` a run): their task was lost (the broker was down when it was pushed and the platform did
    not retry, or it was dropped with a dead worker). Processing stays once-only (`process_event`
    locks the row and checks its status), so a task that was only slow costs one no-op."""
    waiting = InboundEvent.objects.filter(
        status=InboundEvent.Status.RECEIVED, received_at__lt=timezone.now() - older_than
    ).order_by("received_at", "id")
    ids = list(waiting.values_list("pk", flat=True)[:limit])
    for pk in ids:
        enqueue_now("outreach.tasks.process_inbound_event", pk, name=f"inbound-{pk}")
    if ids:
        logger.warning("queued %d stored deliveries again that waited over %s", len(ids), older_than)
    return len(ids)


def _accept_in_one_statement(provider: str, event_id: str, body: bytes, headers: dict) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING, with the queue row in the same statement when the broker
    is the database: one round trip and one commit (the disk flush is most of a webhook's answer).

    The statement is its own connection check: Django would first ping a reused connection
    (CONN_HEALTH_CHECKS), a second round trip on every delivery. On a connection the server has
    dropped the statement fails before anything is stored and runs once more on a new one; if the
    first attempt did commit before its answer was lost, the second finds the row and says so."""
    try:
        connection.health_check_done = True  # the ping Django would send now; see the docstring
        return _store_in_one_statement(provider, event_id, body, headers)
    except OperationalError:
        connection.close()  # a dead connection: the next statement opens a new one
        return _store_in_one_statement(provider, event_id, body, headers)


def _store_in_one_statement(provider: str, event_id: str, body: bytes, headers: dict) -> bool:
    # STORED_FIELDS' values: psycopg adapts the strings, the bytes and the time as their fields would;
    # the headers go through their JSONField (Django's Jsonb adapter, with its encoder).
    headers = InboundEvent._meta.get_field("headers").get_db_prep_save(headers, connection)
    values = [provider, event_id, body, headers, InboundEvent.Status.RECEIVED.value, "", timezone.now()]
    with connection.cursor() as cursor:
        if database_broker():
            queue_table, key, package = packaged_inbound(provider, event_id)
            cursor.execute(_statement(queue_table), [*values, key, package, timezone.now()])
            return cursor.fetchone() is not None
        cursor.execute(_statement(None), values)
        created = cursor.fetchone() is not None
    if created:
        enqueue_inbound_in_transaction(provider, event_id)  # Redis: pushed now, the row is committed
    else:
        _push_again_if_waiting(provider, event_id)
    return created


STORED_FIELDS = ("provider", "event_id", "body", "headers", "status", "error", "received_at")


@functools.cache
def _stored_fields() -> tuple:
    return tuple(InboundEvent._meta.get_field(name) for name in STORED_FIELDS)


@functools.cache
def _statement(queue_table: str | None) -> str:
    """The INSERT ... ON CONFLICT DO NOTHING of a delivery (names from the model, values as
    parameters), within a statement that also writes its task to `queue_table` when one is given.
    Built once per process: the names never change, and every delivery would otherwise quote them."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in _stored_fields())
    placeholders = ", ".join(["%s"] * len(STORED_FIELDS))
    insert = f"INSERT INTO {quote(InboundEvent._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    insert += " ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
    if queue_table is None:
        return insert
    return (
        f"WITH stored AS ({insert}) INSERT INTO {quote(queue_table)} (key, payload, lock) "  # noqa: S608
        "SELECT %s, %s, %s FROM stored RETURNING id"
    )


def process_delivery(provider: str, event_id: str) -> int:
    """`process_event` for a delivery named by its provider id."""
    pk = InboundEvent.objects.filter(provider=provider, event_id=event_id).values_list("pk", flat=True).first()
    return 0 if pk is None else process_event(pk)


def parse_event(event: InboundEvent) -> list[InboundMessage]:
    body = bytes(event.body)
    if event.provider == "email":
        return [email_hook.parse(body, **mail.parse_context(event))]
    payload = json.loads(body)
    parser = {"meta": meta.parse, "x": x.parse, "tiktok": tiktok.parse}[event.provider]
    return parser(payload)


def process_event(event_id: int) -> int:
    """Process a stored delivery once, whoever else tries at the same time; returns messages recorded."""
    with transaction.atomic():
        event = InboundEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is None or event.status != InboundEvent.Status.RECEIVED:
            return 0
        try:
            with transaction.atomic():
                recorded = [found for found in map(handle, parse_event(event)) if found]
                ConversationMessage.objects.filter(pk__in=[m.pk for m in recorded]).update(inbound_event=event)
        except Exception as error:  # keep the delivery and say why; a person or a retry takes it from here
            logger.exception("inbound event %s could not be processed", event_id)
            event.status, event.error = InboundEvent.Status.FAILED, f"{type(error).__name__}: {error}"[:2000]
            event.processed_at = timezone.now()
            event.save(update_fields=["status", "error", "processed_at"])
            return 0
        event.status, event.processed_at = InboundEvent.Status.PROCESSED, timezone.now()
        event.save(update_fields=["status", "processed_at"])
        return len(recorded)


def handle(message: InboundMessage | InboundComment) -> ConversationMessage | None:
    """One parsed event, to the handler of its kind (outreach/webhooks/kinds.py). Returns the
    message recorded by this event, if any."""
    if isinstance(message, InboundComment):
        handle_comment(message)  # comments and mentions (outreach/inbound/comments.py)
        return None
    if message.platform == "email" and message.kind in mail.HANDLERS:
        return mail.HANDLERS[message.kind](message)
    if message.test:
        logger.info("Meta dashboard test event ignored (placeholder ids)")
        return None
    if message.kind == "echo":
        return echo(message)
    if message.kind in kinds.RECEIPTS:
        receipt(message)
        return None
    if message.kind in kinds.REACTIONS:
        changes.open_window(message)
        changes.react(message)
        return None
    if message.kind == "edit":
        if changes.edit(message) is None:  # we never saw the original: this version is all we have
            return reply(dataclasses.replace(message, kind="message"))
        return None
    if message.kind == "delete":
        changes.unsend(message)
        return None
    if message.kind in kinds.IGNORED:
        changes.open_window(message)
        return None
    return reply(message)
