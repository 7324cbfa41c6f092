"""Meta comment and mention webhooks, parsed into plain `InboundComment`s (no models).

Shapes (PLATFORMS-UGC.md §1b, §1c, §2):
- Instagram `comments` / `live_comments`: `entry[{id: our IG account, time, changes[{field, value:
  {id, text, from{id, username}, media{id, media_product_type}, parent_id}}]}]`. The value carries
  no time of its own: the entry's `time` (seconds) is when the comment was made.
- Instagram `mentions`: `value{media_id[, comment_id]}`: someone @mentioned us in a caption or a
  comment on media we do not own. Meta keeps nothing, so we store the ids and read the rest with
  `mentioned_media` / `mentioned_comment`.
- Page `feed`: `value{item: "comment", verb: add|edited|remove, comment_id, post_id, parent_id,
  from{id, name}, message, created_time}`.
"""

import datetime
from dataclasses import dataclass

from outreach.webhooks import from_seconds

COMMENT_FIELDS = {"comments": False, "live_comments": True}  # field -> live


@dataclass(frozen=True)
class InboundComment:
    """A comment on our media, or a mention of us on someone else's, as the webhook said it."""

    platform: str  # instagram, messenger (a Facebook Page)
    business_id: str  # our IG account or Page
    comment_id: str  # for a caption mention: empty
    media_id: str
    at: datetime.datetime
    text: str = ""
    from_id: str = ""
    from_username: str = ""
    from_name: str = ""
    parent_id: str = ""
    live: bool = False
    media_product_type: str = ""
    kind: str = "comment"  # comment, comment_edited, comment_removed, mention
    ad_id: str = ""


def parse_entry(platform: str, entry: dict) -> list[InboundComment]:
    """The comments and mentions in one webhook entry (other `changes` fields are ignored here)."""
    business_id = str(entry.get("id", ""))
    at = _entry_time(entry.get("time"))
    found = []
    for change in entry.get("changes", []) or []:
        field, value = change.get("field"), change.get("value") or {}
        if not isinstance(value, dict):
            continue
        if platform == "instagram" and field in COMMENT_FIELDS:
            found.append(_instagram_comment(business_id, value, at, live=COMMENT_FIELDS[field]))
        elif platform == "instagram" and field == "mentions":
            found.append(
                InboundComment(
                    "instagram",
                    business_id,
                    str(value.get("comment_id") or ""),
                    str(value.get("media_id") or ""),
                    at,
                    kind="mention",
                )
            )
        elif platform == "messenger" and field == "feed" and value.get("item") == "comment":
            found.append(_page_comment(business_id, value, at))
    return [comment for comment in found if comment.media_id or comment.comment_id]


def _instagram_comment(business_id: str, value: dict, at, *, live: bool) -> InboundComment:
    sender = value.get("from") or {}
    media = value.get("media") or {}
    return InboundComment(
        "instagram",
        business_id,
        str(value.get("id") or ""),
        str(media.get("id") or ""),
        at,
        text=str(value.get("text") or ""),
        from_id=str(sender.get("id") or ""),
        from_username=str(sender.get("username") or "").lower(),
        parent_id=str(value.get("parent_id") or ""),
        live=live or media.get("media_product_type") == "LIVE",
        media_product_type=str(media.get("media_product_type") or ""),
        ad_id=str(media.get("ad_id") or ""),
    )


def _page_comment(business_id: str, value: dict, at) -> InboundComment:
    sender = value.get("from") or {}
    verb = value.get("verb", "add")
    kind = {"edited": "comment_edited", "remove": "comment_removed"}.get(verb, "comment")
    created = value.get("created_time")
    post_id = str(value.get("post_id") or "")
    parent = str(value.get("parent_id") or "")
    return InboundComment(
        "messenger",
        business_id,
        str(value.get("comment_id") or ""),
        post_id,
        _entry_time(created) if created and kind == "comment" else at,  # an edit's time is the entry's
        text=str(value.get("message") or ""),
        from_id=str(sender.get("id") or ""),
        from_name=str(sender.get("name") or ""),
        parent_id="" if parent == post_id else parent,  # a top-level comment's parent is the post
        kind=kind,
    )


def _entry_time(value) -> datetime.datetime:
    """Entry times are Unix seconds (milliseconds in some test events); feed `created_time` may be ISO."""
    if isinstance(value, str) and not value.isdigit():
        try:
            return datetime.datetime.fromisoformat(value.replace("+0000", "+00:00"))
        except ValueError:
            return datetime.datetime.now(datetime.UTC)
    try:
        number = int(value)
    except (TypeError, ValueError):
        return datetime.datetime.now(datetime.UTC)
    return from_seconds(number // 1000 if number > 10**11 else number)
