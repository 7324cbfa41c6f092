"""TikTok comments on the brand's own videos, polled (PLATFORMS-UGC.md §3, "What a CRM must do" 14-15).

TikTok's comment webhooks exist but their payload fields are [U], so the CRM lists the brand's videos
and their comments through the Business API on a schedule (`outreach.tasks.poll_tiktok_comments`).
Each comment is stored once per comment id (the same unique row as Meta's), threaded on its video
(a `BrandPost`), and its author matched to a creator by TikTok username or id (or made a prospect).
A reply under one of our rights-request replies is read for consent like an Instagram one: only the
post's author's hashtag grants. TikTok has no private replies and no keyword-rule DMs: a comment opens
no conversation, so the services refuse those before any platform call.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from outreach.channels import tiktok_comments as api
from outreach.channels.base import new_session
from outreach.models import BrandPost, Comment, CommentRightsRequest, SenderAccount
from outreach.services import ugc
from outreach.worker import sender_config

logger = logging.getLogger(__name__)

PLATFORM = "tiktok"


def poll_comments(sender: SenderAccount) -> int:
    """Every video of the account and every comment on it, following TikTok's cursors; returns how
    many comments were new. A read TikTok refuses raises `api.TikTokReadError` (nothing half-stored
    matters: each comment is its own once-only row, so the next poll carries on)."""
    config = sender_config(sender)
    new = 0
    with new_session(sender.base_url) as session:
        cursor, more = 0, True
        while more:
            page = api.list_videos(session, config, cursor)
            for video in page.items:
                post = _post_of(sender, video)
                for comment in api.all_comments(session, config, video.video_id):
                    new += record_comment(sender, post, comment) is not None
            cursor, more = page.cursor, page.has_more and bool(page.items)
    return new


def _post_of(sender: SenderAccount, video: api.Video) -> BrandPost:
    post, created = BrandPost.objects.get_or_create(
        platform=PLATFORM,
        media_id=video.video_id,
        defaults={
            "sender_account": sender,
            "media_product_type": "VIDEO",
            "permalink": video.share_url[:500],
            "caption": video.caption,
        },
    )
    if not created and (post.caption != video.caption or (video.share_url and not post.permalink)):
        post.caption, post.permalink = video.caption, post.permalink or video.share_url[:500]
        post.save(update_fields=["caption", "permalink"])
    return post


def record_comment(sender: SenderAccount, post: BrandPost, incoming: api.TikTokComment) -> Comment | None:
    """Store one listed comment once; None when it was already known (its hidden flag is kept in step)."""
    existing = Comment.objects.filter(platform=PLATFORM, comment_id=incoming.comment_id).first()
    if existing is not None:
        if existing.hidden != incoming.hidden:
            Comment.objects.filter(pk=existing.pk).update(hidden=incoming.hidden)
        return None
    ours = incoming.owner or (bool(incoming.user_id) and incoming.user_id == sender.account_id)
    creator = None
    if not ours and (incoming.username or incoming.user_id):
        creator = ugc.creator_by_handle(PLATFORM, incoming.username, platform_user_id=incoming.user_id)
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                platform=PLATFORM,
                comment_id=incoming.comment_id,
                source=Comment.Source.OWN_MEDIA,
                post=post,
                sender_account=sender,
                media_id=incoming.video_id,
                parent_id=incoming.parent_id,
                from_id=incoming.user_id,
                from_username=incoming.username,
                creator=creator,
                text=incoming.text,
                created_time=incoming.created or timezone.now(),
                hidden=incoming.hidden,
                ours=ours,
            )
    except IntegrityError:
        return None  # another poll stored it at the same moment
    if ours or not incoming.parent_id:
        return comment
    asked = CommentRightsRequest.objects.filter(
        via_comment__platform=PLATFORM, via_comment__comment_id=incoming.parent_id, status__in=ugc.OPEN
    ).select_related("permission_request")
    for request in asked:
        if request.sent_at is None or comment.created_time >= request.sent_at.replace(microsecond=0):  # said after
            ugc.comment_answers(comment, request)
    return comment
