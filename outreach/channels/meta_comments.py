"""Instagram comment, mention and UGC calls on the Graph API (PLATFORMS-UGC.md §1), on plain data.

Writes: a private reply (`POST /{ig-id}/messages` with `recipient.comment_id`), a public reply to a
comment on our media (`POST /{comment}/replies`), a comment on media that mentions us
(`POST /{ig-id}/mentions`), hiding a comment (`POST /{comment}` hide). Reads: `mentioned_media` and
`mentioned_comment` (never the comment node: it refuses comments we do not own), `/tags`, and the
hashtag search. Answers are mapped by `graph.read_response`, so errors mean the same as for DMs.

A refused private reply is classified by code plus message text, since Meta documents no codes for
"already replied" or "too late" ([U]): any non-retryable 4xx to a `comment_id` recipient means the
reply is used up.
"""

import re
from dataclasses import dataclass, replace

import requests

from outreach.channels import graph
from outreach.channels.base import Outcome, SenderConfig, SendResult, transport_failure

MAX_COMMENT_CHARS = 2200  # Instagram's comment and caption limit
MEDIA_FIELDS = "id,caption,media_type,media_url,thumbnail_url,permalink,timestamp,username,comments_count,like_count"
COMMENT_FIELDS = "id,text,timestamp,username,like_count,media{id,permalink,username}"
# Retrying these is pointless: the platform said the comment may not get (another) private reply.
SPENT = frozenset({Outcome.REJECTED, Outcome.INVALID_RECIPIENT, Outcome.WINDOW_CLOSED, Outcome.RECIPIENT_UNAVAILABLE})
ALREADY = re.compile(r"already\s+(been\s+)?repl|only\s+(be\s+)?repl\w*\s+(to\s+)?once|reply.*used", re.I)
TOO_LATE = re.compile(r"7\s*days|seven days|too old|expired|no longer|live.*(ended|over)|outside", re.I)


class GraphReadError(Exception):
    """A read the platform refused or never answered; `result` says why, as for a send."""

    def __init__(self, result: SendResult):
        super().__init__(f"{result.error_code}: {result.error_message}")
        self.result = result


@dataclass(frozen=True)
class Refusal:
    """Why a private reply was refused: used (a second one), late (7 days, ended Live), other."""

    spent: bool
    reason: str  # already_replied, too_late, refused, retry


def _url(config: SenderConfig, node: str, edge: str = "") -> str:
    return f"{config.base_url}/{config.api_version}/{node}" + (f"/{edge}" if edge else "")


def _auth(config: SenderConfig) -> tuple[dict, dict]:
    """Page tokens (Facebook Login) go as `access_token`; Instagram Login tokens as a Bearer header."""
    if config.platform == "messenger" or config.variant == "messenger_platform":
        return {}, {"access_token": config.access_token}
    return {"Authorization": f"Bearer {config.access_token}"}, {}


def _call(session: requests.Session, config: SenderConfig, method: str, url: str, *, body=None, params=None):
    headers, auth_params = _auth(config)
    try:
        response = session.request(
            method, url, json=body, params={**(params or {}), **auth_params}, headers=headers, timeout=config.timeout
        )
    except requests.RequestException as error:
        result = transport_failure(error)
        if config.access_token:
            result = replace(result, error_message=result.error_message.replace(config.access_token, "***"))
        return None, result
    return response, None


def _id_reader(body: dict) -> tuple[str, dict]:
    return str(body.get("id") or body.get("message_id") or ""), {}


def _write(session, config, url: str, body: dict) -> SendResult:
    response, failed = _call(session, config, "POST", url, body=body)
    return failed or graph.read_response(response, _id_reader)


def private_reply(session: requests.Session, config: SenderConfig, comment_id: str, text: str) -> SendResult:
    """One DM in answer to a comment. It opens no messaging window: only the person's answer does."""
    body = {"recipient": {"comment_id": comment_id}, "message": {"text": text}}
    response, failed = _call(session, config, "POST", graph.messages_url(config), body=body)
    return failed or graph.read_response(response, graph.send_api_accepted)


def classify_refusal(result: SendResult) -> Refusal:
    """Code plus message text (the codes for these cases are unconfirmed, PLATFORMS-UGC.md §1a)."""
    if result.outcome not in SPENT:
        return Refusal(False, "retry")
    text = result.error_message or ""
    subcode = str(result.details.get("error_subcode", ""))
    if ALREADY.search(text) or subcode in {"2534025", "10900", "10903"}:
        return Refusal(True, "already_replied")
    if TOO_LATE.search(text):
        return Refusal(True, "too_late")
    return Refusal(True, "refused")


def reply_publicly(session: requests.Session, config: SenderConfig, comment_id: str, text: str) -> SendResult:
    """A public reply to a (top-level) comment on our own media; the answer's id is the new comment."""
    return _write(session, config, _url(config, comment_id, "replies"), {"message": text})


def comment_on_mention(
    session: requests.Session, config: SenderConfig, media_id: str, text: str, comment_id: str = ""
) -> SendResult:
    """A comment on media that mentioned us: on the caption, or under the mentioning comment."""
    body = {"media_id": media_id, "message": text}
    if comment_id:
        body["comment_id"] = comment_id
    return _write(session, config, _url(config, config.account_id, "mentions"), body)


def hide_comment(session: requests.Session, config: SenderConfig, comment_id: str, hide: bool = True) -> SendResult:
    response, failed = _call(session, config, "POST", _url(config, comment_id), body={"hide": hide})
    return failed or graph.read_response(response, lambda body: ("ok" if body.get("success") else "", {}))


def _read(session, config, url: str, params: dict) -> dict:
    response, failed = _call(session, config, "GET", url, params=params)
    if failed:
        raise GraphReadError(failed)
    if response.status_code >= 300:
        raise GraphReadError(graph.read_response(response, _id_reader))
    try:
        return response.json()
    except ValueError:
        raise GraphReadError(SendResult(Outcome.REJECTED, error_code="not_json", error_message="Not JSON.")) from None


def mentioned_media(session: requests.Session, config: SenderConfig, media_id: str) -> dict:
    """The media whose caption mentions us (permalink, caption, type, thumbnail, time, author)."""
    fields = f"mentioned_media.media_id({media_id}){{{MEDIA_FIELDS}}}"
    return _read(session, config, _url(config, config.account_id), {"fields": fields}).get("mentioned_media") or {}


REPLY_FIELDS = "id,text,username,timestamp"


def mentioned_media_comments(session: requests.Session, config: SenderConfig, media_id: str) -> list[dict]:
    """The comments (and their replies, with `parent_id` added) on media whose caption mentions us.

    How an author's answer to our request comment is read when it does not @mention us: the
    `mentions` webhook fires only for an @mention, and `comments` only on our own media, so such a
    reply comes by no webhook. Texts read this way lose the `@` of a mention of us (Meta's note)."""
    fields = f"mentioned_media.media_id({media_id}){{comments{{{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}}}}}"
    media = _read(session, config, _url(config, config.account_id), {"fields": fields}).get("mentioned_media") or {}
    found = []
    for top in (media.get("comments") or {}).get("data", []):
        found.append({**top, "parent_id": ""})
        replies = (top.get("replies") or {}).get("data", [])
        found += [{**reply, "parent_id": str(top.get("id", ""))} for reply in replies]
    return found


def mentioned_comment(session: requests.Session, config: SenderConfig, comment_id: str) -> dict:
    """The comment that mentions us, with its media; readable only this way (not the comment node)."""
    fields = f"mentioned_comment.comment_id({comment_id}){{{COMMENT_FIELDS}}}"
    return _read(session, config, _url(config, config.account_id), {"fields": fields}).get("mentioned_comment") or {}


def tagged_media(session: requests.Session, config: SenderConfig) -> list[dict]:
    """Media others tagged us in (no webhook: polled); private media never appear, media_url may be absent."""
    return _read(session, config, _url(config, config.account_id, "tags"), {"fields": MEDIA_FIELDS}).get("data", [])


def hashtag_id(session: requests.Session, config: SenderConfig, hashtag: str) -> str:
    """The hashtag's id: this first query is what counts against the 30-per-7-days budget."""
    found = _read(session, config, _url(config, "ig_hashtag_search"), {"user_id": config.account_id, "q": hashtag})
    data = found.get("data") or []
    return str(data[0].get("id", "")) if data else ""


def hashtag_recent_media(session: requests.Session, config: SenderConfig, tag_id: str) -> list[dict]:
    """Public media with the hashtag from the last 24 h; `username` cannot be asked for."""
    fields = "id,caption,media_type,media_url,permalink,timestamp,comments_count,like_count"
    params = {"user_id": config.account_id, "fields": fields}
    return _read(session, config, _url(config, tag_id, "recent_media"), params).get("data", [])
