"""The sending loop: claim due messages, decide, call the platform, record the outcome.

Exactly once, although django-q2 delivers tasks at least once and a worker can die at any point:
1. claim: in its own short transaction, rows go `pending -> sending` with a claim token and a
   lease (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional UPDATE elsewhere), and
   the transaction commits before any platform is called;
2. send: one HTTP call per row;
3. record: a conditional UPDATE on (id, claim token), so only the claimer writes the outcome.
A row still `sending` after its lease is never resent: `reap_stale_leases` moves it to
`needs_review`. Retries are counted by our own `attempts`, not by the queue.
"""

import contextlib
import dataclasses
import datetime
import functools
import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.constants import OnConflict
from django.utils import timezone

from core import crypto
from core.backoff import backoff_seconds
from crm import events
from crm import services as crm_services
from crm.models import CampaignMember, Creator
from outreach import limiter
from outreach.channels import Outbound, Outcome, SenderConfig, SendResult, get_channel
from outreach.channels.base import new_session
from outreach.mail import addresses as mail_addresses
from outreach.mail import threads as mail_threads
from outreach.models import Conversation, ConversationMessage, OutreachMessage, SenderAccount, SenderPlatform
from outreach.policy import API, BLOCKED, MANUAL, Contact, Decision, decide, gather_facts
from outreach.queue import enqueue_now

logger = logging.getLogger(__name__)
Status = OutreachMessage.Status

# Answers that mean "this account is sending too fast" (Meta 4/17/32/613/80001-80014, X and TikTok
# HTTP 429, TikTok 40064/40100), and how long the whole account waits when the platform named no time.
RATE_LIMIT_CODES = frozenset({"4", "17", "32", "613", *(str(code) for code in range(80001, 80015))}) | {
    "40064",
    "40100",
    "http_429",
}
RATE_LIMIT_PAUSE_SECONDS = 60
BREAKER_THRESHOLD = 5
BREAKER_COOLDOWN = datetime.timedelta(minutes=10)
UNSUBSCRIBE_SALT = "outreach.unsubscribe"


@dataclass
class SendReport:
    """What one run of the loop did, by final status."""

    claimed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    more_due: bool = False

    def count(self, status: str, n: int = 1) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + n

    def add(self, later: "SendReport") -> None:
        """Fold a later run into this one."""
        self.claimed += later.claimed
        for status, n in later.outcomes.items():
            self.count(status, n)
        self.more_due = later.more_due


def sender_config(sender: SenderAccount) -> SenderConfig:
    return SenderConfig(
        platform=sender.platform,
        base_url=sender.base_url,
        account_id=sender.account_id,
        access_token=sender.access_token,
        api_version=sender.api_version,
        variant=sender.variant,
        smtp=mail_addresses.smtp_server(sender) if sender.platform == SenderPlatform.EMAIL else None,
    )


def unsubscribe_url(creator_id: int) -> str:
    token = signing.dumps(creator_id, salt=UNSUBSCRIBE_SALT)
    return f"{settings.PUBLIC_URL}/unsubscribe/{token}/"


def capacity_windows(sender: SenderAccount, now: datetime.datetime) -> list[tuple[datetime.datetime, int]]:
    """The account's counted caps as (since, limit): its platform's 15-minute and daily limits and its own."""
    _, per_15min, per_day = sender.limits()
    windows = []
    if per_15min:
        windows.append((now - datetime.timedelta(minutes=15), per_15min))
    daily = min(filter(None, [per_day, sender.daily_cap]), default=None)
    if daily:
        windows.append((now - datetime.timedelta(hours=24), daily))
    return windows


def remaining_capacity(sender: SenderAccount, now: datetime.datetime, wanted: int) -> int:
    """How many API sends the account may still make now, under its 15-minute, daily and own caps."""
    caps = [wanted]
    for since, limit in capacity_windows(sender, now):
        used = (
            OutreachMessage.objects.filter(sender_account=sender, claimed_at__gte=since)
            .filter(Q(status=Status.SENDING) | Q(delivery_mode=API, status__in=[Status.SENT, Status.NEEDS_REVIEW]))
            .count()
        )
        caps.append(limit - used)
    return max(0, min(caps))


def claim_due(sender: SenderAccount, *, limit: int, now: datetime.datetime) -> list[OutreachMessage]:
    """Mark up to `limit` due rows of this sender `sending` under a fresh token, and commit."""
    token = uuid.uuid4().hex
    lease = now + datetime.timedelta(seconds=settings.OUTREACH_LEASE_SECONDS)
    claim = {
        "status": Status.SENDING,
        "claim_token": token,
        "claimed_at": now,
        "lease_expires_at": lease,
        "send_started_at": None,
        "attempts": F("attempts") + 1,
        "updated_at": now,
    }
    with transaction.atomic():
        capacity = limit
        if capacity_windows(sender, now):
            # One claimer per sender at a time, so capacity is not counted twice. An account with no
            # counted cap skips the lock: SKIP LOCKED (or SQLite's one writer) keeps claims apart.
            SenderAccount.objects.select_for_update().filter(pk=sender.pk).first()
            capacity = remaining_capacity(sender, now, limit)
            if capacity <= 0:
                return []
        due = OutreachMessage.objects.due(now).filter(sender_account=sender).order_by("due_at", "id")
        # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT ... SKIP LOCKED): PostgreSQL may
        # run that subquery again for each row it updates and so claim more than `capacity` rows.
        if connection.vendor == "postgresql":
            ids = list(due.select_for_update(skip_locked=True, of=("self",)).values_list("id", flat=True)[:capacity])
        else:
            ids = list(due.values_list("id", flat=True)[:capacity])
        if not ids:
            return []
        OutreachMessage.objects.filter(id__in=ids, status=Status.PENDING).update(**claim)
    return list(
        OutreachMessage.objects.filter(claim_token=token, status=Status.SENDING)
        .select_related("creator", "template", "permission_request")  # what deciding and sending read
        .order_by("due_at", "id")
    )


class Plus(int):
    """`column = column + n` in `update_row`."""


def update_row(model, values: dict, *, extra_condition: str = "", returning: tuple[str, ...] = (), **where):
    """One UPDATE with the ORM's value conversion but not its query building: the number of rows
    updated, or with `returning` (field names) the updated rows' values of those fields.

    The send loop runs a few of these per message; there the ORM's Python overhead per `update()`
    cost more than the database did (bench/send_pipeline.py). Equality or IN conditions only.
    """
    meta, quote = model._meta, connection.ops.quote_name
    assignments, conditions, params = [], [], []
    for name, value in values.items():
        field = meta.get_field(name)
        if isinstance(value, Plus):
            assignments.append(f"{quote(field.column)} = {quote(field.column)} + %s")
            params.append(int(value))
        else:
            assignments.append(f"{quote(field.column)} = %s")
            params.append(field.get_db_prep_save(value, connection))
    for name, value in where.items():
        field = meta.get_field(name)
        choices = list(value) if isinstance(value, list | tuple | set) else [value]
        conditions.append(f"{quote(field.column)} IN ({', '.join(['%s'] * len(choices))})")
        params.extend(field.get_db_prep_value(choice, connection) for choice in choices)
    if extra_condition:  # a constant written in this module, never user input
        conditions.append(extra_condition)
    # Only quoted column and table names from the model go into the text; every value is a parameter.
    sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(assignments)} WHERE {' AND '.join(conditions)}"  # noqa: S608
    if returning:
        sql += f" RETURNING {', '.join(quote(meta.get_field(name).column) for name in returning)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if returning else cursor.rowcount


def _finish(message: OutreachMessage, **fields) -> bool:
    """Record an outcome only if this claim still owns the row. A row already handed to a person
    (`needs_review`, lease expired) may still learn a final outcome, but never goes back to pending."""
    fields.setdefault("lease_expires_at", None)
    fields["updated_at"] = timezone.now()
    allowed = [Status.SENDING] if fields.get("status") == Status.PENDING else [Status.SENDING, Status.NEEDS_REVIEW]
    updated = update_row(OutreachMessage, fields, id=message.pk, claim_token=message.claim_token, status=allowed)
    for name, value in fields.items():
        setattr(message, name, value)
    return bool(updated)


# The creator table's name comes from the model, not from a string written here.
_creator_table = connection.ops.quote_name(Creator._meta.db_table)
NOT_OPTED_OUT = (
    f"NOT EXISTS (SELECT 1 FROM {_creator_table} WHERE {_creator_table}.id = creator_id"  # noqa: S608
    f" AND {_creator_table}.opted_out_at IS NOT NULL)"
)


def _mark_started(message: OutreachMessage) -> bool:
    """Commit that the platform is about to be called, so a crash after this point is never resent.

    Refused when the creator opted out since the batch was claimed (a STOP that just came in)."""
    return bool(
        update_row(
            OutreachMessage,
            {"send_started_at": timezone.now()},
            extra_condition=NOT_OPTED_OUT,
            id=message.pk,
            claim_token=message.claim_token,
            status=Status.SENDING,
        )
    )


def _mark_started_many(messages: list[OutreachMessage]) -> set[int]:
    """`_mark_started` for a group in one committed statement: the ids that may now be sent."""
    if not messages:
        return set()
    if len(messages) == 1:
        return {messages[0].pk} if _mark_started(messages[0]) else set()
    table, quote = OutreachMessage._meta.db_table, connection.ops.quote_name
    ids = [message.pk for message in messages]
    tokens = {message.claim_token for message in messages}
    # Only the model's table name and a constant condition go into the text; every value is a parameter.
    sql = (
        f"UPDATE {quote(table)} SET send_started_at = %s WHERE id IN ({', '.join(['%s'] * len(ids))})"  # noqa: S608
        f" AND claim_token IN ({', '.join(['%s'] * len(tokens))}) AND status = %s AND {NOT_OPTED_OUT} RETURNING id"
    )
    now = OutreachMessage._meta.get_field("send_started_at").get_db_prep_save(timezone.now(), connection)
    with connection.cursor() as cursor:  # one statement: atomic alone, or part of the caller's transaction
        cursor.execute(sql, [now, *ids, *tokens, Status.SENDING])
        return {row[0] for row in cursor.fetchall()}


def release(messages: list[OutreachMessage]) -> None:
    """Give back rows we claimed but did not try (the batch stopped early); the attempt is not counted."""
    for message in messages:
        OutreachMessage.objects.filter(pk=message.pk, claim_token=message.claim_token, status=Status.SENDING).update(
            status=Status.PENDING,
            claim_token="",
            lease_expires_at=None,
            attempts=F("attempts") - 1,
            updated_at=timezone.now(),
        )


STOP = threading.Event()  # set by `request_stop` (the `queue` command's SIGUSR1): finish what is in flight


def request_stop(*_args) -> None:
    """Ask this process's sending runs to stop soon: calls in flight finish, the rest go back to the queue."""
    STOP.set()


# A clean stop of a queue worker process. django-q2 forks its workers with SIGTERM at its default
# (die at once), so a SIGTERM to the whole group (systemd's KillMode=control-group, a container's
# init, plain `qcluster`) killed sending runs mid-call and left their claims `sending` for the
# reaper. Each worker now answers SIGTERM itself: an idle one exits at once; a busy one asks its run
# to stop (calls in flight finish, within OUTREACH_STOP_GRACE_SECONDS, and their outcomes are
# written; unstarted claims go back), hands its result to the cluster and then exits.
_busy = threading.Event()


def install_stop_handler(**_kwargs) -> None:
    """django-q2's post_spawn receiver: runs in each new worker process, in its main thread. Not
    when tasks run at once (`sync`): then django-q2 calls its worker loop in our own process."""
    if multiprocessing.parent_process() is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum, frame) -> None:
    STOP.set()
    if not _busy.is_set():
        raise SystemExit(0)  # waiting for a task (or between two): nothing of ours to settle


def task_began(**_kwargs) -> None:
    """pre_execute receiver (in the worker process)."""
    _busy.set()


def task_ended(**_kwargs) -> None:
    """post_execute_in_worker receiver: sent just before the result goes to the cluster, so a
    stopping worker exits a moment later, when it waits for its next task."""
    _busy.clear()
    if STOP.is_set() and multiprocessing.parent_process() is not None:
        timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGTERM))
        timer.daemon = True
        timer.start()


class Lease:
    """The claim's lease, renewed while the run works (a heartbeat every third of it), so a dead
    worker's claim runs out within OUTREACH_LEASE_SECONDS while a live one never loses it."""

    def __init__(self):
        self.seconds = settings.OUTREACH_LEASE_SECONDS
        self.tokens: list[str] = []  # this run's claims; a finished one matches no `sending` row
        self.renewed = time.monotonic()
        self.answered = False  # did the platform's last answer in this run accept the call

    def claimed(self, token: str) -> None:
        """A new claim, whose rows got a full lease when claimed: the next beat renews it with the rest."""
        self.tokens = [*self.tokens[-3:], token]  # older batches are settled by then

    def beat(self) -> None:
        if not self.tokens or time.monotonic() - self.renewed < self.seconds / 3:
            return
        now = timezone.now()
        update_row(
            OutreachMessage,
            {"lease_expires_at": now + datetime.timedelta(seconds=self.seconds)},
            claim_token=self.tokens,
            status=Status.SENDING,
        )
        self.renewed = time.monotonic()


_last_reap = [0.0]


def reap_now_and_then() -> None:
    """Settle other workers' expired claims every OUTREACH_REAP_SECONDS from inside send runs too,
    so a dead machine's messages are settled while the others are busy sending."""
    if time.monotonic() - _last_reap[0] >= settings.OUTREACH_REAP_SECONDS:
        _last_reap[0] = time.monotonic()
        reap_stale_leases()


def send_due(sender_id: int, *, budget_seconds: float | None = None, batch: int | None = None) -> SendReport:
    """Send this account's due messages until none are left, its limits stop it, or time runs out.

    Up to OUTREACH_SEND_CONCURRENCY platform calls are in flight at once (threads that only do
    HTTP); this thread alone touches the database: claims, the started mark, outcomes, heartbeats.
    """
    budget = budget_seconds if budget_seconds is not None else settings.OUTREACH_TASK_BUDGET_SECONDS
    batch_size = batch or settings.OUTREACH_CLAIM_BATCH
    deadline = time.monotonic() + budget
    report = SendReport()
    concurrency = max(1, settings.OUTREACH_SEND_CONCURRENCY)
    session = new_session(SenderAccount.objects.get(pk=sender_id).base_url, pool_size=concurrency)
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"send-{sender_id}")
    lease = Lease()
    batch = Batch(pool, lease, concurrency)
    try:
        while not STOP.is_set():
            reap_now_and_then()
            now = timezone.now()
            sender = SenderAccount.objects.get(pk=sender_id)
            if not sender.is_sending(now) or (sender.rate_limited_until and sender.rate_limited_until > now):
                break
            try:
                config = sender_config(sender)  # before claiming: a token we cannot read must not strand rows
            except crypto.SecretUnreadable as error:
                open_breaker(sender, f"The access token cannot be decrypted: {error}", now)
                break
            claimed = claim_due(sender, limit=batch_size, now=now)
            if not claimed:
                break
            lease.claimed(claimed[0].claim_token)
            report.claimed += len(claimed)
            # The calls of this batch's last messages are still in flight while the next one is claimed;
            # they count as contacts in its facts (marked started), so no creator is written to twice.
            # The adapter is made when a message is first sent through it (LinkedIn has none: its
            # messages all go to the manual queue).
            stopped = batch.run(sender, functools.partial(get_channel, config, session), claimed, report, deadline)
            after_sent(batch.take_sent(), timezone.now())  # bookkeeping once per batch
            if stopped:
                break
            if time.monotonic() >= deadline or STOP.is_set():
                batch.drain()
                report.more_due = OutreachMessage.objects.due().filter(sender_account_id=sender_id).exists()
                break
    finally:
        try:
            batch.drain()
            after_sent(batch.take_sent(), timezone.now())  # whatever stopped the run
        finally:
            pool.shutdown(wait=not STOP.is_set(), cancel_futures=True)
            session.close()
    return report


class Batch:
    """A run's calls in flight, batch after batch. Each step is one transaction: the answers that came
    back are recorded, the next group is decided, takes its slots of the shared limiter and is marked
    started; only after it commits do the group's calls go to the pool, each at its slot. One commit
    per step, not one per kind of write (commits, not statements, cost on PostgreSQL). The next
    batch is claimed while the last calls of the previous one are still out."""

    SLOT_WINDOW = 0.1  # a group holds at most this many seconds of the account's slots

    def __init__(self, pool, lease, concurrency: int):
        self.pool, self.lease, self.concurrency = pool, lease, concurrency
        self.in_flight: dict = {}
        self.sent: list[OutreachMessage] = []
        self.stop = False
        self.limiter = limiter.get_limiter()

    def run(self, sender, make_channel, claimed, report, deadline) -> bool:
        """Send a claimed batch; True when the account must stop (rate limit, broken auth, breaker).
        Returns with the last calls still in flight (`drain` waits for them)."""
        self.sender, self.make_channel, self.channel, self.report = sender, make_channel, None, report
        self.key = limiter.sender_key(sender.pk)
        per_second = sender.limits()[0]
        self.rate = per_second * settings.OUTREACH_RATE_HEADROOM if per_second else None
        pending = list(zip(claimed, gather_facts(claimed, timezone.now()), strict=True))
        pending.reverse()  # pop() from the end: oldest first
        try:
            while pending and not (self.stop or STOP.is_set() or time.monotonic() >= deadline):
                out = [future for future in self.in_flight if not future.done()]
                if out and self.free() - len(out) < self.step_size():
                    self.wait_for_answers(out, timeout=self.lease.seconds / 3)
                    continue
                self.step(pending)
        except Exception:
            self.drain()
            raise
        finally:
            release([message for message, _ in pending])  # never tried: back to the queue
        if self.stop:
            self.drain()
        return self.stop

    def take_sent(self) -> list[OutreachMessage]:
        sent, self.sent = self.sent, []
        return sent

    def free(self) -> int:
        """Calls allowed in flight now. The run's first call goes alone, and so does every call after
        a failed one: an account that is limited, broken or failing answers it before a whole batch
        is in flight."""
        return self.concurrency if self.lease.answered else 1

    def group_size(self, free: int) -> int:
        return max(1, min(free, int(self.rate * self.SLOT_WINDOW))) if self.rate else free

    def step_size(self) -> int:
        """How many calls may start before a step is worth its commit: half the calls allowed in
        flight (at most a full group), so answers that trickle in one by one are recorded together
        and the window of calls in flight never falls below half full while messages are left."""
        return max(1, self.group_size(self.free() // 2))

    def wait_for_answers(self, out, timeout: float) -> None:
        """Wait until one of the calls still out answers (recorded by a later step), renewing the lease."""
        wait(out, timeout=timeout, return_when=FIRST_COMPLETED)
        self.lease.beat()

    def step(self, pending) -> None:
        """In one transaction: record the answers that came back, then decide the next group, take its
        slots and mark it started; after the commit, hand its calls to the pool."""
        group, slots, started = [], [], set()
        with transaction.atomic():
            self.record_done()
            free = self.free() - len(self.in_flight)
            if not self.stop and free > 0:
                group = self.decide(pending, self.group_size(free))
            if group:
                slots = self.take_slots(len(group))
                # The account's next slot may be far off (a pause another worker was told): then the
                # group is marked started when its slot comes, not long before its calls.
                started = self.mark_started(group) if slots[0] <= time.time() + self.SLOT_WINDOW else None
        if group and started is None:
            self.wait_until(slots[0])
            if self.stop or STOP.is_set():  # an answer meanwhile stopped the account: none of these was tried
                release([message for message, *_ in group])
                for _message, _decision, message_facts, contact in group:
                    message_facts.recent_contacts.remove(contact)
                return
            with transaction.atomic():
                started = self.mark_started(group)
        self.submit(group, slots, started)
        self.lease.beat()

    def decide(self, pending, size: int) -> list:
        """Up to `size` messages to send now; those the policy blocks or hands to a person are recorded
        (in the step's transaction)."""
        group = []
        while pending and len(group) < size:
            message, message_facts = pending.pop()
            decision = decide(message_facts)
            if decision.mode == BLOCKED:
                _finish(message, status=Status.BLOCKED, delivery_mode=BLOCKED, reason=decision.reason)
                self.report.count(Status.BLOCKED)
            elif decision.mode == MANUAL:
                _finish(message, status=Status.MANUAL, delivery_mode=MANUAL, reason=decision.reason)
                self.report.count(Status.MANUAL)
            else:
                # Counted before the answer, so a later message of this batch to the same creator sees it.
                contact = Contact(message.campaign_id, message.created_by_id, timezone.now())
                message_facts.recent_contacts.append(contact)
                group.append((message, decision, message_facts, contact))
        return group

    def take_slots(self, n: int) -> list[float]:
        """The start times of n calls under the account's shared per-second limit (now, if it has none)."""
        if not self.rate:
            return [0.0] * n
        reservation = self.limiter.reserve(self.key, self.rate, n)
        return [reservation.slot(i) for i in range(n)]

    def mark_started(self, group) -> set[int]:
        """Mark the group started (it commits with the caller's transaction); a message refused because
        its creator opted out since the claim is blocked. The ids that may be sent."""
        started = _mark_started_many([message for message, *_ in group])
        for message, _decision, message_facts, contact in group:
            if message.pk not in started:
                message_facts.recent_contacts.remove(contact)
                if Creator.objects.filter(pk=message.creator_id, opted_out_at__isnull=False).exists():
                    _finish(message, status=Status.BLOCKED, delivery_mode=BLOCKED, reason="The creator opted out.")
                    self.report.count(Status.BLOCKED)
                # else the claim was lost (reaped after a very long pause)
        return started

    def submit(self, group, slots, started: set[int]) -> None:
        """Start each call of a committed group at its slot."""
        for (message, decision, message_facts, contact), slot in zip(group, slots, strict=True):
            if message.pk not in started:
                continue
            self.wait_until(slot)
            self.channel = self.channel or self.make_channel()
            future = self.pool.submit(self.channel.send, _outbound(self.sender, message, decision))
            self.in_flight[future] = (message, decision, message_facts, contact)

    def wait_until(self, slot: float) -> None:
        """Wait for a slot of the shared limiter. Answers that come back during a long wait (a pause
        the platform asked for) are recorded meanwhile; those of the few milliseconds between two
        slots of a group wait for the next step, so they are not written one commit each."""
        while (wait_for := slot - time.time()) > 0:
            if self.in_flight and wait_for > self.SLOT_WINDOW:
                self.collect(timeout=min(wait_for - self.SLOT_WINDOW, self.lease.seconds / 3))
            else:
                time.sleep(min(wait_for, self.lease.seconds / 3))  # the shared slot, not pacing of our own
                self.lease.beat()

    GATHER_SECONDS = 0.02  # after a first answer, how long `collect` waits for the others coming back with it

    def collect(self, timeout: float) -> None:
        """Record the outcomes of finished calls in one transaction (waiting up to `timeout` for one,
        then a moment for those answering together), and renew the lease."""
        if self.in_flight:
            out = [future for future in self.in_flight if not future.done()]
            if len(out) == len(self.in_flight):
                wait(out, timeout=timeout, return_when=FIRST_COMPLETED)
            if out := [future for future in out if not future.done()]:
                wait(out, timeout=self.GATHER_SECONDS, return_when=ALL_COMPLETED)
            if any(future.done() for future in self.in_flight):
                with transaction.atomic():
                    self.record_done()
        self.lease.beat()

    def record_done(self, done=None) -> None:
        """Record the answers of finished calls, in the caller's transaction: the sent ones in one
        UPDATE, then what the others change."""
        done = [future for future in self.in_flight if future.done()] if done is None else done
        if not done:
            return
        answers = [self.answer(future) for future in done]
        sent = [answer for answer in answers if answer[2].sent]
        if sent:
            _record_sent_many(self.sender, sent, self.report)
        for answer in answers:
            self.record(*answer)

    def answer(self, future):
        message, decision, message_facts, contact = self.in_flight.pop(future)
        try:
            result = future.result()
        except Exception as error:  # an adapter bug after the call started: never resend on our own
            logger.exception("sending message %s raised", message.pk)
            result = SendResult(Outcome.UNCERTAIN, error_code=type(error).__name__, error_message=str(error))
        return message, decision, result, message_facts, contact

    def record(self, message, decision, result, message_facts, contact) -> None:
        """What an answer changes besides a sent message's own row (written with the group's)."""
        self.lease.answered = result.sent  # a failure narrows the run to one call at a time again
        if result.sent:
            self.sent.append(message)
            return
        message_facts.recent_contacts.remove(contact)
        if _record(self.sender, message, decision, result, self.report):
            self.stop = True

    def drain(self) -> None:
        """Wait for the calls in flight and record them; when the process is stopping, for at most
        OUTREACH_STOP_GRACE_SECONDS (a call still out then keeps its started claim, which the reaper
        moves to needs_review: it may have reached the platform)."""
        grace_ends = None
        while self.in_flight:
            if STOP.is_set():
                grace_ends = grace_ends or time.monotonic() + settings.OUTREACH_STOP_GRACE_SECONDS
                if time.monotonic() >= grace_ends:
                    logger.warning("stopping with %s call(s) still out; the reaper settles them", len(self.in_flight))
                    self.in_flight.clear()
                    return
            self.collect(timeout=min(self.lease.seconds / 3, 1.0) if STOP.is_set() else self.lease.seconds / 3)


def _outbound(sender: SenderAccount, message: OutreachMessage, decision: Decision) -> Outbound:
    template = message.template
    use_template = decision.whatsapp_template and template is not None
    return Outbound(
        recipient_id=decision.recipient_id,
        text=message.rendered_text,
        idempotency_key=f"outreach-{message.pk}",
        subject=message.rendered_subject,
        human_agent=decision.human_agent,
        whatsapp_template=template.whatsapp_template_name if use_template else "",
        whatsapp_template_language=template.whatsapp_template_language if use_template else "en",
        whatsapp_template_params=(message.creator.first_name,) if use_template else (),
        unsubscribe_url=unsubscribe_url(message.creator_id) if sender.platform == SenderPlatform.EMAIL else "",
        from_name=sender.from_name,
        reply_to_message_id=mail_threads.thread_parent(message),
        reply_to_address=mail_threads.reply_address(message, sender.account_id),
    )


def _record_sent_many(sender, answers, report: SendReport) -> None:
    """The SENT outcome of a group of calls in one UPDATE (on each row's claim token), then each
    message's own consequences (its permission request, its event), in the caller's transaction."""
    now = timezone.now()
    meta, quote = OutreachMessage._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    rows, params = [], [Status.SENT, API, meta.get_field("sent_at").get_db_prep_save(now, connection)]
    params.append(meta.get_field("updated_at").get_db_prep_save(now, connection))
    for message, decision, result, *_ in answers:
        rows.append("(%s, %s, %s, %s, %s)")
        params += [message.pk, message.claim_token, decision.reason, decision.recipient_id]
        params.append(result.provider_message_id[:255])
    params += [Status.SENDING, Status.NEEDS_REVIEW]
    # Only the model's quoted table name goes into the text; every value is a parameter.
    sql = (
        f"UPDATE {table} SET status = %s, delivery_mode = %s, sent_at = %s, updated_at = %s, "  # noqa: S608
        "lease_expires_at = NULL, error_code = '', error_message = '', reason = v.column3, "
        "recipient_id = v.column4, provider_message_id = v.column5 "
        f"FROM (VALUES {', '.join(rows)}) AS v WHERE {table}.id = v.column1 AND {table}.claim_token = v.column2 "
        f"AND {table}.status IN (%s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for message, decision, result, *_ in answers:
        message.status, message.delivery_mode, message.sent_at, message.updated_at = Status.SENT, API, now, now
        message.reason, message.recipient_id = decision.reason, decision.recipient_id
        message.provider_message_id, message.lease_expires_at = result.provider_message_id[:255], None
        message.error_code = message.error_message = ""
        mark_request_sent(message, now)
        events.publish(events.MESSAGE_SENT, events.outreach_message_data(message))  # webhooks (crm/events.py)
    report.count(Status.SENT, len(answers))
    if sender.consecutive_failures or sender.breaker_state == SenderAccount.Breaker.OPEN:
        SenderAccount.objects.filter(pk=sender.pk).update(
            consecutive_failures=0, breaker_state=SenderAccount.Breaker.CLOSED, breaker_until=None
        )
        sender.consecutive_failures, sender.breaker_state = 0, SenderAccount.Breaker.CLOSED


def _record(sender, message, decision: Decision, result: SendResult, report: SendReport) -> bool:
    now = timezone.now()
    error = {"error_code": str(result.error_code)[:64], "error_message": result.error_message[:2000]}
    outcome = result.outcome
    if outcome == Outcome.SENT:
        # Only the outcome (and, for a permission request, its move to `requested`) is written now;
        # conversations and stages are updated once per batch (`send_due`). No savepoint: inside
        # `Batch.collect` the answers of a group are written in one transaction.
        with transaction.atomic(savepoint=False):
            _finish(
                message,
                status=Status.SENT,
                delivery_mode=API,
                reason=decision.reason,
                recipient_id=decision.recipient_id,
                provider_message_id=result.provider_message_id[:255],
                sent_at=now,
                error_code="",
                error_message="",
            )
            mark_request_sent(message, now)
            events.publish(events.MESSAGE_SENT, events.outreach_message_data(message))  # webhooks (crm/events.py)
        report.count(Status.SENT)
        if sender.consecutive_failures or sender.breaker_state == SenderAccount.Breaker.OPEN:
            SenderAccount.objects.filter(pk=sender.pk).update(
                consecutive_failures=0, breaker_state=SenderAccount.Breaker.CLOSED, breaker_until=None
            )
            sender.consecutive_failures, sender.breaker_state = 0, SenderAccount.Breaker.CLOSED
        return False
    if outcome == Outcome.WINDOW_CLOSED:
        _finish(
            message,
            status=Status.MANUAL,
            delivery_mode=MANUAL,
            reason=f"The platform refused an automatic send (window closed): {result.error_message}".strip(),
            **error,
        )
        report.count(Status.MANUAL)
        return False
    if outcome in {Outcome.RECIPIENT_UNAVAILABLE, Outcome.INVALID_RECIPIENT, Outcome.REJECTED}:
        words = {
            Outcome.RECIPIENT_UNAVAILABLE: "The creator cannot be reached there (blocked us or messages off)",
            Outcome.INVALID_RECIPIENT: "The platform does not know this recipient",
            Outcome.REJECTED: "The platform refused the message",
        }[outcome]
        with transaction.atomic(savepoint=False):  # the outcome and its event (crm/events.py) commit together
            _finish(
                message, status=Status.FAILED, delivery_mode=API, reason=f"{words}: {result.error_message}", **error
            )
            events.publish(events.MESSAGE_FAILED, events.outreach_message_data(message))
        report.count(Status.FAILED)
        return False
    if outcome == Outcome.UNCERTAIN:
        _finish(
            message,
            status=Status.NEEDS_REVIEW,
            delivery_mode=API,
            reason="No answer from the platform after sending: check the conversation before sending again.",
            **error,
        )
        report.count(Status.NEEDS_REVIEW)
        return False
    if outcome == Outcome.AUTH_BROKEN:
        open_breaker(sender, f"Access refused by the platform ({result.error_code}): {result.error_message}", now)
        release([message])
        report.count("auth_broken")
        return True
    # RETRY: rate limit, 5xx, transient
    if result.retry_after is None and str(result.error_code) in RATE_LIMIT_CODES:
        result = dataclasses.replace(result, retry_after=RATE_LIMIT_PAUSE_SECONDS)
    if message.attempts >= message.max_attempts:
        with transaction.atomic(savepoint=False):  # the outcome and its event (crm/events.py) commit together
            _finish(
                message,
                status=Status.FAILED,
                delivery_mode=API,
                reason=f"Gave up after {message.attempts} attempts: {result.error_message or result.error_code}",
                **error,
            )
            events.publish(events.MESSAGE_FAILED, events.outreach_message_data(message))
        report.count(Status.FAILED)
    else:
        wait = max(result.retry_after or 0, backoff_seconds(message.attempts))
        _finish(
            message,
            status=Status.PENDING,
            claim_token="",
            next_attempt_at=now + datetime.timedelta(seconds=wait),
            reason=f"Will retry in {wait:.0f} s (attempt {message.attempts} of {message.max_attempts}).",
            **error,
        )
        report.count("retry")
    if result.retry_after is not None:
        until = now + datetime.timedelta(seconds=result.retry_after)
        SenderAccount.objects.filter(pk=sender.pk).update(rate_limited_until=until)
        # The whole account waits, on every machine: no slot of its limiter starts before then.
        limiter.get_limiter().block_until(limiter.sender_key(sender.pk), until.timestamp())
        return True
    failures = sender.consecutive_failures + 1
    SenderAccount.objects.filter(pk=sender.pk).update(consecutive_failures=failures)
    sender.consecutive_failures = failures
    if failures >= BREAKER_THRESHOLD:
        open_breaker(
            sender, f"{failures} failures in a row; last: {result.error_message}", now, until=now + BREAKER_COOLDOWN
        )
        return True
    return False


def open_breaker(sender: SenderAccount, reason: str, now, until=None) -> None:
    """Pause the account; with no `until`, a person must resume it (e.g. after fixing the token)."""
    SenderAccount.objects.filter(pk=sender.pk).update(
        breaker_state=SenderAccount.Breaker.OPEN,
        breaker_reason=reason[:2000],
        breaker_opened_at=now,
        breaker_until=until,
    )
    logger.warning("sender %s paused: %s", sender.pk, reason)


def after_sent(messages: list[OutreachMessage], now: datetime.datetime) -> None:
    """What sent messages change elsewhere: conversations, timeline entries, members' stages.

    A few statements for a whole batch, in one transaction; a crash before this runs loses only this
    bookkeeping, never the record that the messages went out.
    """
    if not messages:
        return
    with transaction.atomic():
        for platform in {message.platform for message in messages}:
            sent_to = Counter(message.creator_id for message in messages if message.platform == platform)
            known = set()  # the creators who have a conversation on this platform already
            for count in set(sent_to.values()):  # count every message, even two to one creator in a batch
                updated = update_row(
                    Conversation,
                    {"last_outbound_at": now, "outbound_since_inbound": Plus(count)},
                    returning=("creator",),
                    creator={creator for creator, n in sent_to.items() if n == count},
                    platform=platform,
                )
                known.update(creator_id for (creator_id,) in updated)
            first = {}  # the creators written to for the first time here, and their first message
            for message in messages:
                if message.platform == platform and message.creator_id not in known:
                    first.setdefault(message.creator_id, message)
            Conversation.objects.bulk_create(
                [
                    Conversation(
                        creator_id=creator_id,
                        platform=platform,
                        sender_account_id=message.sender_account_id,
                        last_outbound_at=now,
                        outbound_since_inbound=sent_to[creator_id],
                    )
                    for creator_id, message in first.items()
                ],
                ignore_conflicts=True,  # made meanwhile by an inbound message: the timeline finds it
            )
        _add_to_timelines([message.pk for message in messages], now)
        for campaign_id in {message.campaign_id for message in messages if message.campaign_id}:
            update_row(
                CampaignMember,
                {"stage": CampaignMember.Stage.CONTACTED, "stage_changed_at": now},
                campaign=campaign_id,
                creator={message.creator_id for message in messages if message.campaign_id == campaign_id},
                stage=CampaignMember.Stage.PROSPECT,
            )


# What a sent message's timeline entry takes from its outbox row (m) and conversation (c); every other
# column gets its field's default, as a new ConversationMessage would.
_TIMELINE_FROM_ROWS = {
    "conversation": "c.id",
    "platform": "m.platform",
    "platform_message_id": "NULLIF(m.provider_message_id, '')",
    "text": "m.rendered_text",
    "at": "COALESCE(m.sent_at, %s)",
    "outreach_message": "m.id",
}


def _add_to_timelines(message_ids: list[int], now: datetime.datetime) -> None:
    """One outbound ConversationMessage per sent message, in one INSERT ... SELECT: the database reads
    the texts and ids from the outbox rows and the conversations, so no row is built in Python (the
    ORM's bulk_create of a batch cost more CPU than everything else the batch's bookkeeping did). An
    entry already there (the platform's echo recorded it) is left alone."""
    meta, quote = ConversationMessage._meta, connection.ops.quote_name
    outbox, threads = OutreachMessage._meta, Conversation._meta
    columns, values, params = [], [], []
    for column in meta.concrete_fields:
        if column.primary_key:
            continue
        columns.append(quote(column.column))
        if column.name in _TIMELINE_FROM_ROWS:
            values.append(_TIMELINE_FROM_ROWS[column.name])
            if column.name == "at":
                params.append(column.get_db_prep_save(now, connection))
            continue
        if column.name == "direction":
            value = ConversationMessage.Direction.OUT
        elif getattr(column, "auto_now_add", False) or getattr(column, "auto_now", False):
            value = now
        else:
            value = column.get_default()
        values.append("%s")
        params.append(column.get_db_prep_save(value, connection))
    on_conflict = OnConflict.IGNORE
    # Only the models' quoted table and column names go into the text; every value is a parameter.
    sql = (
        f"{connection.ops.insert_statement(on_conflict=on_conflict)} {quote(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM {quote(outbox.db_table)} m JOIN {quote(threads.db_table)} c "
        f"ON c.{quote(threads.get_field('creator').column)} = m.{quote(outbox.get_field('creator').column)} "
        f"AND c.{quote(threads.get_field('platform').column)} = m.{quote(outbox.get_field('platform').column)} "
        f"WHERE m.id IN ({', '.join(['%s'] * len(message_ids))}) ORDER BY m.id "
        f"{connection.ops.on_conflict_suffix_sql(meta.concrete_fields, on_conflict, None, None)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *message_ids])


def mark_request_sent(message: OutreachMessage, sent_at) -> None:
    """The permission request this message carried is now `requested`, with the exact text sent.
    Called once per sent message, by whoever learned it was sent (worker, person, echo)."""
    if not message.permission_request_id:
        return
    # Already marked if the same message is seen sent twice (e.g. a person marks it, then its echo).
    with contextlib.suppress(crm_services.TransitionNotAllowed):
        crm_services.mark_permission_requested(
            message.permission_request, request_text=message.rendered_text, sent_at=sent_at
        )


def resume_idle_senders(now: datetime.datetime | None = None) -> list[int]:
    """Queue a sending run for each account that has due messages and no live claim: nobody is
    working on it (its run died with a database or broker restart, or its task was lost with the
    broker), so its sending resumes within seconds instead of at the dispatcher's next minute.
    Returns the accounts queued. A run queued while another starts is harmless: claims keep each
    message once, and the shared limiter keeps the account's pace."""
    now = now or timezone.now()
    working = OutreachMessage.objects.filter(status=Status.SENDING, lease_expires_at__gte=now).values(
        "sender_account_id"
    )
    idle = (
        OutreachMessage.objects.due(now)
        .exclude(sender_account_id__in=working)
        .order_by()
        .values_list("sender_account_id", flat=True)
        .distinct()
    )
    queued = [sender.pk for sender in SenderAccount.objects.filter(pk__in=idle) if sender.is_sending(now)]
    for sender_id in queued:
        enqueue_now("outreach.tasks.send_due_messages", sender_id, name=f"send-{sender_id}")
    return queued


def reap_stale_leases(now: datetime.datetime | None = None) -> int:
    """Rows left `sending` past their lease (a worker died): the one whose send had started goes to
    a person and never out again; those it had claimed but not started go back to the queue."""
    now = now or timezone.now()
    stale = OutreachMessage.objects.filter(status=Status.SENDING, lease_expires_at__lt=now)
    in_flight = stale.filter(send_started_at__isnull=False).update(
        status=Status.NEEDS_REVIEW,
        reason="The worker stopped while sending this message; it may or may not have gone out. "
        "Check the conversation, then mark it sent or send it again.",
        updated_at=now,
    )
    stale.filter(send_started_at__isnull=True).update(
        status=Status.PENDING, claim_token="", lease_expires_at=None, attempts=F("attempts") - 1, updated_at=now
    )
    return in_flight
