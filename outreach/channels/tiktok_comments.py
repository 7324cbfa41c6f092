"""TikTok comments on the brand's own videos, through TikTok API for Business v1.3 (PLATFORMS-UGC.md §3,
"What a CRM must do" 14-15), on plain data.

The endpoint names and fields come from the `pytiktok` SDK (2nd); TikTok's portal was not in our copies:

- `GET  /open_api/v1.3/business/video/list/` (`business_id`, `fields` as a JSON list, `cursor`, `max_count` 1-20):
  the brand's own videos, `data{videos[], cursor, has_more}`.
- `GET  /open_api/v1.3/business/comment/list/` (`business_id`, `video_id`, `include_replies`, `status`
  PUBLIC|ALL, `sort_field`, `sort_order`, `cursor`, `max_count` up to 30): public and hidden comments,
  `data{comments[], cursor, has_more}`; `include_replies` inlines at most 3 replies (`reply_list`).
- `GET  /open_api/v1.3/business/comment/reply/list/` (`business_id`, `video_id`, `comment_id`, ...): the rest.
- `POST /open_api/v1.3/business/comment/reply/create/` `{business_id, video_id, comment_id, text}` (text up to
  150 characters): a public reply; `data.comment_id` is the new comment.
- `POST /open_api/v1.3/business/comment/hide/` `{business_id, video_id, comment_id, action: HIDE|UNHIDE}`.

Every answer is the `{code, message, request_id, data}` envelope (`tiktok.result_of` maps it). There is no
private reply on TikTok (a comment opens no conversation): the CRM refuses one before any call. The
comment webhooks' payload fields are [U], so comments are polled.
"""

import datetime
import json
from dataclasses import dataclass, field, replace

import requests

from outreach.channels import tiktok
from outreach.channels.base import Outcome, SenderConfig, SendResult, transport_failure

API = "/open_api/v1.3"
VIDEO_LIST_PATH = f"{API}/business/video/list/"
COMMENT_LIST_PATH = f"{API}/business/comment/list/"
REPLY_LIST_PATH = f"{API}/business/comment/reply/list/"
REPLY_CREATE_PATH = f"{API}/business/comment/reply/create/"
HIDE_PATH = f"{API}/business/comment/hide/"
MAX_COMMENT_CHARS = 150
VIDEOS_PER_PAGE = 20
COMMENTS_PER_PAGE = 30
VIDEO_FIELDS = ["item_id", "create_time", "thumbnail_url", "share_url", "caption"]


class TikTokReadError(Exception):
    """A read TikTok refused or never answered; `result` says why, as for a send."""

    def __init__(self, result: SendResult):
        super().__init__(f"{result.error_code}: {result.error_message}")
        self.result = result


@dataclass(frozen=True)
class Video:
    """One of the brand's own videos."""

    video_id: str
    caption: str = ""
    share_url: str = ""
    thumbnail_url: str = ""
    created: datetime.datetime | None = None


@dataclass(frozen=True)
class TikTokComment:
    """A comment (or a reply) on one of our videos, as TikTok lists it."""

    comment_id: str
    video_id: str
    text: str
    created: datetime.datetime
    user_id: str = ""  # `unique_identifier` (the newer name) or `user_id` (to be deprecated)
    username: str = ""
    parent_id: str = ""
    hidden: bool = False
    owner: bool = False  # written by the video's owner: the brand
    reply_count: int = 0
    inline_replies: tuple["TikTokComment", ...] = ()


@dataclass(frozen=True)
class Page:
    """One page of a list and where the next one starts."""

    items: list = field(default_factory=list)
    cursor: int = 0
    has_more: bool = False


def _get(session: requests.Session, config: SenderConfig, path: str, params: dict) -> dict:
    try:
        response = session.get(
            f"{config.base_url}{path}",
            params={"business_id": config.account_id, **params},
            headers={"Access-Token": config.access_token},
            timeout=config.timeout,
        )
    except requests.RequestException as error:
        raise TikTokReadError(transport_failure(error)) from None
    result = tiktok.result_of(response)
    if not result.sent:
        raise TikTokReadError(result)
    return response.json().get("data") or {}


def _post(session: requests.Session, config: SenderConfig, path: str, body: dict) -> tuple[SendResult, dict]:
    try:
        response = session.post(
            f"{config.base_url}{path}",
            json={"business_id": config.account_id, **body},
            headers={"Access-Token": config.access_token},
            timeout=config.timeout,
        )
    except requests.RequestException as error:
        return transport_failure(error), {}
    result = tiktok.result_of(response)
    return result, (response.json().get("data") or {}) if result.sent else {}


def _time(value) -> datetime.datetime:
    try:
        return datetime.datetime.fromtimestamp(int(value), tz=datetime.UTC)
    except (TypeError, ValueError):
        return datetime.datetime.now(tz=datetime.UTC)


def _comment(item: dict, video_id: str) -> TikTokComment:
    return TikTokComment(
        comment_id=str(item.get("comment_id", "")),
        video_id=str(item.get("video_id") or video_id),
        text=str(item.get("text") or ""),
        created=_time(item.get("create_time")),
        user_id=str(item.get("unique_identifier") or item.get("user_id") or ""),
        username=str(item.get("username") or "").lower(),
        parent_id=str(item.get("parent_comment_id") or ""),
        hidden=str(item.get("status", "PUBLIC")).upper() == "HIDDEN",
        owner=bool(item.get("owner")),
        reply_count=int(item.get("replies") or 0),
        inline_replies=tuple(_comment(r, video_id) for r in item.get("reply_list") or []),
    )


def list_videos(session: requests.Session, config: SenderConfig, cursor: int = 0) -> Page:
    """One page of the brand's own videos."""
    params = {"fields": json.dumps(VIDEO_FIELDS), "max_count": VIDEOS_PER_PAGE}
    if cursor:
        params["cursor"] = cursor
    data = _get(session, config, VIDEO_LIST_PATH, params)
    videos = [
        Video(
            video_id=str(v.get("item_id", "")),
            caption=str(v.get("caption") or ""),
            share_url=str(v.get("share_url") or ""),
            thumbnail_url=str(v.get("thumbnail_url") or ""),
            created=_time(v.get("create_time")) if v.get("create_time") else None,
        )
        for v in data.get("videos") or []
    ]
    return Page(videos, int(data.get("cursor") or 0), bool(data.get("has_more")))


def list_comments(session: requests.Session, config: SenderConfig, video_id: str, cursor: int = 0) -> Page:
    """One page of a video's comments, public and hidden, newest first, each with up to 3 replies inline."""
    params = {
        "video_id": video_id,
        "include_replies": "true",
        "status": "ALL",
        "sort_field": "create_time",
        "sort_order": "desc",
        "max_count": COMMENTS_PER_PAGE,
    }
    if cursor:
        params["cursor"] = cursor
    data = _get(session, config, COMMENT_LIST_PATH, params)
    comments = [_comment(c, video_id) for c in data.get("comments") or []]
    return Page(comments, int(data.get("cursor") or 0), bool(data.get("has_more")))


def list_replies(
    session: requests.Session, config: SenderConfig, video_id: str, comment_id: str, cursor: int = 0
) -> Page:
    """One page of the replies to a comment (when it has more than the 3 listed inline)."""
    params = {"video_id": video_id, "comment_id": comment_id, "status": "ALL", "max_count": COMMENTS_PER_PAGE}
    if cursor:
        params["cursor"] = cursor
    data = _get(session, config, REPLY_LIST_PATH, params)
    replies = [_comment({"parent_comment_id": comment_id, **c}, video_id) for c in data.get("comments") or []]
    return Page(replies, int(data.get("cursor") or 0), bool(data.get("has_more")))


def all_comments(session: requests.Session, config: SenderConfig, video_id: str) -> list[TikTokComment]:
    """Every comment and reply of one video, following the cursors; replies carry `parent_id`."""
    found: list[TikTokComment] = []
    cursor, more = 0, True
    while more:
        page = list_comments(session, config, video_id, cursor)
        for comment in page.items:
            found.append(comment)
            replies = list(comment.inline_replies)
            if comment.reply_count > len(replies):
                replies, reply_cursor, reply_more = [], 0, True
                while reply_more:
                    reply_page = list_replies(session, config, video_id, comment.comment_id, reply_cursor)
                    replies += reply_page.items
                    reply_cursor, reply_more = reply_page.cursor, reply_page.has_more and bool(reply_page.items)
            found += [r if r.parent_id else replace(r, parent_id=comment.comment_id) for r in replies]
        cursor, more = page.cursor, page.has_more and bool(page.items)
    return found


def reply_publicly(
    session: requests.Session, config: SenderConfig, video_id: str, comment_id: str, text: str
) -> SendResult:
    """A public reply under a comment on our own video; the new comment's id comes back."""
    result, data = _post(
        session, config, REPLY_CREATE_PATH, {"video_id": video_id, "comment_id": comment_id, "text": text}
    )
    if result.sent:
        new_id = str(data.get("comment_id") or "")
        if not new_id:
            return SendResult(Outcome.UNCERTAIN, error_code="no_comment_id", error_message="No comment id came back.")
        return replace(result, provider_message_id=new_id)
    return result


def hide_comment(
    session: requests.Session, config: SenderConfig, video_id: str, comment_id: str, hide: bool = True
) -> SendResult:
    """Hide (or unhide) a comment on our own video."""
    body = {"video_id": video_id, "comment_id": comment_id, "action": "HIDE" if hide else "UNHIDE"}
    result, _ = _post(session, config, HIDE_PATH, body)
    return replace(result, provider_message_id="ok") if result.sent else result
