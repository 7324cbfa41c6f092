"""Comments and mentions coming in: stored once per comment id, threaded per post, the commenter
matched to a creator (or a new prospect); keyword rules answered; a reply under a post we asked
about read for consent; a mention's details read in a task (Meta keeps nothing)."""

import logging

from django.db import IntegrityError, transaction

from outreach.models import BrandPost, Comment, CommentRightsRequest, SenderAccount
from outreach.queue import enqueue
from outreach.services import comments as comment_services
from outreach.services import ugc
from outreach.webhooks.meta_comments import InboundComment

logger = logging.getLogger(__name__)


def handle_comment(incoming: InboundComment) -> Comment | None:
    """Record one comment webhook; None for a re-delivery (boosted posts send duplicates)."""
    sender = SenderAccount.objects.filter(platform=incoming.platform, account_id=incoming.business_id).first()
    if sender is None:  # an Instagram account reached through its Page is registered as instagram
        sender = SenderAccount.objects.filter(account_id=incoming.business_id).first()
    if incoming.kind == "mention":
        return _mention(incoming, sender)
    existing = Comment.objects.filter(platform=incoming.platform, comment_id=incoming.comment_id).first()
    if incoming.kind == "comment_removed":
        if existing:
            Comment.objects.filter(pk=existing.pk).update(removed=True)
        return None
    if incoming.kind == "comment_edited":
        if existing:
            Comment.objects.filter(pk=existing.pk).update(text=incoming.text)
            return None
    elif existing:
        return None
    ours = sender is not None and incoming.from_id == sender.account_id
    post, _ = BrandPost.objects.get_or_create(
        platform=incoming.platform,
        media_id=incoming.media_id,
        defaults={
            "sender_account": sender,
            "media_product_type": incoming.media_product_type,
            "live": incoming.live,
        },
    )
    creator = None
    if not ours and (incoming.from_id or incoming.from_username):
        account_platform = "instagram" if incoming.platform == "instagram" else "facebook"
        creator = ugc.creator_by_handle(
            account_platform, incoming.from_username, platform_user_id=incoming.from_id, name=incoming.from_name
        )
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                platform=incoming.platform,
                comment_id=incoming.comment_id,
                source=Comment.Source.OWN_MEDIA,
                post=post,
                sender_account=sender,
                media_id=incoming.media_id,
                parent_id=incoming.parent_id,
                from_id=incoming.from_id,
                from_username=incoming.from_username,
                creator=creator,
                text=incoming.text,
                created_time=incoming.at,
                live=incoming.live,
                ours=ours,
            )
    except IntegrityError:
        return None  # the same comment in another delivery at the same moment
    if ours:
        return comment
    if incoming.parent_id:
        asked = CommentRightsRequest.objects.filter(
            via_comment__comment_id=incoming.parent_id, status__in=ugc.OPEN
        ).select_related("permission_request")
        for request in asked:
            ugc.comment_answers(comment, request)
    comment_services.apply_keyword_rules(comment)
    return comment


def _mention(incoming: InboundComment, sender: SenderAccount | None) -> Comment | None:
    if sender is None:
        logger.warning("mention for unknown account %s", incoming.business_id)
        return None
    if not incoming.comment_id:
        ugc.caption_mentioned(sender, incoming.media_id)
        return None
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                platform=incoming.platform,
                comment_id=incoming.comment_id,
                source=Comment.Source.MENTION,
                sender_account=sender,
                media_id=incoming.media_id,
                created_time=incoming.at,
            )
    except IntegrityError:
        return None
    enqueue("outreach.tasks.read_comment_mention", comment.pk, name=f"mention-{comment.pk}")
    return comment
