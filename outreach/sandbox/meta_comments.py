"""The fake Graph API's comment side (PLATFORMS-UGC.md §1a-§1f), as a subclass of FakeMeta so the
DM rules stay in meta.py: media and comments, the `comments` / `live_comments` / `mentions`
webhooks (signed and posted to the CRM), the `mentioned_media` / `mentioned_comment` readers, `/tags`,
the hashtag search with its 30-per-7-days budget, public replies (`/replies`, `/mentions`), hiding,
and private replies (`recipient.comment_id`): one per comment, within 7 days, on a Live only while
it is live, 750 an hour per account.

Meta documents no error codes for a second or late private reply ([U]); the fake answers
(#10900) "Activity already replied to" for a second one (the code public code handles on Pages) and
(#100) with a message naming the 7 days or the ended Live otherwise, so the CRM must read code and text.
"""

import datetime
import hashlib
import hmac
import itertools
import json
import re
import secrets
from dataclasses import dataclass, field

import requests

from outreach.sandbox.base import Received, Reply
from outreach.sandbox.meta import FakeMeta, GraphError, error_body

DAY = 24 * 3600
PRIVATE_REPLY_SECONDS = 7 * DAY
PRIVATE_REPLIES_PER_HOUR = 750
HASHTAG_BUDGET = 30
READER = re.compile(r"(?P<edge>mentioned_media|mentioned_comment)\.(?:media_id|comment_id)\((?P<id>[^)]+)\)")


@dataclass
class Media:
    media_id: str
    owner: str  # our account id, or a user's username
    caption: str = ""
    media_type: str = "IMAGE"
    product_type: str = "FEED"
    timestamp: float = 0.0
    live: bool = False
    live_ended: bool = False
    tagged: set[str] = field(default_factory=set)  # account ids tagged in it
    private: bool = False

    @property
    def permalink(self) -> str:
        return f"https://www.instagram.com/p/{self.media_id}/"


@dataclass
class FakeComment:
    comment_id: str
    media_id: str
    from_id: str
    username: str
    text: str
    timestamp: float
    parent_id: str = ""
    hidden: bool = False
    by_business: str = ""  # our account id when we wrote it


class FakeMetaComments(FakeMeta):
    """FakeMeta plus comments. Register media with `add_media`, make users comment with `user_comments`,
    and `emit` the webhook to the CRM (`webhook_url` and `app_secret` set by the test or the sandbox)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        inherited, self._routes = self._routes, []
        self.route("GET", r"/(?P<version>v\d+\.\d+)/ig_hashtag_search", self._hashtag_search)
        self.route("GET", r"/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)/tags", self._tags)
        self.route("GET", r"/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)/recent_media", self._recent_media)
        self.route("GET", r"/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)", self._read_node)
        self.route("POST", r"/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)/mentions", self._comment_on_mention)
        self.route("POST", r"/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)/replies", self._reply)
        self.route("POST", r"/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)", self._hide)
        # The demo's remote control: a user comments on a post (or mentions us), and the webhook is sent.
        self.route("POST", r"/_sandbox/(?P<account>[^/]+)/media/(?P<media>[^/]+)/comments", self._handle_user_comments)
        # FakeMeta's own routes are tried after these, and the two catch-all node routes hand a request
        # that is not about comments on to them (e.g. a user-profile read of an IGSID).
        self._own_routes = list(self._routes)
        self._routes += inherited
        self.webhook_url = ""
        self.app_secret = ""

    def _handle_user_comments(self, received: Received, match) -> Reply:
        body = received.json if isinstance(received.json, dict) else {}
        if not (body.get("text") and body.get("username") and body.get("from_id")):
            return Reply(400, {"error": {"message": "Give from_id, username and text."}})
        with self.lock:
            if match["media"] not in self.media:
                self.add_media(match["media"], owner=match["account"])
        comment = self.user_comments(
            match["media"], from_id=str(body["from_id"]), username=body["username"], text=body["text"],
            parent_id=str(body.get("parent_id") or ""),
        )  # fmt: skip
        delivered = self.emit(self.comment_webhook(match["account"], comment)) if self.webhook_url else None
        return Reply(200, {"id": comment.comment_id, "delivered": delivered.status_code if delivered else None})

    def _forget_state(self) -> None:
        super()._forget_state()
        self.media: dict[str, Media] = {}
        self.comments: dict[str, FakeComment] = {}
        self.usernames: dict[str, str] = {}  # our account id -> its username
        self.private_replied: dict[str, float] = {}  # comment id -> when
        self.hashtags: dict[tuple[str, str], float] = {}  # (account, hashtag) -> first query
        self.hashtag_ids: dict[str, str] = {}
        self.posted_comments: list[FakeComment] = []
        self._comment_ids = itertools.count(17_900_000_000_000_001)

    # --- set-up and the users' side ---------------------------------------------------------------

    def set_username(self, account_id: str, username: str) -> None:
        with self.lock:
            self.usernames[account_id] = username.lower()

    def add_media(self, media_id: str, *, owner: str, caption: str = "", at: float | None = None, **fields) -> Media:
        """A post: ours (owner = our account id) or a user's (owner = their username)."""
        with self.lock:
            media = Media(media_id, owner, caption, timestamp=self.now() if at is None else at, **fields)
            self.media[media_id] = media
            return media

    def end_live(self, media_id: str) -> None:
        with self.lock:
            self.media[media_id].live_ended = True

    def user_comments(
        self,
        media_id: str,
        *,
        from_id: str,
        username: str,
        text: str,
        parent_id: str = "",
        at: float | None = None,
        comment_id: str = "",
    ) -> FakeComment:
        with self.lock:
            comment = FakeComment(
                comment_id or str(next(self._comment_ids)), media_id, from_id, username.lower(), text,
                self.now() if at is None else at, parent_id,
            )  # fmt: skip
            self.comments[comment.comment_id] = comment
            return comment

    def comment_webhook(self, account_id: str, comment: FakeComment) -> dict:
        """What Meta posts for a comment on our media: `comments`, or `live_comments` on a Live."""
        media = self.media[comment.media_id]
        value = {
            "from": {"id": comment.from_id, "username": comment.username},
            "media": {"id": media.media_id, "media_product_type": "LIVE" if media.live else media.product_type},
            "id": comment.comment_id,
            "text": comment.text,
        }
        if comment.parent_id:
            value["parent_id"] = comment.parent_id
        field_name = "live_comments" if media.live else "comments"
        return _envelope(account_id, int(comment.timestamp), [{"field": field_name, "value": value}])

    def mention_webhook(self, account_id: str, media_id: str, comment_id: str = "") -> dict:
        value = {"media_id": media_id, **({"comment_id": comment_id} if comment_id else {})}
        return _envelope(account_id, int(self.now()), [{"field": "mentions", "value": value}])

    def emit(self, payload: dict) -> requests.Response:
        """Sign and post a webhook to the CRM, as Meta does."""
        body = json.dumps(payload).encode()
        signature = "sha256=" + _hmac(self.app_secret, body)
        return requests.post(
            self.webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature},
            timeout=10,
        )

    def comments_by_business(self, account_id: str | None = None) -> list[FakeComment]:
        with self.lock:
            return [c for c in self.posted_comments if account_id is None or c.by_business == account_id]

    def load(self, account_id: str, state: dict) -> None:
        """Know the posts and comments of a CRM's demo (`outreach.demo_comments.sandbox_state`)."""
        for media in state["media"]:
            self.add_media(media["media_id"], owner=media["owner"] or account_id, caption=media["caption"])
        for comment in state["comments"]:
            self.user_comments(
                comment["media_id"], from_id=comment["from_id"], username=comment["username"], text=comment["text"],
                at=comment["at"], comment_id=comment["comment_id"],
            )  # fmt: skip

    def private_replies(self, account_id: str | None = None) -> list[dict]:
        return [m for m in self.sent(account_id) if m.get("type") == "private_reply"]

    # --- endpoints --------------------------------------------------------------------------------

    def _account(self, node: str, received: Received):
        account_id, account = self._resolve(node, received)
        if account is None:
            raise GraphError(400, 100, f"Unsupported request. Object with ID '{node}' does not exist.", subcode=33)
        self._check_token(account, received)
        return account_id, account

    def _answer(self, handler, received: Received, match) -> Reply:
        with self.lock:
            try:
                return Reply(200, handler(received, match))
            except GraphError as error:
                return Reply(error.status, error_body(error.code, error.message, subcode=error.subcode))

    def _read_node(self, received: Received, match) -> Reply:
        fields = (received.query.get("fields") or [""])[0]
        if not READER.search(fields) and match["node"] not in self._accounts:
            return self._fallback(received)
        return self._answer(self._read, received, match)

    def _fallback(self, received: Received) -> Reply:
        """The first inherited route that matches: FakeMeta's answer to what is not about comments."""
        for method, pattern, handler in self._routes[len(self._own_routes) :]:
            if method == received.method:
                found = pattern.fullmatch(received.path)
                if found:
                    return handler(received, found)
        return Reply(404, {"error": {"message": f"no route for {received.method} {received.path}"}})

    def _read(self, received: Received, match) -> dict:
        account_id, _ = self._account(match["node"], received)
        fields = (received.query.get("fields") or [""])[0]
        found = READER.search(fields)
        if not found:
            return {"id": account_id, "username": self.usernames.get(account_id, "")}
        if found["edge"] == "mentioned_media":
            media = self.media.get(found["id"])
            if media is None or media.private or not self._mentions(media, account_id):
                raise GraphError(400, 100, "(#100) The media was not found or does not mention this account.")
            data = self._media_fields(media)
            if "comments{" in fields:
                data["comments"] = {"data": self._comment_tree(media, account_id)}
            return {"mentioned_media": data, "id": account_id}
        comment = self.comments.get(found["id"])
        if comment is None or f"@{self.usernames.get(account_id, '?')}" not in comment.text.lower():
            raise GraphError(400, 100, "(#100) The comment was not found or does not mention this account.")
        media = self.media[comment.media_id]
        return {
            "mentioned_comment": {
                "id": comment.comment_id,
                "text": comment.text,
                "timestamp": _iso(comment.timestamp),
                "username": comment.username,
                "like_count": 0,
                "media": {"id": media.media_id, "permalink": media.permalink, "username": media.owner},
            },
            "id": account_id,
        }

    def _comment_tree(self, media: Media, account_id: str) -> list[dict]:
        """The media's comments with their `replies`; a mention of us loses its `@` (as Meta says)."""
        ours = f"@{self.usernames.get(account_id, '?')}"

        def shown(comment: FakeComment) -> dict:
            text = re.sub(re.escape(ours), ours[1:], comment.text, flags=re.I)
            return {"id": comment.comment_id, "text": text, "username": comment.username,
                    "timestamp": _iso(comment.timestamp)}  # fmt: skip

        on_media = [c for c in self.comments.values() if c.media_id == media.media_id]
        on_media.sort(key=lambda c: c.timestamp)
        tree = []
        for top in (c for c in on_media if not c.parent_id):
            replies = [shown(c) for c in on_media if c.parent_id == top.comment_id]
            tree.append({**shown(top), **({"replies": {"data": replies}} if replies else {})})
        return tree

    def _mentions(self, media: Media, account_id: str) -> bool:
        return f"@{self.usernames.get(account_id, '?')}" in media.caption.lower()

    def _media_fields(self, media: Media, *, with_username: bool = True) -> dict:
        data = {
            "id": media.media_id,
            "caption": media.caption,
            "media_type": media.media_type,
            "media_url": f"https://cdn.fake.instagram/{media.media_id}.jpg",
            "permalink": media.permalink,
            "timestamp": _iso(media.timestamp),
            "comments_count": sum(1 for c in self.comments.values() if c.media_id == media.media_id),
            "like_count": 0,
        }
        if media.media_type == "VIDEO":
            data["thumbnail_url"] = f"https://cdn.fake.instagram/{media.media_id}_thumb.jpg"
        if with_username:
            data["username"] = media.owner
        return data

    def _tags(self, received: Received, match) -> Reply:
        def tags(received, match):
            account_id, _ = self._account(match["node"], received)
            tagged = [m for m in self.media.values() if account_id in m.tagged and not m.private]
            return {"data": [self._media_fields(m) for m in tagged]}

        return self._answer(tags, received, match)

    def _hashtag_search(self, received: Received, match) -> Reply:
        def search(received, match):
            account_id, _ = self._account((received.query.get("user_id") or [""])[0], received)
            tag = (received.query.get("q") or [""])[0].lower().lstrip("#")
            if not tag:
                raise GraphError(400, 100, "(#100) The parameter q is required")
            now = self.now()
            current = {t for (a, t), at in self.hashtags.items() if a == account_id and now - at < 7 * DAY}
            if tag not in current:
                if len(current) >= HASHTAG_BUDGET:  # the code is the fake's pick [U]
                    raise GraphError(400, 24, "(#24) You have reached the maximum of 30 unique hashtags per 7 days.")
                self.hashtags[(account_id, tag)] = now
            tag_id = self.hashtag_ids.setdefault(tag, str(17_843_000_000_000_000 + len(self.hashtag_ids) + 1))
            return {"data": [{"id": tag_id}]}

        return self._answer(search, received, match)

    def _recent_media(self, received: Received, match) -> Reply:
        def recent(received, match):
            self._account((received.query.get("user_id") or [""])[0], received)
            tag = next((t for t, i in self.hashtag_ids.items() if i == match["node"]), None)
            if tag is None:
                raise GraphError(400, 100, "(#100) Unknown hashtag id")
            now = self.now()
            found = [
                self._media_fields(m, with_username=False)
                for m in self.media.values()
                if f"#{tag}" in m.caption.lower() and now - m.timestamp <= DAY and not m.private
            ]
            return {"data": found[:50]}

        return self._answer(recent, received, match)

    def _comment_on_mention(self, received: Received, match) -> Reply:
        def post(received, match):
            account_id, _ = self._account(match["node"], received)
            body = received.json if isinstance(received.json, dict) else {}
            media = self.media.get(str(body.get("media_id") or ""))
            message = body.get("message")
            if not isinstance(message, str) or not message:
                raise GraphError(400, 100, "(#100) The parameter message is required")
            if media is None:
                raise GraphError(400, 100, "(#100) The parameter media_id is required or not valid")
            parent = str(body.get("comment_id") or "")
            if parent:
                mentioned = self.comments.get(parent)
                if mentioned is None or f"@{self.usernames.get(account_id, '?')}" not in mentioned.text.lower():
                    raise GraphError(400, 10, "(#10) The comment does not mention this account")
            elif not self._mentions(media, account_id):
                # Tagged media and hashtag finds: "You cannot comment on photos you were tagged in".
                raise GraphError(400, 10, "(#10) The media does not mention this account")
            return {"id": self._post_comment(account_id, media.media_id, message, parent).comment_id}

        return self._answer(post, received, match)

    def _reply(self, received: Received, match) -> Reply:
        def post(received, match):
            comment = self.comments.get(match["node"])
            if comment is None:
                raise GraphError(400, 100, f"(#100) Object with ID '{match['node']}' does not exist", subcode=33)
            media = self.media[comment.media_id]
            account_id, _ = self._account(media.owner, received)
            message = (received.json or {}).get("message") if isinstance(received.json, dict) else None
            if not isinstance(message, str) or not message:
                raise GraphError(400, 100, "(#100) The parameter message is required")
            if comment.hidden:
                raise GraphError(400, 100, "(#100) Cannot reply to a hidden comment")
            if media.live:
                raise GraphError(400, 100, "(#100) Replies are not supported on live video comments")
            top = comment.parent_id or comment.comment_id  # replies to replies land on the top-level comment
            return {"id": self._post_comment(account_id, media.media_id, message, top).comment_id}

        return self._answer(post, received, match)

    def _hide(self, received: Received, match) -> Reply:
        if match["node"] not in self.comments:
            return self._fallback(received)

        def hide(received, match):
            comment = self.comments.get(match["node"])
            if comment is None:
                raise GraphError(400, 100, f"(#100) Object with ID '{match['node']}' does not exist", subcode=33)
            self._account(self.media[comment.media_id].owner, received)
            value = _param_value(received, "hide")
            if value not in {"true", "false"}:
                raise GraphError(400, 100, "(#100) The parameter hide must be true or false")
            comment.hidden = value == "true"
            return {"success": True}

        return self._answer(hide, received, match)

    def _post_comment(self, account_id: str, media_id: str, text: str, parent_id: str) -> FakeComment:
        comment = FakeComment(
            str(next(self._comment_ids)), media_id, account_id, self.usernames.get(account_id, ""), text,
            self.now(), parent_id, by_business=account_id,
        )  # fmt: skip
        self.comments[comment.comment_id] = comment
        self.posted_comments.append(comment)
        return comment

    def _send_api(self, account_id, account, received: Received) -> dict:
        body = received.json if isinstance(received.json, dict) else {}
        recipient = body.get("recipient") if isinstance(body.get("recipient"), dict) else {}
        if "comment_id" not in recipient:
            return super()._send_api(account_id, account, received)
        return self._private_reply(account_id, str(recipient.get("comment_id") or ""), body)

    def _private_reply(self, account_id: str, comment_id: str, body: dict) -> dict:
        """One DM per comment on our media, within 7 days, while a Live is live; no window opens."""
        comment = self.comments.get(comment_id)
        media = self.media.get(comment.media_id) if comment else None
        if comment is None or media is None or media.owner != account_id or comment.by_business:
            raise GraphError(400, 100, "No matching user found", subcode=2018001)
        message = body.get("message") if isinstance(body.get("message"), dict) else {}
        text = message.get("text")
        if not isinstance(text, str) or not text:
            raise GraphError(400, 100, "(#100) Must send either text or attachment")
        if len(text.encode()) > 1000:
            raise GraphError(400, 100, "(#100) Length of param message[text] must be less than or equal to 1000")
        now = self.now()
        if comment_id in self.private_replied:
            raise GraphError(400, 10900, "(#10900) Activity already replied to")
        if now - comment.timestamp > PRIVATE_REPLY_SECONDS:
            raise GraphError(400, 100, "(#100) Private replies must be sent within 7 days of the comment")
        if media.live and media.live_ended:
            raise GraphError(400, 100, "(#100) The live video has ended: private replies are allowed only while live")
        recent = [m for m in self._sent_by_account.get(account_id, []) if m.get("type") == "private_reply"]
        if sum(1 for m in recent if now - m["at"] < 3600) >= PRIVATE_REPLIES_PER_HOUR:
            raise GraphError(400, 613, "Calls to this API have exceeded the rate limit.")
        self.private_replied[comment_id] = now
        message_id = f"m_{next(self._ids)}_{secrets.token_urlsafe(12)}"
        self._record(
            account_id, recipient=comment.from_id, kind="instagram", type="private_reply", text=text, template="",
            messaging_type="", tag="", message_id=message_id, comment_id=comment_id,
        )  # fmt: skip
        return {"recipient_id": comment.from_id, "message_id": message_id}


def _envelope(account_id: str, at: int, changes: list[dict]) -> dict:
    return {"object": "instagram", "entry": [{"id": account_id, "time": at, "changes": changes}]}


def _iso(timestamp: float) -> str:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _param_value(received: Received, name: str) -> str:
    values = received.query.get(name)
    if values:
        return str(values[0]).lower()
    if isinstance(received.json, dict) and name in received.json:
        return str(received.json[name]).lower()
    return ""
