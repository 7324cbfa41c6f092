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

import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

import requests

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


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    secret: str


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
        self.route("GET", r"/(?P<version>v\d+\.\d+)/(?P<user>[^/]+)", self._handle_profile)
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
        self._profiles: dict[str, dict] = {}  # user id -> the User Profile API's answer
        self._profile_failures: deque[Reply] = deque()
        self._played: dict[str, str] = {}  # message id -> "echoed" / "read" (play_back)
        self.webhook = None  # WebhookTarget: where the fake delivers events (signed), if anywhere

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

    def add_profile(self, user_id: str, **fields) -> None:
        """What the User Profile API answers for this IGSID/PSID (name, username, profile_pic, ...),
        to an account the person has written to (PLATFORMS.md §1 "Who wrote")."""
        with self.lock:
            self._profiles[user_id] = {"id": user_id, **fields}

    def fail_profile_next(self, n: int = 1, *, status: int = 400, code: int = 4, message: str = "") -> None:
        """The next n profile lookups answer this Graph error (4: app rate limit; 2: transient)."""
        body = error_body(code, message or "(#4) Application request limit reached")
        with self.lock:
            self._profile_failures.extend([Reply(status, body)] * n)

    def _handle_profile(self, received: Received, match) -> Reply:
        """`GET /{version}/{IGSID}?fields=...`: only for people who wrote to the token's account."""
        user = match["user"]
        with self.lock:
            if self._profile_failures:
                return self._profile_failures.popleft()
            tokens = {_bearer(received), _param(received, "access_token")} - {""}
            accounts = [a for a, acc in self._accounts.items() if acc.kind != WHATSAPP and acc.token in tokens]
            if not accounts:
                return Reply(400, error_body(190, "Invalid OAuth access token - Cannot parse access token"))
            wrote = any(self._last_inbound.get((account, user)) is not None for account in accounts)
            blocked = any((account, user) in self._blocked for account in accounts)
            profile = self._profiles.get(user)
            if not wrote or blocked or profile is None:
                return Reply(400, error_body(230, "User consent is required to access user profile"))
            wanted = (_param(received, "fields") or "name").split(",")
            return Reply(200, {key: value for key, value in profile.items() if key in wanted or key == "id"})

    # --- webhooks the platform sends (signed, to the CRM's webhook URL) ----------------------------

    def deliver_to(self, url: str, app_secret: str) -> None:
        """Deliver events to this webhook URL, signed with X-Hub-Signature-256 under `app_secret`."""
        with self.lock:
            self.webhook = WebhookTarget(url, app_secret)

    def _post(self, payload: dict) -> int:
        if self.webhook is None:
            raise RuntimeError("Call deliver_to(url, app_secret) first.")
        body = json.dumps(payload).encode()
        signature = "sha256=" + hmac.new(self.webhook.secret.encode(), body, hashlib.sha256).hexdigest()
        answer = requests.post(
            self.webhook.url,
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )
        return answer.status_code

    def _messaging(self, account_id: str, event: dict) -> int:
        with self.lock:
            kind = self._accounts[account_id].kind if account_id in self._accounts else PAGE
            ig = kind == INSTAGRAM or self._accounts.get(account_id, Account(PAGE, "", False)).instagram_rules
            now_ms = int(self.now() * 1000)
        event = {"timestamp": now_ms, **event}
        entry = {"id": account_id, "time": now_ms, "messaging": [event]}
        return self._post({"object": "instagram" if ig else "page", "entry": [entry]})

    def emit_message(self, account_id: str, user_id: str, text: str = "", *, attachments=None, mid=None, **extra):
        """The user writes (the window opens); `attachments` as the platform sends them."""
        self.user_wrote(account_id, user_id)
        message = {"mid": mid or f"m_in_{next(self._ids)}_{secrets.token_urlsafe(8)}", **extra}
        if text:
            message["text"] = text
        if attachments:
            message["attachments"] = attachments
        self._messaging(account_id, {"sender": {"id": user_id}, "recipient": {"id": account_id}, "message": message})
        return message["mid"]

    def emit_story_mention(self, account_id: str, user_id: str, url: str) -> str:
        """The user mentioned the business in their story: a DM with a `story_mention` attachment."""
        return self.emit_message(account_id, user_id, attachments=[{"type": "story_mention", "payload": {"url": url}}])

    def emit_echoes(self, account_id: str) -> int:
        """Echo every message the account sent (as the platform reports sends, also from the app)."""
        with self.lock:
            sent = [m for m in self._sent_by_account.get(account_id, []) if m["kind"] != WHATSAPP]
        for message in sent:
            self._messaging(
                account_id,
                {
                    "sender": {"id": account_id},
                    "recipient": {"id": message["recipient"]},
                    "timestamp": int(message["at"] * 1000),
                    "message": {"mid": message["message_id"], "text": message["text"], "is_echo": True},
                },
            )
        return len(sent)

    def emit_app_message(self, account_id: str, user_id: str, text: str) -> str:
        """A person at the brand typed a message in the Instagram / Messenger app: only its echo
        reaches the CRM (which clears the manual-queue row with exactly this text)."""
        mid = f"m_app_{next(self._ids)}_{secrets.token_urlsafe(8)}"
        self._messaging(
            account_id,
            {
                "sender": {"id": account_id},
                "recipient": {"id": user_id},
                "message": {"mid": mid, "text": text, "is_echo": True},
            },
        )
        return mid

    def play_back(self, read_after: float = 5.0) -> int:
        """What the platform does after our sends, for the demo (`make run`): each new send is
        echoed (WhatsApp: `sent` then `delivered`), and read `read_after` seconds later. Returns the
        number of webhooks posted."""
        posted = 0
        with self.lock:
            sent = [dict(m) for m in self._sent]
            now = self.now()
            done = self._played
        for message in sent:
            key, state = message["message_id"], done.get(message["message_id"], "")
            account, user = message["account"], message["recipient"]
            if not state:
                if message["kind"] == WHATSAPP:
                    self.emit_whatsapp_status(account, key, "sent")
                    self.emit_whatsapp_status(account, key, "delivered")
                    posted += 2
                else:
                    self._messaging(
                        account,
                        {
                            "sender": {"id": account},
                            "recipient": {"id": user},
                            "timestamp": int(message["at"] * 1000),
                            "message": {"mid": key, "text": message["text"], "is_echo": True},
                        },
                    )
                    posted += 1
                done[key] = "echoed"
            elif state == "echoed" and now - message["at"] >= read_after:
                if message["kind"] == WHATSAPP:
                    self.emit_whatsapp_status(account, key, "read")
                else:
                    self.emit_read(account, user, key)
                done[key] = "read"
                posted += 1
        return posted

    def emit_read(self, account_id: str, user_id: str, mid: str | None = None) -> int:
        """The user read our messages: Instagram `read.mid`, Messenger a watermark (now)."""
        with self.lock:
            instagram = self._accounts[account_id].instagram_rules
            read = {"mid": mid} if instagram and mid else {"watermark": int(self.now() * 1000)}
        return self._messaging(account_id, {"sender": {"id": user_id}, "recipient": {"id": account_id}, "read": read})

    def emit_delivery(self, account_id: str, user_id: str, mids=()) -> int:
        """Messenger only: our messages reached the user (a watermark, with the mids when known)."""
        with self.lock:
            delivery = {"mids": list(mids), "watermark": int(self.now() * 1000)}
        return self._messaging(
            account_id, {"sender": {"id": user_id}, "recipient": {"id": account_id}, "delivery": delivery}
        )

    def emit_reaction(self, account_id: str, user_id: str, mid: str, emoji: str | None = "❤️") -> int:
        """The user reacts to a message (emoji None: removes the reaction)."""
        reaction = {"mid": mid, "action": "react" if emoji else "unreact"}
        if emoji:
            reaction.update(reaction="love", emoji=emoji)
        return self._messaging(
            account_id, {"sender": {"id": user_id}, "recipient": {"id": account_id}, "reaction": reaction}
        )

    def emit_edit(self, account_id: str, user_id: str, mid: str, text: str, num_edit: int = 1) -> int:
        return self._messaging(
            account_id,
            {
                "sender": {"id": user_id},
                "recipient": {"id": account_id},
                "message_edit": {"mid": mid, "text": text, "num_edit": num_edit},
            },
        )

    def emit_unsend(self, account_id: str, user_id: str, mid: str) -> int:
        return self._messaging(
            account_id,
            {"sender": {"id": user_id}, "recipient": {"id": account_id}, "message": {"mid": mid, "is_deleted": True}},
        )

    def emit_whatsapp_status(
        self, phone_number_id: str, message_id: str, status: str, *, code: int | None = None, title: str = ""
    ) -> int:
        """A status of one of our WhatsApp messages: sent, delivered, read or failed (with code/title)."""
        with self.lock:
            sent = next((m for m in self._sent if m["message_id"] == message_id), None)
            recipient = sent["recipient"] if sent else ""
            now = int(self.now())
        item = {"id": message_id, "status": status, "timestamp": str(now), "recipient_id": recipient}
        if status == "failed":
            item["errors"] = [{"code": code or 131026, "title": title or "Message undeliverable"}]
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000000", "phone_number_id": phone_number_id},
            "statuses": [item],
        }
        change = {"field": "messages", "value": value}
        return self._post({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [change]}]})

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
