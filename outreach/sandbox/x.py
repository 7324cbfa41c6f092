"""A loopback imitation of X API v2 Direct Messages (PLATFORMS.md §3), so the X adapter is tested
against the answers X gives rather than against mocks.

What it enforces, as X does: a user-context Bearer token with the `dm.write` scope; a recipient who
accepts DMs from the sender (X cannot tell us beforehand, so tests set it); text of at most 10,000
characters; per-user limits of 200 requests per 15 minutes and 1000 per 24 hours in fixed windows,
reported in `x-rate-limit-*` headers on every answer to a known user and refused with 429 code 88.

Where X's exact answer is unconfirmed [U] the fake picks a plausible one and says so: the body of the
403 for a recipient who refuses DMs, and the 404 for a user who does not exist.
"""

import itertools
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from outreach.sandbox.base import FakePlatform, Received, Reply, post_webhook
from outreach.webhooks import x as x_hook

FIFTEEN_MINUTES = 15 * 60
DAY = 24 * 3600
TEXT_MAX_CHARS = 10_000
REQUESTS_PER_15_MINUTES = 200  # per user
REQUESTS_PER_24_HOURS = 1000  # per user
DM_SCOPES = ("dm.read", "dm.write", "tweet.read", "users.read")
# [U] X's v2 body for a recipient who refuses our DMs is unconfirmed; it uses the Forbidden problem
# shape of the scope error with a detail that names the recipient (legacy v1.1 said 150/349).
NOT_ACCEPTING_DETAIL = "You cannot send Direct Messages to this user: they do not accept messages from you."
INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"


@dataclass(frozen=True)
class SentDM:
    """One DM the fake accepted."""

    sender_id: str
    recipient_id: str
    dm_conversation_id: str
    dm_event_id: str
    text: str
    at: float


@dataclass
class _Window:
    """A fixed rate-limit window: opens on the first request, resets `length` seconds later."""

    length: int
    limit: int
    started: float = 0.0
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.started + self.length:
            self.started, self.used = now, 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def reset(self) -> int:
        return int(self.started + self.length)


class _Refusal(Exception):
    """Raised inside a handler to answer with `reply`."""

    def __init__(self, reply: Reply):
        super().__init__(reply.status)
        self.reply = reply


def forbidden(detail: str) -> Reply:
    return Reply(403, {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": detail})


def invalid_request(parameter: str, value: str, message: str) -> Reply:
    return Reply(
        400,
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID_REQUEST_TYPE,
        },
    )


def conversation_id(first: str, second: str) -> str:
    """X names a one-to-one conversation `{smaller_id}-{larger_id}`, comparing the ids as numbers."""
    low, high = sorted((first, second), key=int)
    return f"{low}-{high}"


class FakeX(FakePlatform):
    """X's DM send endpoints with the rules above; state changes are thread-safe.

    `add_user` registers our sender accounts and their tokens; `accepts_dms` sets whether a recipient
    takes DMs from a sender (default `accepts_dms_by_default`); `deactivate` makes a user unknown.
    `fail_next` and `delay_next` script the next answers for one sender; `sent()` lists accepted DMs.
    Time comes from the `now` callable so tests can jump past rate-limit resets.
    """

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        requests_per_15_minutes: int = REQUESTS_PER_15_MINUTES,
        requests_per_24_hours: int = REQUESTS_PER_24_HOURS,
        accepts_dms_by_default: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        super().__init__(host=host, port=port)
        self.reset(
            now=now,
            requests_per_15_minutes=requests_per_15_minutes,
            requests_per_24_hours=requests_per_24_hours,
            accepts_dms_by_default=accepts_dms_by_default,
        )
        self.route("POST", r"/2/dm_conversations/with/(?P<participant_id>[^/]+)/messages", self._send_to_participant)
        self.route("POST", r"/2/dm_conversations/(?P<dm_conversation_id>[^/]+)/messages", self._send_to_conversation)

    # -- set-up for tests ---------------------------------------------------------------------------

    def reset(
        self,
        *,
        now: Callable[[], float] = time.time,
        requests_per_15_minutes: int = REQUESTS_PER_15_MINUTES,
        requests_per_24_hours: int = REQUESTS_PER_24_HOURS,
        accepts_dms_by_default: bool = True,
    ) -> None:
        """Forget every user, DM, request and scripted answer, so one running server serves many tests."""
        with self.lock:
            self.now = now
            self.requests_per_15_minutes = requests_per_15_minutes
            self.requests_per_24_hours = requests_per_24_hours
            self.accepts_dms_by_default = accepts_dms_by_default
            self.received.clear()
            self._users_by_token: dict[str, str] = {}
            self._scopes: dict[str, frozenset[str]] = {}
            self._accepts: dict[tuple[str, str], bool] = {}
            self._deactivated: set[str] = set()
            self._windows: dict[str, tuple[_Window, _Window]] = {}
            self._failures: dict[str, deque[Reply]] = defaultdict(deque)
            self._delays: dict[str, deque[float]] = defaultdict(deque)
            self._sent: list[SentDM] = []
            self._event_ids = itertools.count(1_800_000_000_000_000_001)
            self.webhook = None

    def add_user(self, user_id: str, token: str, scopes=DM_SCOPES) -> None:
        """One of our sender accounts, with the user-context token it authorised."""
        with self.lock:
            self._users_by_token[token] = user_id
            self._scopes[user_id] = frozenset(scopes)

    def accepts_dms(self, sender_id: str, recipient_id: str, accepts: bool = True) -> None:
        """Whether `recipient_id` follows `sender_id` or takes DMs from anyone."""
        with self.lock:
            self._accepts[(sender_id, recipient_id)] = accepts

    def deactivate(self, user_id: str) -> None:
        """The account no longer exists: DMs to it answer 404."""
        with self.lock:
            self._deactivated.add(user_id)

    def fail_next(self, user_id: str, n: int = 1, status: int = 503, body=None, headers=None) -> None:
        """The next `n` requests from `user_id` get this answer (counted against the rate limits)."""
        if body is None:
            body = {"title": "Service Unavailable", "type": "about:blank", "status": status, "detail": "Try again."}
        with self.lock:
            self._failures[user_id].extend(Reply(status, body, dict(headers or {})) for _ in range(n))

    def delay_next(self, user_id: str, seconds: float) -> None:
        """The next request from `user_id` is handled at once but answered `seconds` later."""
        with self.lock:
            self._delays[user_id].append(seconds)

    # -- webhooks X sends (signed, to the CRM's webhook URL) ---------------------------------------

    def deliver_to(self, url: str, consumer_secret: str, shape: str = "aaa") -> None:
        """Deliver Account Activity (`aaa`) or X Activity (`xaa`) payloads to this URL, signed."""
        with self.lock:
            self.webhook = (url, consumer_secret, shape)

    def _post(self, owner: str, event_type: str, key: str, events: list, users: dict) -> int:
        url, secret, shape = self.webhook
        if shape == "xaa":  # users as v2 objects wrapped in `data`
            wrapped = {
                uid: {"data": {"id": uid, "username": user["screen_name"], "name": user["name"]}}
                for uid, user in users.items()
            }
            payload = {
                "data": {
                    "event_uuid": str(next(self._event_ids)),
                    "filter": {"user_id": owner},
                    "event_type": event_type,
                    "tag": "sandbox",
                    "payload": {key: events, "users": wrapped},
                }
            }
        else:
            payload = {"for_user_id": owner, key: events, "users": users}
        body = json.dumps(payload).encode()
        return post_webhook(url, body, {"x-twitter-webhooks-signature": x_hook.sign(body, secret)})

    def emit_dm(self, owner: str, sender_id: str, text: str, *, screen_name: str = "", name: str = "") -> str:
        """A person DMs our account `owner`; returns the event id."""
        with self.lock:
            event_id = str(next(self._event_ids))
            now_ms = str(int(self.now() * 1000))
        event = {
            "type": "message_create",
            "id": event_id,
            "created_timestamp": now_ms,
            "message_create": {
                "target": {"recipient_id": owner},
                "sender_id": sender_id,
                "message_data": {"text": text},
            },
        }
        users = {sender_id: {"id": sender_id, "screen_name": screen_name or f"user{sender_id}", "name": name}}
        self._post(owner, "dm.received", "direct_message_events", [event], users)
        return event_id

    def emit_echoes(self, owner: str) -> int:
        """Our own sent DMs, delivered back to us (X does this for every send, from the app too)."""
        with self.lock:
            sent = [dm for dm in self._sent if dm.sender_id == owner]
        for dm in sent:
            event = {
                "type": "message_create",
                "id": dm.dm_event_id,
                "created_timestamp": str(int(dm.at * 1000)),
                "message_create": {
                    "target": {"recipient_id": dm.recipient_id},
                    "sender_id": owner,
                    "message_data": {"text": dm.text},
                },
            }
            self._post(owner, "dm.sent", "direct_message_events", [event], {})
        return len(sent)

    def emit_read(self, owner: str, reader_id: str, last_read_event_id: str) -> int:
        """The person read our DMs up to `last_read_event_id`."""
        with self.lock:
            now_ms = str(int(self.now() * 1000))
        read = {
            "created_timestamp": now_ms,
            "sender_id": reader_id,
            "target": {"recipient_id": owner},
            "last_read_event_id": last_read_event_id,
        }
        return self._post(owner, "dm.read", "direct_message_mark_read_events", [read], {})

    def sent(self, user_id: str | None = None) -> list[SentDM]:
        """DMs accepted so far, oldest first, optionally only those sent by `user_id`."""
        with self.lock:
            return [dm for dm in self._sent if user_id is None or dm.sender_id == user_id]

    # -- handlers -----------------------------------------------------------------------------------

    def _send_to_participant(self, received: Received, match: re.Match) -> Reply:
        participant_id = match["participant_id"]

        def recipient_of(sender_id: str) -> str:
            if not participant_id.isdigit():
                raise _Refusal(
                    invalid_request(
                        "participant_id",
                        participant_id,
                        f"The `participant_id` query parameter value [{participant_id}] is not valid",
                    )
                )
            return participant_id

        return self._send(received, recipient_of)

    def _send_to_conversation(self, received: Received, match: re.Match) -> Reply:
        dm_conversation_id = match["dm_conversation_id"]

        def recipient_of(sender_id: str) -> str:
            ids = dm_conversation_id.split("-")
            if len(ids) != 2 or not all(part.isdigit() for part in ids):
                raise _Refusal(
                    invalid_request(
                        "dm_conversation_id",
                        dm_conversation_id,
                        f"The `dm_conversation_id` query parameter value [{dm_conversation_id}] is not valid",
                    )
                )
            if sender_id not in ids:
                raise _Refusal(forbidden("You are not a participant in this conversation."))
            return ids[1] if ids[0] == sender_id else ids[0]

        return self._send(received, recipient_of)

    def _send(self, received: Received, recipient_of: Callable[[str], str]) -> Reply:
        token = received.header("Authorization").removeprefix("Bearer ").strip()
        with self.lock:
            sender_id = self._users_by_token.get(token)
            if sender_id is None:
                # No user, so no per-user rate-limit headers either.
                return Reply(
                    401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
                )
            delay = self._delays[sender_id].popleft() if self._delays[sender_id] else 0.0
            reply = self._answer(sender_id, received, recipient_of)
            reply.headers = {**self._rate_limit_headers(sender_id), **reply.headers}
        if delay:
            time.sleep(delay)  # outside the lock: other requests go on meanwhile
        return reply

    def _answer(self, sender_id: str, received: Received, recipient_of: Callable[[str], str]) -> Reply:
        """Decide the answer for a known sender; called with the lock held."""
        windows = self._windows_of(sender_id)
        if self._failures[sender_id]:
            for window in windows:
                window.used += 1
            return self._failures[sender_id].popleft()
        if any(window.remaining == 0 for window in windows):
            return Reply(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]})
        for window in windows:
            window.used += 1
        try:
            if "dm.write" not in self._scopes[sender_id]:
                raise _Refusal(forbidden("Forbidden"))
            recipient_id = recipient_of(sender_id)
            if recipient_id in self._deactivated:
                # [U] the exact answer for a DM to a missing user is unconfirmed.
                raise _Refusal(
                    Reply(
                        404,
                        {
                            "title": "Not Found Error",
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                            "status": 404,
                            "detail": f"Could not find user with participant_id: [{recipient_id}].",
                        },
                    )
                )
            if not self._accepts.get((sender_id, recipient_id), self.accepts_dms_by_default):
                raise _Refusal(forbidden(NOT_ACCEPTING_DETAIL))
            text = self._text_of(received)
        except _Refusal as refusal:
            return refusal.reply
        dm = SentDM(
            sender_id=sender_id,
            recipient_id=recipient_id,
            dm_conversation_id=conversation_id(sender_id, recipient_id),
            dm_event_id=str(next(self._event_ids)),
            text=text,
            at=self.now(),
        )
        self._sent.append(dm)
        return Reply(201, {"data": {"dm_conversation_id": dm.dm_conversation_id, "dm_event_id": dm.dm_event_id}})

    @staticmethod
    def _text_of(received: Received) -> str:
        body = received.json if isinstance(received.json, dict) else {}
        text = body.get("text")
        if not isinstance(text, str) or not text:
            raise _Refusal(invalid_request("text", "", "The `text` field is required when no attachment is sent"))
        if len(text) > TEXT_MAX_CHARS:
            raise _Refusal(
                invalid_request("text", text[:40], f"The `text` field must be at most {TEXT_MAX_CHARS} characters")
            )
        return text

    def _windows_of(self, sender_id: str) -> tuple[_Window, _Window]:
        if sender_id not in self._windows:
            self._windows[sender_id] = (
                _Window(FIFTEEN_MINUTES, self.requests_per_15_minutes, started=float("-inf")),
                _Window(DAY, self.requests_per_24_hours, started=float("-inf")),
            )
        now = self.now()
        for window in self._windows[sender_id]:
            window.roll(now)
        return self._windows[sender_id]

    def _rate_limit_headers(self, sender_id: str) -> dict[str, str]:
        """The window closest to running out: once the 24 h budget is gone, its reset is the one to wait for."""
        binding = min(self._windows_of(sender_id), key=lambda window: window.remaining)
        return {
            "x-rate-limit-limit": str(binding.limit),
            "x-rate-limit-remaining": str(binding.remaining),
            "x-rate-limit-reset": str(binding.reset),
        }
