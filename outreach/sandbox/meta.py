"""A loopback imitation of Meta's Graph Send APIs: Instagram, Messenger and the WhatsApp Cloud API.

graph.facebook.com and graph.instagram.com share the path shape `POST /{version}/{id}/messages`, so
one server plays both hosts; the kind of the registered account decides which rules apply. The
rules follow PLATFORMS.md §1, §2, §6 and §8: the 24 h window (7 days with HUMAN_AGENT), the
Graph error envelope and codes, the 1000-byte Instagram and 4096-character WhatsApp text caps,
WhatsApp templates versus the window, and the 6 s WhatsApp pair rate limit.

Where the real platform gives no synchronous answer, the fake picks one so tests can see it:
a WhatsApp template to a user who never opted in (the platform leaves opt-in to the business)
answers 131026 "Message undeliverable".
"""

import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from outreach.sandbox.base import FakePlatform, Received, Reply

INSTAGRAM = "instagram"  # Instagram API with Instagram Login (graph.instagram.com)
PAGE = "page"  # Messenger Platform: a Facebook Page, or an Instagram account reached through its Page
WHATSAPP = "whatsapp"  # WhatsApp Cloud API phone number

DAY = 24 * 3600
STANDARD_WINDOW = DAY
HUMAN_AGENT_WINDOW = 7 * DAY
INSTAGRAM_TEXT_MAX_BYTES = 1000
WHATSAPP_TEXT_MAX_CHARS = 4096
WHATSAPP_PAIR_INTERVAL = 6.0
LISTEN_BACKLOG = 1024
MESSAGING_TYPES = {"RESPONSE", "UPDATE", "MESSAGE_TAG"}
# Messenger's utility tags may be sent outside the window; Instagram has none of them (§1).
UTILITY_TAGS = {"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE"}
USAGE_TYPES = {INSTAGRAM: "instagram", PAGE: "messenger", WHATSAPP: "whatsapp_business_messaging"}


@dataclass
class Account:
    """A business account the fake knows: who it is, how it authenticates, which rules it follows."""

    kind: str
    token: str
    instagram_rules: bool  # 1000-byte cap and no utility tags


class GraphError(Exception):
    """Raised inside a handler to answer with the Graph error envelope."""

    def __init__(self, status: int, code: int, message: str, *, subcode=None, details="", error_type="OAuthException"):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.subcode, self.details, self.error_type = subcode, details, error_type


def error_body(code: int, message: str, *, subcode=None, details="", error_type="OAuthException", extra=None) -> dict:
    """The Graph error envelope; WhatsApp adds `error_data.details`."""
    error = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    error.update(extra or {})
    return {"error": error}


class FakeMeta(FakePlatform):
    """One loopback server for the three Meta channels, with the state the send rules need.

    Register accounts, tell it when users wrote, then point the adapters at `url`. Tests move time
    with the `now` callable given to the constructor. Every public method takes `self.lock`.
    """

    def __init__(self, now: Callable[[], float] = time.time, latency: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.latency = latency  # every send is answered this many seconds late (a platform far away)
        self.reset(now)
        self.route("POST", r"/(?P<version>v\d+\.\d+)/(?P<object_id>[^/]+)/messages", self._handle_send)
        # The demo's remote control: a creator "writes" (the platform opens the window).
        self.route("POST", r"/_sandbox/(?P<account>[^/]+)/users/(?P<user>[^/]+)/wrote", self._handle_user_wrote)

    def _handle_user_wrote(self, received, match) -> Reply:
        self.user_wrote(match["account"], match["user"])
        return Reply(200, {"window_open": True})

    def reset(self, now: Callable[[], float] | None = None) -> None:
        """Forget every account, user, scripted answer and message, so one running server can serve many
        tests (stopping the server costs up to half a second)."""
        with self.lock:
            self.now = now or getattr(self, "now", time.time)
            self.received.clear()
            self._forget_state()

    def _forget_state(self) -> None:
        self._accounts: dict[str, Account] = {}
        # (account id, recipient id) -> time of the user's last message, None if they never wrote
        self._last_inbound: dict[tuple[str, str], float | None] = {}
        self._blocked: set[tuple[str, str]] = set()
        self._opted_in: set[tuple[str, str]] = set()
        self._templates: set[str] = set()
        self._last_accepted: dict[tuple[str, str], float] = {}
        self._scripted: dict[str, deque[Reply]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._calls: dict[str, int] = defaultdict(int)
        self._sent: list[dict] = []
        self._sent_by_account: dict[str, list[dict]] = defaultdict(list)
        self._ids = itertools.count(1)

    # --- set-up -----------------------------------------------------------------------------------

    def add_instagram_account(self, ig_id: str, token: str) -> None:
        """An Instagram professional account on Instagram Login: token as Bearer or `access_token`."""
        with self.lock:
            self._accounts[ig_id] = Account(INSTAGRAM, token, instagram_rules=True)

    def add_page(self, page_id: str, token: str, *, instagram: bool = False) -> None:
        """A Facebook Page on the Messenger Platform: Page token as the `access_token` parameter.

        instagram=True: the Page fronts an Instagram account (Instagram via Facebook Login), so the
        Instagram rules apply to its sends."""
        with self.lock:
            self._accounts[page_id] = Account(PAGE, token, instagram_rules=instagram)

    def add_whatsapp_number(self, phone_number_id: str, token: str) -> None:
        """A WhatsApp Cloud API phone number: token as Bearer only."""
        with self.lock:
            self._accounts[phone_number_id] = Account(WHATSAPP, token, instagram_rules=False)

    def add_whatsapp_template(self, name: str) -> None:
        """An approved message template, usable by every registered phone number."""
        with self.lock:
            self._templates.add(name)

    def add_user(self, account_id: str, recipient_id: str) -> None:
        """A person the platform knows for this account (a valid IGSID/PSID) who has not written yet."""
        with self.lock:
            self._last_inbound.setdefault((account_id, _wa_digits(recipient_id)), None)

    def user_wrote(self, account_id: str, recipient_id: str, at: float | None = None) -> None:
        """The user sent the business a message at `at` (default: now), opening or refreshing the window."""
        with self.lock:
            self._last_inbound[(account_id, _wa_digits(recipient_id))] = self.now() if at is None else at

    def block(self, account_id: str, recipient_id: str) -> None:
        """The user blocked the business or turned its messages off."""
        with self.lock:
            key = (account_id, _wa_digits(recipient_id))
            self._last_inbound.setdefault(key, None)
            self._blocked.add(key)

    def whatsapp_opt_in(self, phone_number_id: str, wa_id: str) -> None:
        """The business collected this user's opt-in, so templates may reach them outside the window."""
        with self.lock:
            key = (phone_number_id, _wa_digits(wa_id))
            self._last_inbound.setdefault(key, None)
            self._opted_in.add(key)

    # --- scripted answers -------------------------------------------------------------------------

    def answer_next(self, account_id: str, reply: Reply, n: int = 1) -> None:
        """The next n sends for this account get `reply` as is (nothing is delivered)."""
        with self.lock:
            self._scripted[account_id].extend([reply] * n)

    def fail_next(
        self,
        account_id: str,
        n: int = 1,
        *,
        status: int = 400,
        code: int = 2,
        subcode: int | None = None,
        message: str = "An unexpected error has occurred. Please retry your request later.",
        headers: dict[str, str] | None = None,
        details: str = "",
        regain_minutes: int | None = None,
        extra: dict | None = None,
    ) -> None:
        """The next n sends for this account answer this Graph error, e.g. 4/613 with HTTP 400 or 429
        and a Retry-After header, 1200 with HTTP 503. `regain_minutes` goes into the usage header's
        `estimated_time_to_regain_access`; `extra` adds fields to the error (e.g. is_transient)."""
        body = error_body(code, message, subcode=subcode, details=details, extra=extra)
        reply_headers = dict(headers or {})
        if regain_minutes is not None:
            with self.lock:
                kind = self._accounts[account_id].kind if account_id in self._accounts else PAGE
                reply_headers.setdefault("X-Business-Use-Case-Usage", self._usage(account_id, kind, regain_minutes))
        self.answer_next(account_id, Reply(status, body, reply_headers), n)

    def delay_next(self, account_id: str, seconds: float, n: int = 1) -> None:
        """The next n sends for this account are processed (and delivered), then answered `seconds` late."""
        with self.lock:
            self._delays[account_id].extend([seconds] * n)

    # --- what happened ----------------------------------------------------------------------------

    def sent(self, account_id: str | None = None) -> list[dict]:
        """Accepted messages, oldest first: account, recipient, kind, type, text, template,
        messaging_type, tag, message_id, at."""
        with self.lock:
            messages = self._sent if account_id is None else self._sent_by_account.get(account_id, [])
            return [dict(message) for message in messages]

    def sent_count(self, account_id: str | None = None) -> int:
        with self.lock:
            return len(self._sent if account_id is None else self._sent_by_account.get(account_id, []))

    # --- the endpoint -----------------------------------------------------------------------------

    def _handle_send(self, received: Received, match) -> Reply:
        object_id = match["object_id"]
        delay = 0.0
        with self.lock:
            account_id, account = self._resolve(object_id, received)
            self._calls[account_id] += 1
            if account is not None and self._delays[account_id]:
                delay = self._delays[account_id].popleft()
            try:
                if account is None:
                    raise GraphError(
                        400,
                        100,
                        f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be loaded "
                        "due to missing permissions, or does not support this operation.",
                        subcode=33,
                        error_type="GraphMethodException",
                    )
                self._check_token(account, received)
                if self._scripted[account_id]:
                    reply = self._scripted[account_id].popleft()
                elif account.kind == WHATSAPP:
                    reply = Reply(200, self._whatsapp(account_id, received))
                else:
                    reply = Reply(200, self._send_api(account_id, account, received))
            except GraphError as error:
                body = error_body(
                    error.code, error.message, subcode=error.subcode, details=error.details, error_type=error.error_type
                )
                reply = Reply(error.status, body)
            kind = account.kind if account else PAGE
            headers = {"X-Business-Use-Case-Usage": self._usage(account_id, kind, 0), **reply.headers}
        if delay or self.latency:
            time.sleep(delay + self.latency)
        return Reply(reply.status, reply.body, headers)

    def _resolve(self, object_id: str, received: Received) -> tuple[str, Account | None]:
        """The account addressed by id, or by `me` (the account whose token came with the call)."""
        if object_id != "me":
            return object_id, self._accounts.get(object_id)
        tokens = {_bearer(received), _param(received, "access_token")} - {""}
        for account_id, account in self._accounts.items():
            if account.kind != WHATSAPP and account.token in tokens:
                return account_id, account
        return object_id, None

    def _check_token(self, account: Account, received: Received) -> None:
        if account.kind == INSTAGRAM:
            presented = _bearer(received) or _param(received, "access_token")
        elif account.kind == PAGE:
            presented = _param(received, "access_token")
        else:
            presented = _bearer(received)
        if not presented or not secrets.compare_digest(presented, account.token):
            raise GraphError(400, 190, "Invalid OAuth access token - Cannot parse access token")

    def _send_api(self, account_id: str, account: Account, received: Received) -> dict:
        """Instagram and Messenger: validate, then the recipient, block and window rules (§1, §2)."""
        body = received.json if isinstance(received.json, dict) else {}
        recipient = body.get("recipient") if isinstance(body.get("recipient"), dict) else {}
        recipient_id = str(recipient.get("id") or "")
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        text = message.get("text")
        messaging_type = body.get("messaging_type")
        tag = body.get("tag")
        if not recipient_id:
            raise GraphError(400, 100, "(#100) The parameter recipient is required")
        if not isinstance(text, str) and not isinstance(message.get("attachment"), dict):
            raise GraphError(400, 100, "(#100) Must send either text or attachment")
        if messaging_type is None and not account.instagram_rules:
            raise GraphError(400, 100, "(#100) The parameter messaging_type is required")
        if messaging_type is not None and messaging_type not in MESSAGING_TYPES:
            raise GraphError(400, 100, "(#100) Param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
        if messaging_type == "MESSAGE_TAG":
            allowed_tags = {"HUMAN_AGENT"} if account.instagram_rules else {"HUMAN_AGENT", *UTILITY_TAGS}
            if tag not in allowed_tags:
                raise GraphError(400, 100, f"(#100) Param tag must be one of {sorted(allowed_tags)}")
        if account.instagram_rules and isinstance(text, str) and len(text.encode()) > INSTAGRAM_TEXT_MAX_BYTES:
            raise GraphError(400, 100, "(#100) Length of param message[text] must be less than or equal to 1000")

        key = (account_id, recipient_id)
        if key not in self._last_inbound:
            raise GraphError(400, 100, "No matching user found", subcode=2018001)
        if key in self._blocked:
            raise GraphError(400, 551, "This person isn't available right now")
        last_inbound = self._last_inbound[key]
        age = None if last_inbound is None else self.now() - last_inbound
        tagged = messaging_type == "MESSAGE_TAG"
        in_window = age is not None and age <= STANDARD_WINDOW
        human_agent_ok = tagged and tag == "HUMAN_AGENT" and age is not None and age <= HUMAN_AGENT_WINDOW
        utility_ok = tagged and tag in UTILITY_TAGS
        if not (in_window or human_agent_ok or utility_ok):
            raise GraphError(400, 10, "(#10) This message is sent outside of allowed window.", subcode=2018278)

        message_id = f"m_{next(self._ids)}_{secrets.token_urlsafe(12)}"
        self._record(
            account_id,
            recipient=recipient_id,
            kind=account.kind,
            type="text" if isinstance(text, str) else "attachment",
            text=text if isinstance(text, str) else "",
            template="",
            messaging_type=messaging_type or "",
            tag=tag or "",
            message_id=message_id,
        )
        return {"recipient_id": recipient_id, "message_id": message_id}

    def _whatsapp(self, account_id: str, received: Received) -> dict:
        """WhatsApp Cloud API: text inside the 24 h window, templates to opted-in users, pair limit (§6)."""
        body = received.json if isinstance(received.json, dict) else {}
        if body.get("messaging_product") != "whatsapp":
            raise GraphError(400, 100, "(#100) The parameter messaging_product is required.", details="")
        if body.get("recipient_type", "individual") != "individual":
            raise GraphError(400, 100, "(#100) Invalid parameter", details="recipient_type must be individual")
        to = str(body.get("to") or "")
        wa_id = _wa_digits(to)
        if not wa_id.isdigit():
            raise GraphError(400, 100, "(#100) Invalid parameter", details="Parameter 'to' must be a phone number")
        message_type = body.get("type", "text")
        text = template_name = ""
        if message_type == "text":
            text_object = body.get("text") if isinstance(body.get("text"), dict) else {}
            text = text_object.get("body") if isinstance(text_object.get("body"), str) else ""
            if not text:
                raise GraphError(400, 100, "(#100) The parameter text['body'] is required.")
            if len(text) > WHATSAPP_TEXT_MAX_CHARS:
                raise GraphError(
                    400, 100, "(#100) Invalid parameter", details="Param text['body'] must be at most 4096 characters"
                )
        elif message_type == "template":
            template = body.get("template") if isinstance(body.get("template"), dict) else {}
            template_name = str(template.get("name") or "")
            language = template.get("language") if isinstance(template.get("language"), dict) else {}
            if not template_name or not language.get("code"):
                raise GraphError(
                    400, 100, "(#100) Invalid parameter", details="template name and language are required"
                )
            if template_name not in self._templates:
                raise GraphError(
                    404,
                    132001,
                    "Template name does not exist in the translation",
                    details=f"template name ({template_name}) does not exist",
                )
        else:
            raise GraphError(400, 100, "(#100) Invalid parameter", details="this fake supports type text and template")

        key = (account_id, wa_id)
        now = self.now()
        last_accepted = self._last_accepted.get(key)
        if last_accepted is not None and now - last_accepted < WHATSAPP_PAIR_INTERVAL:
            raise GraphError(
                429,
                131056,
                "(Business Account, Consumer Account) pair rate limit hit",
                details="Message failed to send because there were too many messages sent from this phone number "
                "to the same phone number in a short period of time.",
            )
        if message_type == "text":
            last_inbound = self._last_inbound.get(key)
            if key in self._blocked or last_inbound is None or now - last_inbound > STANDARD_WINDOW:
                raise GraphError(
                    400,
                    131047,
                    "Re-engagement message",
                    details="Message failed to send because more than 24 hours have passed since the customer "
                    "last replied to this number.",
                )
        elif key in self._blocked or key not in self._opted_in:
            raise GraphError(
                400,
                131026,
                "Message undeliverable",
                details="Unable to deliver message: the recipient has not opted in to this business (fake's rule).",
            )

        message_id = f"wamid.{next(self._ids)}{secrets.token_urlsafe(18)}"
        self._last_accepted[key] = now
        self._record(
            account_id,
            recipient=wa_id,
            kind=WHATSAPP,
            type=message_type,
            text=text,
            template=template_name,
            messaging_type="",
            tag="",
            message_id=message_id,
        )
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id}],
            "messages": [{"id": message_id}],
        }

    def _record(self, account_id: str, **message) -> None:
        message = {"account": account_id, **message, "at": self.now()}
        self._sent.append(message)
        self._sent_by_account[account_id].append(message)

    def _usage(self, account_id: str, kind: str, regain_minutes: int) -> str:
        """The `X-Business-Use-Case-Usage` header: per business object, percentages of the quota used."""
        used = min(100, self._calls[account_id])
        usage = {
            "type": USAGE_TYPES[kind],
            "call_count": used,
            "total_cputime": min(100, used // 2),
            "total_time": min(100, used // 2),
            "estimated_time_to_regain_access": regain_minutes,
        }
        return json.dumps({account_id: [usage]})


def _bearer(received: Received) -> str:
    scheme, _, token = received.header("Authorization").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _param(received: Received, name: str) -> str:
    """A Graph parameter from the query string or the JSON body (Graph accepts both)."""
    values = received.query.get(name)
    if values:
        return values[0]
    if isinstance(received.json, dict) and isinstance(received.json.get(name), str):
        return received.json[name]
    return ""


def _wa_digits(recipient_id: str) -> str:
    """WhatsApp ids are digits; `to` may come with a leading '+'. Other platforms' ids pass unchanged."""
    return recipient_id.removeprefix("+")
