"""A loopback imitation of TikTok's Business Messaging send endpoint (PLATFORMS.md §4), so the
TikTok adapter meets the window rules and the `code` envelope rather than mocks.

Conversations are opened by the user only (`user_wrote`). A business may then send up to 10
messages within 48 h of the user's last message; the quota resets whenever the user writes again.
Text is at most 6000 characters. Every answer is HTTP 200 with `{code, message, request_id, data}`;
any non-zero `code` is an error (the HTTP status TikTok uses for errors is [U]).

Error codes. Confirmed in TikTok API for Business generally, not for this endpoint in particular:
40001 no permission, 40002 invalid parameter, 40100 too many requests, 40104 empty access token,
40105 access token incorrect or revoked. (2nd) 40064 "You are sending messages too fast".
[U] No public source gives the codes for a closed window, a used-up quota or an unknown
conversation; the three below are placeholders the adapter maps, to be corrected when seen.
"""

import itertools
import json
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from outreach.sandbox.base import FakePlatform, Received, Reply, post_webhook
from outreach.webhooks import tiktok as tiktok_hook

WINDOW_SECONDS = 48 * 3600
MESSAGES_PER_WINDOW = 10
TEXT_MAX_CHARS = 6000

OK = 0
NO_PERMISSION = 40001
INVALID_PARAMETER = 40002
TOO_MANY_REQUESTS = 40100
ACCESS_TOKEN_EMPTY = 40104
ACCESS_TOKEN_INVALID = 40105
SENDING_TOO_FAST = 40064  # (2nd)
WINDOW_CLOSED = 40080  # [U] placeholder
QUOTA_USED = 40081  # [U] placeholder
UNKNOWN_CONVERSATION = 40082  # [U] placeholder


@dataclass(frozen=True)
class SentMessage:
    """One message the fake accepted."""

    business_id: str
    conversation_id: str
    message_id: str
    text: str
    at: float


@dataclass
class _Conversation:
    """What the window rule needs: when the user last wrote, how many we sent since."""

    user_wrote_at: float
    sent_since: int = 0


class _Refusal(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(code, message)
        self.code, self.message = code, message


class FakeTikTok(FakePlatform):
    """TikTok's `POST /open_api/v1.3/business/message/send/` with the rules above; thread-safe.

    `add_business` registers our business accounts and tokens; `user_wrote` opens or refreshes a
    conversation; `fail_next` and `delay_next` script the next answers for one business; `sent()`
    lists accepted messages. Time comes from the `now` callable so tests can cross the 48 h edge.
    """

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        window_seconds: float = WINDOW_SECONDS,
        messages_per_window: int = MESSAGES_PER_WINDOW,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        super().__init__(host=host, port=port)
        self.reset(now=now, window_seconds=window_seconds, messages_per_window=messages_per_window)
        self.route("POST", r"/open_api/v1\.3/business/message/send/", self._send)

    # -- set-up for tests ---------------------------------------------------------------------------

    def reset(
        self,
        *,
        now: Callable[[], float] = time.time,
        window_seconds: float = WINDOW_SECONDS,
        messages_per_window: int = MESSAGES_PER_WINDOW,
    ) -> None:
        """Forget every business, conversation, message and scripted answer, so one running server
        serves many tests."""
        with self.lock:
            self.now = now
            self.window_seconds = window_seconds
            self.messages_per_window = messages_per_window
            self.received.clear()
            self._businesses_by_token: dict[str, str] = {}
            self._conversations: dict[tuple[str, str], _Conversation] = {}
            self._failures: dict[str, deque[Reply]] = defaultdict(deque)
            self._delays: dict[str, deque[float]] = defaultdict(deque)
            self._sent: list[SentMessage] = []
            self._message_ids = itertools.count(1)
            self.webhook = None
            self._users: dict[str, tuple[str, str]] = {}  # conversation id -> (user id, username)

    def add_business(self, business_id: str, token: str) -> None:
        """One of our business accounts and the access token it authorised."""
        with self.lock:
            self._businesses_by_token[token] = business_id

    def user_wrote(self, business_id: str, conversation_id: str, at: float | None = None) -> None:
        """The user sent a message in the conversation: the 48 h window and the quota start over."""
        with self.lock:
            self._conversations[(business_id, conversation_id)] = _Conversation(self.now() if at is None else at)

    def fail_next(
        self,
        business_id: str,
        n: int = 1,
        code: int = SENDING_TOO_FAST,
        message: str = "You are sending messages too fast",
        status: int = 200,
        body=None,
    ) -> None:
        """The next `n` sends by `business_id` get this answer; `body` replaces the envelope."""
        with self.lock:
            for _ in range(n):
                reply_body = self._envelope(code, message) if body is None else body
                self._failures[business_id].append(Reply(status, reply_body))

    def delay_next(self, business_id: str, seconds: float) -> None:
        """The next send by `business_id` is handled at once but answered `seconds` later."""
        with self.lock:
            self._delays[business_id].append(seconds)

    def sent(self, business_id: str | None = None) -> list[SentMessage]:
        """Messages accepted so far, oldest first, optionally only those of `business_id`."""
        with self.lock:
            return [m for m in self._sent if business_id is None or m.business_id == business_id]

    # -- handler ------------------------------------------------------------------------------------

    def _send(self, received: Received, match: re.Match) -> Reply:
        body = received.json if isinstance(received.json, dict) else {}
        business_id = str(body.get("business_id", ""))
        delay = 0.0
        with self.lock:
            try:
                self._authorise(received.header("Access-Token"), business_id)
                delay = self._delays[business_id].popleft() if self._delays[business_id] else 0.0
                if self._failures[business_id]:
                    reply = self._failures[business_id].popleft()
                else:
                    message_id = self._accept(business_id, body)
                    reply = Reply(200, self._envelope(OK, "OK", {"message": {"message_id": message_id}}))
            except _Refusal as refusal:
                reply = Reply(200, self._envelope(refusal.code, refusal.message))
        if delay:
            time.sleep(delay)  # outside the lock: other requests go on meanwhile
        return reply

    def _authorise(self, token: str, business_id: str) -> None:
        if not token:
            raise _Refusal(ACCESS_TOKEN_EMPTY, "Access token is null.")
        owner = self._businesses_by_token.get(token)
        if owner is None:
            raise _Refusal(ACCESS_TOKEN_INVALID, "Access token is incorrect or has been revoked.")
        if owner != business_id:
            raise _Refusal(NO_PERMISSION, f"No permission to operate business account {business_id}.")

    # -- webhooks TikTok sends (signed, to the CRM's webhook URL) ----------------------------------

    def deliver_to(self, url: str, app_secret: str) -> None:
        with self.lock:
            self.webhook = (url, app_secret)

    def _post(self, event: str, business_id: str, content: dict) -> int:
        url, secret = self.webhook
        body = json.dumps({"event": event, "user_openid": business_id, "content": json.dumps(content)}).encode()
        return post_webhook(url, body, {"Tiktok-Signature": tiktok_hook.sign(body, secret, int(time.time()))})

    def emit_message(self, business_id: str, conversation_id: str, user_id: str, username: str, text: str) -> str:
        """The user writes (the window opens); returns the message id."""
        self.user_wrote(business_id, conversation_id)
        with self.lock:
            self._users[conversation_id] = (user_id, username)
            message_id = f"msg.in.{next(self._message_ids):012d}"
            now_ms = int(self.now() * 1000)
        content = {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "timestamp": now_ms,
            "type": "text",
            "text": {"body": text},
            "from": username,
            "from_user": {"id": user_id},
            "to": "business",
            "to_user": {"id": business_id},
        }
        self._post("im_receive_msg", business_id, content)
        return message_id

    def emit_echoes(self, business_id: str) -> int:
        """`im_send_msg` for every message the business sent."""
        with self.lock:
            sent = [m for m in self._sent if m.business_id == business_id]
        for message in sent:
            content = {
                "conversation_id": message.conversation_id,
                "message_id": message.message_id,
                "timestamp": int(message.at * 1000),
                "type": "text",
                "text": {"body": message.text},
                "from_user": {"id": business_id},
                "to": self._users.get(message.conversation_id, ("", ""))[1],
                "to_user": {"id": self._users.get(message.conversation_id, ("", ""))[0]},
            }
            self._post("im_send_msg", business_id, content)
        return len(sent)

    def emit_read(self, business_id: str, conversation_id: str, user_id: str, username: str = "") -> int:
        """The user read the conversation up to now (`im_mark_read_msg`, keyed by conversation and
        time: the `message_id` it names repeats across receipts)."""
        with self.lock:
            last = [m for m in self._sent if m.conversation_id == conversation_id]
            now_ms = int(self.now() * 1000)
        content = {
            "conversation_id": conversation_id,
            "message_id": last[-1].message_id if last else "",
            "timestamp": now_ms,
            "read": {"last_read_timestamp": now_ms},
            "from": username,
            "from_user": {"id": user_id},
            "to_user": {"id": business_id},
        }
        return self._post("im_mark_read_msg", business_id, content)

    def _accept(self, business_id: str, body: dict) -> str:
        """Check the request against the rules and record the message; called with the lock held."""
        if body.get("recipient_type") != "CONVERSATION":
            raise _Refusal(INVALID_PARAMETER, "recipient_type: must be CONVERSATION.")
        if body.get("message_type") != "TEXT":
            raise _Refusal(INVALID_PARAMETER, "message_type: only TEXT is supported here.")
        text_part = body.get("text")
        text = text_part.get("body") if isinstance(text_part, dict) else None
        if not isinstance(text, str) or not text:
            raise _Refusal(INVALID_PARAMETER, "text.body: required.")
        if len(text) > TEXT_MAX_CHARS:
            raise _Refusal(INVALID_PARAMETER, f"text.body: must be at most {TEXT_MAX_CHARS} characters.")
        conversation_id = str(body.get("recipient", ""))
        conversation = self._conversations.get((business_id, conversation_id))
        if conversation is None:
            raise _Refusal(UNKNOWN_CONVERSATION, f"Conversation {conversation_id} does not exist.")
        if self.now() - conversation.user_wrote_at > self.window_seconds:
            raise _Refusal(WINDOW_CLOSED, "The 48-hour reply window of this conversation has closed.")
        if conversation.sent_since >= self.messages_per_window:
            raise _Refusal(
                QUOTA_USED,
                f"You can send at most {self.messages_per_window} messages until the user replies.",
            )
        conversation.sent_since += 1
        message = SentMessage(
            business_id=business_id,
            conversation_id=conversation_id,
            message_id=f"msg.{next(self._message_ids):012d}.{secrets.token_hex(4)}",
            text=text,
            at=self.now(),
        )
        self._sent.append(message)
        return message.message_id

    def _envelope(self, code: int, message: str, data: dict | None = None) -> dict:
        request_id = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.now())) + secrets.token_hex(9).upper()
        return {"code": code, "message": message, "request_id": request_id, "data": data or {}}
