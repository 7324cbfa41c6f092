"""One send-rate limiter per sender account, shared by every worker on every machine.

A platform counts calls per account, not per process, so the pacing must live where all workers
see it: Redis when REDIS_URL is set (`OUTREACH_RATE_LIMITER=redis`), else a row in the database.
Both hold the same GCRA state (the "theoretical arrival time" of the next free slot, in Unix
seconds): `reserve(n)` atomically takes the next n slots, spaced `1/rate` apart, and says when the
first one starts; the caller starts each call no earlier than its slot. A platform's rate-limit
answer pushes that time forward (`block_until`), so the whole account slows down at once, not one
worker. The 15-minute and daily caps are counted from the outbox itself when rows are claimed
(`worker.remaining_capacity`, under the sender's row lock), which is shared state already.
"""

import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

TABLE = "outreach_rate_bucket"  # created by migration outreach/0009_rate_bucket (no model: one row per key)
KEY_TTL_SECONDS = 24 * 3600

_UPSERT = (
    f"INSERT INTO {TABLE} (key, tat) VALUES (%s, %s) "  # noqa: S608 (constant table name)
    f"ON CONFLICT (key) DO UPDATE SET tat = "
    f"(CASE WHEN {TABLE}.tat > %s THEN {TABLE}.tat ELSE %s END) + %s RETURNING tat"
)
_BLOCK = (
    f"INSERT INTO {TABLE} (key, tat) VALUES (%s, %s) "  # noqa: S608
    f"ON CONFLICT (key) DO UPDATE SET tat = CASE WHEN {TABLE}.tat > %s THEN {TABLE}.tat ELSE %s END"
)
# KEYS[1] the bucket; ARGV: now, interval, n. Returns the first slot's start as a string (floats survive).
_RESERVE_LUA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
local start = math.max(tat, now)
redis.call('SET', KEYS[1], tostring(start + tonumber(ARGV[2]) * tonumber(ARGV[3])), 'EX', tonumber(ARGV[4]))
return tostring(start)
"""
_BLOCK_LUA = """
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > tat then redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2])) end
return 1
"""


@dataclass(frozen=True)
class Reservation:
    """n call slots: the i-th may start at `first + i * interval` (Unix seconds)."""

    first: float
    interval: float
    n: int

    def slot(self, i: int) -> float:
        return self.first + i * self.interval


class DatabaseLimiter:
    """The bucket in a database row: one UPSERT ... RETURNING per reservation (PostgreSQL, SQLite).

    One statement is atomic by itself: outside a transaction it commits alone (one round trip);
    inside the caller's it commits with it (the send loop takes a group's slots in the transaction
    that marks the group started, so one commit covers both), and the row stays locked until then,
    so another worker's reservation waits for it and starts after these slots."""

    def reserve(self, key: str, rate: float, n: int = 1, now: float | None = None) -> Reservation:
        now = time.time() if now is None else now
        interval = 1 / rate
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT, [key, now + n * interval, now, now, n * interval])
            tat = cursor.fetchone()[0]
        return Reservation(first=tat - n * interval, interval=interval, n=n)

    def block_until(self, key: str, until: float) -> None:
        with connection.cursor() as cursor:
            cursor.execute(_BLOCK, [key, until, until, until])


class RedisLimiter:
    """The bucket in a Redis key, updated by one Lua script (atomic across clients)."""

    def __init__(self, url: str):
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self._reserve = self.client.register_script(_RESERVE_LUA)
        self._block = self.client.register_script(_BLOCK_LUA)

    def reserve(self, key: str, rate: float, n: int = 1, now: float | None = None) -> Reservation:
        now = time.time() if now is None else now
        interval = 1 / rate
        first = float(self._reserve(keys=[f"outreach:rate:{key}"], args=[now, interval, n, KEY_TTL_SECONDS]))
        return Reservation(first=first, interval=interval, n=n)

    def block_until(self, key: str, until: float) -> None:
        self._block(keys=[f"outreach:rate:{key}"], args=[until, KEY_TTL_SECONDS])


_limiters: dict[str, object] = {}


def get_limiter():
    """The configured limiter (one per process; the state is shared, the client is not)."""
    kind = settings.OUTREACH_RATE_LIMITER
    if kind not in _limiters:
        _limiters[kind] = RedisLimiter(settings.REDIS_URL) if kind == "redis" else DatabaseLimiter()
    return _limiters[kind]


def sender_key(sender_id: int) -> str:
    return f"sender-{sender_id}"
