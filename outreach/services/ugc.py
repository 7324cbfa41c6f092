"""UGC found where creators post it, and rights asked for in the comments (PLATFORMS-UGC.md §1c-§1e,
"What a CRM must do" 5-10).

Discovery: a caption or comment mention (webhook, details read with `mentioned_media` /
`mentioned_comment`), a tag (polled `/tags`: there is no webhook) or a hashtag find (polled inside
the 30-hashtags-per-7-days budget) becomes a `DiscoveredMedia`, and a crm `Content` of its author
once the author is known (hashtag finds carry no username).

Rights by comment: a mention gets a public comment through `/mentions`, a comment on our post a
reply through `/replies`; tags and hashtag finds cannot be commented on by API, so a person posts
the text. Wordings rotate and sends are paced (`COMMENT_REQUEST_INTERVAL_SECONDS`), through a small
outbox with the worker's claim-then-act. Only the post's author's reply can grant: the approval
hashtag grants (evidence: the comment id and text), a refusal declines, anything else moves the
request to "author replied" for a person; someone else's hashtag never grants.
"""

import datetime
import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from crm import access, handles
from crm.errors import DomainError, TransitionNotAllowed
from crm.models import Content, Creator, SocialAccount, UsageChannel
from crm.services import rights as crm_rights
from crm.services.ledger import Evidence
from outreach import classify
from outreach.channels import meta_comments as api
from outreach.channels.base import Outcome, new_session
from outreach.models import (
    Comment,
    CommentRightsRequest,
    DiscoveredMedia,
    FollowUpTask,
    HashtagSearch,
    SenderAccount,
)
from outreach.queue import enqueue
from outreach.services.comments import max_comment_chars, public_reply_call
from outreach.worker import sender_config

logger = logging.getLogger(__name__)

Source = DiscoveredMedia.Source
RStatus = CommentRightsRequest.Status
Method = CommentRightsRequest.Method
COMMENT_CHANNEL = "instagram_comment"  # ConsentEvent.channel for evidence given in a comment
TIKTOK_COMMENT_CHANNEL = "tiktok_comment"
HASHTAG_BUDGET = 30
HASHTAG_WINDOW = datetime.timedelta(days=7)
OPEN = (RStatus.SENT, RStatus.AUTHOR_REPLIED, RStatus.MANUAL)

# Several wordings, rotated: platforms flag the same comment repeated as spam (TINT, Emplifi).
WORDINGS = (
    "Hi @{author}! {brand} loves this post. May we share it on our {use}? Terms: {terms}. Reply {hashtag} to agree.",
    "@{author} this is wonderful! We'd love to feature it on {brand}'s {use}. If that's OK, "
    "reply {hashtag} (terms: {terms}).",
    "Love this, @{author}! Could {brand} reuse it on our {use}? Reply {hashtag} to say yes; the terms are at {terms}.",
    "@{author} {brand} here: may we repost this on our {use}? Reply {hashtag} to accept {terms}.",
)
# TikTok comments have at most 150 characters: shorter wordings, rotated the same way.
SHORT_WORDINGS = (
    "@{author} may {brand} share your video? Reply {hashtag} to agree: {terms}",
    "@{author} we'd love to repost this! Reply {hashtag} if OK ({terms})",
    "@{author} can {brand} feature it? Reply {hashtag} to say yes. Terms: {terms}",
)


def interval() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.COMMENT_REQUEST_INTERVAL_SECONDS)


# --- who posted it -------------------------------------------------------------------------------


def creator_by_handle(platform: str, username: str, *, platform_user_id: str = "", name: str = "") -> Creator:
    """The creator with this handle (or platform id), learning the id; a stranger becomes a prospect."""
    username = (username or "").lower().lstrip("@")
    accounts = SocialAccount.objects.select_related("creator").filter(platform=platform)
    account = accounts.filter(platform_user_id=platform_user_id).first() if platform_user_id else None
    if account is None and username:
        account = accounts.filter(handle=username).first()
        if account and platform_user_id and not account.platform_user_id:
            account.platform_user_id = platform_user_id
            account.save(update_fields=["platform_user_id", "updated_at"])
    if account:
        return account.creator
    creator = Creator.objects.create(
        name=name or username or f"New {platform} contact", notes=f"Found through a {platform} comment or post."
    )
    SocialAccount.objects.create(
        creator=creator,
        platform=platform,
        handle=username or ("id." + platform_user_id)[:24],
        platform_user_id=platform_user_id or None,
    )
    return creator


def _link_content(found: DiscoveredMedia) -> None:
    """Once the author is known: the crm post (by its permalink) and its creator."""
    if not found.username or not found.permalink:
        return
    creator = found.creator or creator_by_handle(found.platform, found.username)
    try:
        url = handles.normalize_content_url(found.permalink)
    except ValueError:
        return
    content, _ = Content.objects.get_or_create(
        url=url,
        defaults={
            "creator": creator,
            "platform": found.platform,
            "platform_post_id": found.media_id,
            "caption": found.caption,
            "media_url": found.media_url or found.thumbnail_url,
            "posted_at": found.posted_at,
        },
    )
    found.creator, found.content = content.creator, content
    found.save(update_fields=["creator", "content"])


def _apply_fields(found: DiscoveredMedia, data: dict) -> None:
    found.permalink = data.get("permalink") or found.permalink
    found.caption = data.get("caption") or found.caption
    found.media_type = data.get("media_type") or found.media_type
    found.media_url = data.get("media_url") or found.media_url
    found.thumbnail_url = data.get("thumbnail_url") or found.thumbnail_url
    found.username = (data.get("username") or found.username or "").lower()
    if data.get("timestamp"):
        found.posted_at = parse_datetime(data["timestamp"].replace("+0000", "+00:00")) or found.posted_at
    found.fetched_at = timezone.now()
    found.fetch_error = ""


# --- discovery -----------------------------------------------------------------------------------


def record_discovery(sender: SenderAccount, media_id: str, source: str, **fields) -> tuple[DiscoveredMedia, bool]:
    """Keep a find once per (account, media, source)."""
    try:
        with transaction.atomic():
            return DiscoveredMedia.objects.get_or_create(
                sender_account=sender, media_id=media_id, source=source, defaults=fields
            )
    except IntegrityError:
        return DiscoveredMedia.objects.get(sender_account=sender, media_id=media_id, source=source), False


def discover_by_link(sender: SenderAccount, permalink: str, username: str) -> DiscoveredMedia:
    """A post a person found on a platform without a discovery API (TikTok's mentions API is [U]):
    kept once per account and link, with its author, so rights can be asked under the author's
    comment on one of our videos (or by a person)."""
    if not (username or "").strip().lstrip("@"):
        raise DomainError({"username": "Name the post's author."})
    try:
        username = handles.normalize_handle(sender.platform, username)
    except handles.InvalidHandle as error:
        raise DomainError({"username": f"{error}."}) from None
    try:
        url = handles.normalize_content_url(permalink)
    except ValueError as error:
        raise DomainError({"permalink": f"The link {error}."}) from None
    found, _ = record_discovery(
        sender, url.rsplit("/", 1)[-1] or url, Source.LINK, platform=sender.platform, permalink=url, username=username
    )
    _link_content(found)
    return found


def caption_mentioned(sender: SenderAccount, media_id: str) -> DiscoveredMedia:
    """A caption mention came in: keep it, and read its details in a task."""
    found, created = record_discovery(sender, media_id, Source.CAPTION_MENTION)
    if created:
        enqueue("outreach.tasks.fetch_mentioned_media", found.pk, name=f"mentioned-media-{found.pk}")
    return found


def fetch_mentioned_media(discovered_id: int) -> bool:
    """Read a caption mention's permalink, caption, type, thumbnail, time and author."""
    found = DiscoveredMedia.objects.select_related("sender_account").get(pk=discovered_id)
    sender = found.sender_account
    try:
        with new_session(sender.base_url) as session:
            data = api.mentioned_media(session, sender_config(sender), found.media_id)
    except api.GraphReadError as error:
        found.fetch_error = str(error)[:2000]
        found.save(update_fields=["fetch_error"])
        return False
    _apply_fields(found, data)
    found.save()
    _link_content(found)
    return True


def comment_mentioned(comment_pk: int) -> Comment | None:
    """A comment mentioning us came in: read it (`mentioned_comment`), then either it answers one of
    our rights requests on that post, or the post becomes a find."""
    comment = Comment.objects.select_related("sender_account").get(pk=comment_pk)
    sender = comment.sender_account
    try:
        with new_session(sender.base_url) as session:
            data = api.mentioned_comment(session, sender_config(sender), comment.comment_id)
    except api.GraphReadError as error:
        logger.warning("mentioned comment %s could not be read: %s", comment.comment_id, error)
        return None
    media = data.get("media") or {}
    comment.text = data.get("text") or comment.text
    comment.from_username = (data.get("username") or comment.from_username).lower()
    comment.media_id = str(media.get("id") or comment.media_id)
    if data.get("timestamp"):
        comment.created_time = parse_datetime(data["timestamp"].replace("+0000", "+00:00")) or comment.created_time
    comment.creator = creator_by_handle("instagram", comment.from_username) if comment.from_username else None
    comment.save()
    open_requests = CommentRightsRequest.objects.filter(
        sender_account=sender, discovered__media_id=comment.media_id, status__in=OPEN
    ).select_related("permission_request", "discovered")
    answered = [r for r in open_requests if r.provider_comment_id != comment.comment_id]
    for request in answered:
        comment_answers(comment, request)
    if not answered:
        found, _ = record_discovery(
            sender, comment.media_id, Source.COMMENT_MENTION, mention_comment_id=comment.comment_id, comment=comment
        )
        _apply_fields(found, {"permalink": media.get("permalink"), "username": media.get("username")})
        found.save()
        _link_content(found)
    return comment


def poll_request_replies(sender: SenderAccount) -> int:
    """Answers to our request comments on posts that mention us, read from the post's comments.

    An author who replies "#YesAcme" without @mentioning us triggers no webhook (`mentions` needs an
    @mention, `comments` covers only our own media), so the open requests' posts are read through
    `mentioned_media{comments{...,replies}}`. Each comment is stored once (a webhook may have brought
    it already); only the author's words after we asked count. Returns how many answers were read."""
    open_requests = CommentRightsRequest.objects.filter(
        sender_account=sender,
        method=Method.MENTION_REPLY,
        status__in=(RStatus.SENT, RStatus.AUTHOR_REPLIED),
    ).select_related("discovered", "permission_request")
    answered = 0
    with new_session(sender.base_url) as session:
        for asked in open_requests:
            try:
                items = api.mentioned_media_comments(session, sender_config(sender), asked.discovered.media_id)
            except api.GraphReadError as error:
                logger.warning("comments of mentioned media %s unreadable: %s", asked.discovered.media_id, error)
                continue
            since = asked.sent_at.replace(microsecond=0) if asked.sent_at else None
            for item in items:
                username = str(item.get("username") or "").lower()
                when = parse_datetime(str(item.get("timestamp", "")).replace("+0000", "+00:00")) or timezone.now()
                if username != asked.author_username.lower() or (since and when < since):
                    continue
                try:
                    with transaction.atomic():
                        comment = Comment.objects.create(
                            platform=sender.platform,
                            comment_id=str(item.get("id")),
                            source=Comment.Source.MENTION,
                            sender_account=sender,
                            media_id=asked.discovered.media_id,
                            parent_id=str(item.get("parent_id") or ""),
                            from_username=username,
                            creator=creator_by_handle("instagram", username),
                            text=str(item.get("text") or ""),
                            created_time=when,
                        )
                except IntegrityError:
                    continue  # already stored (a webhook brought it, or an earlier poll)
                comment_answers(comment, asked)
                answered += 1
                asked.refresh_from_db(fields=["status"])
                if asked.status not in OPEN:
                    break
    return answered


def poll_tagged(sender: SenderAccount) -> int:
    """Media others tagged us in (no webhook); returns how many are new."""
    with new_session(sender.base_url) as session:
        items = api.tagged_media(session, sender_config(sender))
    new = 0
    for item in items:
        found, created = record_discovery(sender, str(item.get("id")), Source.TAGGED)
        _apply_fields(found, item)
        found.save()
        _link_content(found)
        new += created
    return new


def hashtag_budget(sender: SenderAccount, now: datetime.datetime | None = None) -> dict:
    """Unique hashtags queried in the rolling 7 days, and what remains of the 30."""
    since = (now or timezone.now()) - HASHTAG_WINDOW
    current = list(HashtagSearch.objects.filter(sender_account=sender, first_queried_at__gt=since))
    return {
        "used": len(current),
        "remaining": max(0, HASHTAG_BUDGET - len(current)),
        "limit": HASHTAG_BUDGET,
        "hashtags": [
            {
                "hashtag": s.hashtag,
                "first_queried_at": s.first_queried_at,
                "frees_at": s.first_queried_at + HASHTAG_WINDOW,
            }
            for s in current
        ],
    }


def search_hashtag(sender: SenderAccount, hashtag: str, *, actor=None) -> HashtagSearch:
    """Start (or keep) following a hashtag; a new one spends one of the 30 per 7 days, refused when none is left."""
    tag = (hashtag or "").strip().lstrip("#").lower()
    if not tag or not tag.replace("_", "").isalnum():
        raise DomainError({"hashtag": "Give a hashtag of letters, digits or _ (no emoji)."})
    now = timezone.now()
    with transaction.atomic():
        SenderAccount.objects.select_for_update().filter(pk=sender.pk).first()
        search = HashtagSearch.objects.filter(sender_account=sender, hashtag=tag).first()
        if search and search.first_queried_at > now - HASHTAG_WINDOW:
            return search  # re-querying is free and does not restart the clock
        if hashtag_budget(sender, now)["remaining"] <= 0:
            raise DomainError({"hashtag": f"{HASHTAG_BUDGET} hashtags were queried in the last 7 days; wait."})
        with new_session(sender.base_url) as session:
            try:
                tag_id = api.hashtag_id(session, sender_config(sender), tag)
            except api.GraphReadError as error:
                raise DomainError({"hashtag": f"The platform refused: {error}"}) from None
        if search is None:
            search = HashtagSearch(sender_account=sender, hashtag=tag)
        search.hashtag_id, search.first_queried_at, search.active = tag_id, now, True
        search.save()
    return search


def poll_hashtag(search: HashtagSearch) -> int:
    """Recent media (last 24 h) with a followed hashtag; no username comes with them."""
    sender = search.sender_account
    with new_session(sender.base_url) as session:
        items = api.hashtag_recent_media(session, sender_config(sender), search.hashtag_id)
    new = 0
    for item in items:
        found, created = record_discovery(sender, str(item.get("id")), Source.HASHTAG, hashtag=search.hashtag)
        _apply_fields(found, item)
        found.save()
        new += created
    search.last_polled_at = timezone.now()
    search.save(update_fields=["last_polled_at"])
    return new


# --- rights requests in the comments -------------------------------------------------------------


def _method_for(found: DiscoveredMedia, via_comment: Comment | None) -> str:
    if via_comment is not None:
        return Method.COMMENT_REPLY
    if found.source in {Source.CAPTION_MENTION, Source.COMMENT_MENTION}:
        return Method.MENTION_REPLY
    return Method.MANUAL  # "You cannot comment on photos you were tagged in", nor on hashtag media


def wording(variant: int, platform: str = "instagram", **values) -> str:
    choices = SHORT_WORDINGS if platform == "tiktok" else WORDINGS
    return choices[variant % len(choices)].format(**values)


def request_rights_by_comment(
    found: DiscoveredMedia,
    *,
    actor,
    scope: crm_rights.Scope,
    terms_url: str,
    terms_text: str,
    approval_hashtag: str = "",
    campaign=None,
    brand: str = "",
    author_username: str = "",
    via_comment: Comment | None = None,
) -> CommentRightsRequest:
    """Ask the post's author for rights in a comment: a permission request and its comment, both or neither.

    `via_comment`: the author's comment on one of our posts, to answer there (the way to reach the
    author of a tagged post or a hashtag find by API)."""
    if author_username and not found.username:
        found.username = author_username.lower().lstrip("@")
        found.save(update_fields=["username"])
        _link_content(found)
    if found.content is None:
        raise DomainError(
            {"author_username": "The post's author is not known yet (hashtag finds have no username): name them."}
        )
    if found.content.campaign is not None and not access.can_work_on(found.content.campaign, actor):
        # The request would join the post's campaign: another team's post reads as an unknown one.
        raise DomainError({"discovered": ["No post you work on has this id."]})
    if CommentRightsRequest.objects.filter(discovered=found, status__in=[*OPEN, RStatus.PENDING]).exists():
        raise DomainError({"discovered": "A rights request for this post is already open."})
    if via_comment is not None and (
        via_comment.ours
        or via_comment.source != Comment.Source.OWN_MEDIA
        or via_comment.from_username.lower() != found.username.lower()
        or via_comment.platform != found.sender_account.platform
    ):
        raise DomainError({"via_comment": f"Choose a comment by @{found.username} on one of our posts."})
    sender = found.sender_account
    method = _method_for(found, via_comment)
    with transaction.atomic():
        SenderAccount.objects.select_for_update().filter(pk=sender.pk).first()  # pacing and rotation, one at a time
        request = crm_rights.request_permission(
            found.content,
            actor=actor,
            scope=scope,
            terms_url=terms_url,
            terms_text=terms_text,
            approval_hashtag=approval_hashtag,
            campaign=campaign,
        )
        variant = CommentRightsRequest.objects.filter(sender_account=sender).count() % len(WORDINGS)
        use = " and ".join(UsageChannel(c).label.lower() for c in request.channels)
        text = wording(
            variant,
            sender.platform,
            author=found.username,
            brand=brand or (request.campaign.brand if request.campaign else sender.name),
            use=use,
            terms=request.terms_url,
            hashtag=request.approval_hashtag,
        )
        limit = max_comment_chars(sender.platform)
        if len(text) > limit:
            raise DomainError(
                {"terms_url": f"The request comment would be longer than the {limit} characters the platform allows."}
            )
        now = timezone.now()
        last = CommentRightsRequest.objects.filter(sender_account=sender).exclude(method=Method.MANUAL)
        last_due = last.aggregate(latest=Max("due_at"))["latest"]
        due = max(now, last_due + interval()) if last_due else now
        asked = CommentRightsRequest.objects.create(
            permission_request=request,
            discovered=found,
            sender_account=sender,
            method=method,
            via_comment=via_comment,
            author_username=found.username,
            text=text,
            variant=variant,
            status=RStatus.MANUAL if method == Method.MANUAL else RStatus.PENDING,
            due_at=due,
            created_by=actor,
        )
        if method != Method.MANUAL and due <= now:
            enqueue("outreach.tasks.send_due_comment_requests", name="comment-requests")
    return asked


def send_due_comment_requests(now: datetime.datetime | None = None) -> int:
    """Post the request comments whose time has come, each claimed before the call; returns how many were posted."""
    now = now or timezone.now()
    reap_stale_comment_requests(now)
    posted = 0
    due = CommentRightsRequest.objects.filter(status=RStatus.PENDING, due_at__lte=now).order_by("due_at", "id")
    for asked in list(due.values_list("pk", flat=True)[:50]):
        posted += deliver_comment_request(asked)
    return posted


def deliver_comment_request(pk: int) -> bool:
    token = uuid.uuid4().hex
    claimed = CommentRightsRequest.objects.filter(pk=pk, status=RStatus.PENDING).update(
        status=RStatus.SENDING, claim_token=token, send_started_at=timezone.now()
    )
    if not claimed:
        return False
    asked = CommentRightsRequest.objects.select_related(
        "discovered", "sender_account", "permission_request", "via_comment"
    ).get(pk=pk)
    found, sender = asked.discovered, asked.sender_account
    with new_session(sender.base_url) as session:
        config = sender_config(sender)
        if asked.method == Method.MENTION_REPLY:
            result = api.comment_on_mention(session, config, found.media_id, asked.text, found.mention_comment_id)
        else:
            via = asked.via_comment
            result = public_reply_call(session, sender, via.media_id, via.parent_id or via.comment_id, asked.text)
    mine = CommentRightsRequest.objects.filter(pk=pk, claim_token=token, status=RStatus.SENDING)
    if result.sent:
        sent_at = timezone.now()
        mine.update(status=RStatus.SENT, provider_comment_id=result.provider_message_id, sent_at=sent_at)
        crm_rights.mark_permission_requested(asked.permission_request, request_text=asked.text, sent_at=sent_at)
        Comment.objects.get_or_create(
            platform=sender.platform,
            comment_id=result.provider_message_id,
            defaults={
                "source": Comment.Source.OWN_MEDIA if asked.via_comment else Comment.Source.MENTION,
                "post": asked.via_comment.post if asked.via_comment else None,
                "sender_account": sender,
                "media_id": asked.via_comment.media_id if asked.via_comment else found.media_id,
                "parent_id": asked.via_comment.comment_id if asked.via_comment else found.mention_comment_id,
                "from_id": sender.account_id,
                "text": asked.text,
                "created_time": sent_at,
                "ours": True,
            },
        )
        return True
    if result.outcome == Outcome.RETRY:  # refused for now (rate limit, 5xx): nothing was posted
        wait = datetime.timedelta(seconds=result.retry_after or 600)
        mine.update(status=RStatus.PENDING, due_at=timezone.now() + wait, error_code=result.error_code)
    elif result.outcome == Outcome.UNCERTAIN:
        mine.update(status=RStatus.NEEDS_REVIEW, error_code=result.error_code, error_message=result.error_message)
    else:
        mine.update(status=RStatus.FAILED, error_code=result.error_code, error_message=result.error_message)
    return False


def reap_stale_comment_requests(now: datetime.datetime) -> int:
    """A request left `sending` by a stopped worker may have been posted: a person looks, it is never resent."""
    lease = datetime.timedelta(seconds=settings.OUTREACH_LEASE_SECONDS)
    return CommentRightsRequest.objects.filter(status=RStatus.SENDING, send_started_at__lt=now - lease).update(
        status=RStatus.NEEDS_REVIEW, error_message="Left mid-send: check on Instagram whether it was posted."
    )


def mark_comment_request_posted(asked: CommentRightsRequest, *, actor) -> CommentRightsRequest:
    """A person posted the request comment by hand (tags, hashtag finds): the request is now asked."""
    if asked.status != RStatus.MANUAL:
        wrong = f"Only a request waiting for a person can be marked posted; this one is {asked.status}."
        raise DomainError({"status": wrong})
    now = timezone.now()
    with transaction.atomic():
        updated = CommentRightsRequest.objects.filter(pk=asked.pk, status=RStatus.MANUAL).update(
            status=RStatus.SENT, sent_at=now, sent_by=actor
        )
        if not updated:
            raise DomainError({"status": "Someone else marked it meanwhile."})
        crm_rights.mark_permission_requested(asked.permission_request, request_text=asked.text, sent_at=now)
    asked.refresh_from_db()
    return asked


def comment_answers(comment: Comment, asked: CommentRightsRequest) -> str:
    """A comment under a post we asked about: only the post's author decides. Returns what it did."""
    author = asked.author_username.lower()
    if not author or comment.from_username.lower() != author:
        return "ignored: not the post's author"
    request = asked.permission_request
    verdict = classify.classify(comment.text, [request.approval_hashtag])
    evidence = Evidence(
        channel=TIKTOK_COMMENT_CHANNEL if comment.platform == "tiktok" else COMMENT_CHANNEL,
        message_id=comment.comment_id,
        text=comment.text,
        rule=f"{verdict.rule} in a comment by the post's author @{author}",
        occurred_at=comment.created_time,
    )
    if verdict.outcome in {classify.GRANTED, classify.DECLINED}:
        verb = crm_rights.grant_rights if verdict.outcome == classify.GRANTED else crm_rights.decline_rights
        try:
            verb(request, actor=None, evidence=evidence)
        except TransitionNotAllowed as error:  # e.g. posted by hand but never marked posted: a person decides
            FollowUpTask.objects.create(
                creator=request.creator,
                reason=f"@{author} answered a rights request in a comment, but {error.messages[0]}"[:300],
                due_at=timezone.now(),
            )
            return "needs_review"
        CommentRightsRequest.objects.filter(pk=asked.pk).update(status=RStatus.ANSWERED)
        return verdict.outcome
    CommentRightsRequest.objects.filter(pk=asked.pk).update(status=RStatus.AUTHOR_REPLIED)
    FollowUpTask.objects.create(
        creator=request.creator,
        reason=f"@{author} replied to our rights request without {request.approval_hashtag}: read it and decide"[:300],
        due_at=timezone.now(),
    )
    return "author_replied"
