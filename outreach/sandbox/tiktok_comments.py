"""The fake TikTok's comment side (PLATFORMS-UGC.md §3), as a subclass of FakeTikTok so the messaging
rules stay in tiktok.py: the brand's own videos and their comments, listed with TikTok API for Business
v1.3's cursors, public replies and hiding, in the `{code, message, request_id, data}` envelope.

Endpoints, as the `pytiktok` SDK (2nd) documents them:
- `GET business/video/list/`: `fields` (a JSON list), `cursor`, `max_count` 1-20 -> `{videos, cursor, has_more}`.
- `GET business/comment/list/`: `video_id`, `include_replies` (at most 3 replies inline, `reply_list`),
  `status` PUBLIC (default) or ALL, `sort_field` create_time|likes|replies, `sort_order` asc|desc,
  `cursor`, `max_count` up to 30 -> `{comments, cursor, has_more}`.
- `GET business/comment/reply/list/`: `video_id`, `comment_id`, the same paging.
- `POST business/comment/reply/create/`: `{video_id, comment_id, text}`, text at most 150 characters.
- `POST business/comment/hide/`: `{video_id, comment_id, action: HIDE|UNHIDE}`.

A cursor is the offset of the next item; `has_more` says whether there is one. Errors: 40104/40105 for
a missing or wrong token, 40001 for another business's account, 40002 for a bad parameter (an unknown
video or comment, a text too long, a `max_count` out of range); scripted ones with `fail_next`. TikTok's
exact texts for these are [U]. There is no private-reply endpoint: TikTok has none.
"""

import itertools
import json
import re
from dataclasses import dataclass

from outreach.sandbox.base import Received, Reply
from outreach.sandbox.tiktok import INVALID_PARAMETER, OK, FakeTikTok, _Refusal

COMMENT_MAX_CHARS = 150
INLINE_REPLIES = 3
MAX_VIDEOS_PER_PAGE = 20
MAX_COMMENTS_PER_PAGE = 30


@dataclass
class FakeVideo:
    video_id: str
    business_id: str
    caption: str
    create_time: int


@dataclass
class FakeTikTokComment:
    comment_id: str
    video_id: str
    user_id: str
    username: str
    text: str
    create_time: int
    parent_id: str = ""
    hidden: bool = False
    owner: bool = False  # written by the business that owns the video

    def as_json(self, replies: int = 0) -> dict:
        item = {
            "comment_id": self.comment_id,
            "video_id": self.video_id,
            "unique_identifier": self.user_id,
            "user_id": self.user_id,
            "username": self.username,
            "text": self.text,
            "create_time": str(self.create_time),
            "likes": 0,
            "replies": replies,
            "owner": self.owner,
            "liked": False,
            "pinned": False,
            "status": "HIDDEN" if self.hidden else "PUBLIC",
            "profile_image": f"https://p16.fake.tiktokcdn/{self.user_id}.jpeg",
        }
        if self.parent_id:
            item["parent_comment_id"] = self.parent_id
        return item


class FakeTikTokComments(FakeTikTok):
    """FakeTikTok plus the comment endpoints above. `add_video` registers one of our videos and
    `user_comments` makes a user comment (or reply); `replies_by_business()` lists what we posted."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        base = r"/open_api/v1\.3/business"
        self.route("GET", base + r"/video/list/", self._guarded(self._video_list))
        self.route("GET", base + r"/comment/list/", self._guarded(self._comment_list))
        self.route("GET", base + r"/comment/reply/list/", self._guarded(self._reply_list))
        self.route("POST", base + r"/comment/reply/create/", self._guarded(self._reply_create))
        self.route("POST", base + r"/comment/hide/", self._guarded(self._hide))
        # The demo's remote control: a user comments on one of our videos.
        self.route("POST", r"/_sandbox/tiktok/(?P<business>[^/]+)/videos/(?P<video>[^/]+)/comments", self._remote)

    def reset(self, **kwargs) -> None:
        super().reset(**kwargs)
        with self.lock:
            self.videos: dict[str, FakeVideo] = {}
            self.comments: dict[str, FakeTikTokComment] = {}
            self._tiktok_comment_ids = itertools.count(7_300_000_000_000_000_001)

    # --- set-up and the users' side ---------------------------------------------------------------

    def add_video(self, business_id: str, video_id: str, caption: str = "", at: float | None = None) -> FakeVideo:
        with self.lock:
            video = FakeVideo(video_id, business_id, caption, int(self.now() if at is None else at))
            self.videos[video_id] = video
            return video

    def user_comments(
        self,
        video_id: str,
        *,
        user_id: str,
        username: str,
        text: str,
        parent_id: str = "",
        at: float | None = None,
        comment_id: str = "",
    ) -> FakeTikTokComment:
        """A user comments on our video, or replies under a comment (TikTok threads are two levels deep)."""
        with self.lock:
            if parent_id and self.comments[parent_id].parent_id:
                parent_id = self.comments[parent_id].parent_id
            comment = FakeTikTokComment(
                comment_id or str(next(self._tiktok_comment_ids)), video_id, user_id, username.lower(), text,
                int(self.now() if at is None else at), parent_id,
            )  # fmt: skip
            self.comments[comment.comment_id] = comment
            return comment

    def replies_by_business(self, business_id: str | None = None) -> list[FakeTikTokComment]:
        with self.lock:
            return [
                c
                for c in self.comments.values()
                if c.owner and (business_id is None or self.videos[c.video_id].business_id == business_id)
            ]

    # --- endpoints --------------------------------------------------------------------------------

    def _guarded(self, handler):
        """Authorise, play a scripted failure if one is queued, answer in the envelope."""

        def answer(received: Received, match: re.Match) -> Reply:
            params = self._params(received)
            business_id = str(params.get("business_id", ""))
            with self.lock:
                try:
                    self._authorise(received.header("Access-Token"), business_id)
                    if self._failures[business_id]:
                        return self._failures[business_id].popleft()
                    return Reply(200, self._envelope(OK, "OK", handler(business_id, params)))
                except _Refusal as refusal:
                    return Reply(200, self._envelope(refusal.code, refusal.message))

        return answer

    @staticmethod
    def _params(received: Received) -> dict:
        if received.method == "GET":
            return {key: values[0] for key, values in received.query.items()}
        return received.json if isinstance(received.json, dict) else {}

    def _video(self, business_id: str, params: dict) -> FakeVideo:
        video = self.videos.get(str(params.get("video_id", "")))
        if video is None or video.business_id != business_id:
            raise _Refusal(INVALID_PARAMETER, "video_id: no video of this business account has this id.")
        return video

    def _comment(self, video: FakeVideo, comment_id) -> FakeTikTokComment:
        comment = self.comments.get(str(comment_id or ""))
        if comment is None or comment.video_id != video.video_id:
            raise _Refusal(INVALID_PARAMETER, "comment_id: no comment on this video has this id.")
        return comment

    @staticmethod
    def _paging(params: dict, most: int, default: int) -> tuple[int, int]:
        try:
            cursor = int(params.get("cursor") or 0)
            count = int(params.get("max_count") or default)
        except ValueError:
            raise _Refusal(INVALID_PARAMETER, "cursor and max_count: must be integers.") from None
        if not 1 <= count <= most or cursor < 0:
            raise _Refusal(INVALID_PARAMETER, f"max_count: must be between 1 and {most}.")
        return cursor, count

    def _page(self, items: list, cursor: int, count: int, key: str) -> dict:
        chunk = items[cursor : cursor + count]
        return {key: chunk, "cursor": cursor + len(chunk), "has_more": cursor + len(chunk) < len(items)}

    def _video_list(self, business_id: str, params: dict) -> dict:
        cursor, count = self._paging(params, MAX_VIDEOS_PER_PAGE, MAX_VIDEOS_PER_PAGE)
        videos = sorted((v for v in self.videos.values() if v.business_id == business_id), key=lambda v: -v.create_time)
        items = [
            {
                "item_id": v.video_id,
                "create_time": str(v.create_time),
                "caption": v.caption,
                "share_url": f"https://www.tiktok.com/@brand/video/{v.video_id}",
                "thumbnail_url": f"https://p16.fake.tiktokcdn/{v.video_id}.jpeg",
            }
            for v in videos
        ]
        return self._page(items, cursor, count, "videos")

    def _visible(self, comments, params: dict) -> list[FakeTikTokComment]:
        status = str(params.get("status") or "PUBLIC").upper()
        if status not in {"PUBLIC", "ALL"}:
            raise _Refusal(INVALID_PARAMETER, "status: must be PUBLIC or ALL.")
        comments = [c for c in comments if status == "ALL" or not c.hidden]
        field = str(params.get("sort_field") or "create_time")
        order = str(params.get("sort_order") or "desc")
        if field not in {"create_time", "likes", "replies"} or order not in {"asc", "desc", "smart"}:
            raise _Refusal(INVALID_PARAMETER, "sort_field or sort_order: not a known value.")
        return sorted(comments, key=lambda c: (c.create_time, int(c.comment_id)), reverse=order != "asc")

    def _comment_list(self, business_id: str, params: dict) -> dict:
        video = self._video(business_id, params)
        cursor, count = self._paging(params, MAX_COMMENTS_PER_PAGE, 20)
        top = [c for c in self.comments.values() if c.video_id == video.video_id and not c.parent_id]
        wanted = params.get("comment_ids")
        if wanted:
            ids = {str(i) for i in _json_list(wanted)}
            top = [c for c in self.comments.values() if c.video_id == video.video_id and c.comment_id in ids]
        top = self._visible(top, params)
        include = str(params.get("include_replies", "false")).lower() == "true"
        items = []
        for comment in top:
            replies = self._visible(self._replies_of(comment), {"status": params.get("status")})
            item = comment.as_json(replies=len(replies))
            if include and replies:
                item["reply_list"] = [r.as_json() for r in replies[:INLINE_REPLIES]]
            items.append(item)
        return self._page(items, cursor, count, "comments")

    def _replies_of(self, comment: FakeTikTokComment) -> list[FakeTikTokComment]:
        return [c for c in self.comments.values() if c.parent_id == comment.comment_id]

    def _reply_list(self, business_id: str, params: dict) -> dict:
        video = self._video(business_id, params)
        parent = self._comment(video, params.get("comment_id"))
        cursor, count = self._paging(params, MAX_COMMENTS_PER_PAGE, 20)
        replies = self._visible(self._replies_of(parent), params)
        return self._page([r.as_json() for r in replies], cursor, count, "comments")

    def _reply_create(self, business_id: str, params: dict) -> dict:
        video = self._video(business_id, params)
        parent = self._comment(video, params.get("comment_id"))
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _Refusal(INVALID_PARAMETER, "text: required.")
        if len(text) > COMMENT_MAX_CHARS:
            raise _Refusal(INVALID_PARAMETER, f"text: must be at most {COMMENT_MAX_CHARS} characters.")
        reply = FakeTikTokComment(
            str(next(self._tiktok_comment_ids)), video.video_id, business_id, "brand", text, int(self.now()),
            parent.parent_id or parent.comment_id, owner=True,
        )  # fmt: skip
        self.comments[reply.comment_id] = reply
        return {"comment_id": reply.comment_id, "video_id": video.video_id, "create_time": reply.create_time,
                "text": text}  # fmt: skip

    def _hide(self, business_id: str, params: dict) -> dict:
        video = self._video(business_id, params)
        comment = self._comment(video, params.get("comment_id"))
        action = str(params.get("action", "")).upper()
        if action not in {"HIDE", "UNHIDE"}:
            raise _Refusal(INVALID_PARAMETER, "action: must be HIDE or UNHIDE.")
        comment.hidden = action == "HIDE"
        return {}

    def _remote(self, received: Received, match: re.Match) -> Reply:
        body = received.json if isinstance(received.json, dict) else {}
        if not (body.get("text") and body.get("username") and body.get("user_id")):
            return Reply(400, {"error": "Give user_id, username and text."})
        with self.lock:
            if match["video"] not in self.videos:
                self.add_video(match["business"], match["video"])
            comment = self.user_comments(
                match["video"], user_id=str(body["user_id"]), username=body["username"], text=body["text"],
                parent_id=str(body.get("parent_id") or ""),
            )  # fmt: skip
        return Reply(200, {"comment_id": comment.comment_id})


def _json_list(value) -> list:
    if isinstance(value, list):
        return value
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        raise _Refusal(INVALID_PARAMETER, "comment_ids: must be a JSON list.") from None
    if not isinstance(parsed, list) or len(parsed) > 30:
        raise _Refusal(INVALID_PARAMETER, "comment_ids: a JSON list of at most 30 ids.")
    return parsed
