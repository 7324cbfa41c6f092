"""Answering comments on the brand's posts: a public reply, hiding, and the one private reply
(a DM in answer to a comment) Meta allows per comment, within 7 days, on a Live only while it is
live, under 750 an hour per account (PLATFORMS-UGC.md §1a, §1f, "What a CRM must do" 1-4).

A private reply is a `PrivateReply` row, unique per comment, created before the platform is called:
a second or late one is refused here, without a call. The send is claimed (pending -> sending under
a token, `send_started_at` committed just before the call), so a task run twice sends once, and a
call that got no answer goes to `needs_review`, never out again. It opens no messaging window.
"""

import datetime
import re
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.errors import DomainError
from outreach import templating
from outreach.channels import meta_comments as api
from outreach.channels import tiktok_comments as tiktok_api
from outreach.channels.base import Outcome, new_session
from outreach.models import (
    BrandPost,
    Comment,
    FollowUpTask,
    KeywordRule,
    MessageTemplate,
    PrivateReply,
    SenderAccount,
)
from outreach.queue import enqueue
from outreach.services.rendering import render_for
from outreach.services.templates import ensure_usable
from outreach.worker import sender_config

PRIVATE_REPLY_DAYS = 7
PRIVATE_REPLIES_PER_HOUR = 750  # Meta's limit per account for comments on posts and reels
OUR_HOURLY_CAP = 700  # our own, a margin under Meta's
NO_TIKTOK_PRIVATE_REPLIES = (
    "TikTok has no private replies: a comment opens no conversation. Reply in public, or wait for the "
    "person to message the brand."
)
Status = PrivateReply.Status


def private_reply_problem(comment: Comment, now: datetime.datetime | None = None) -> str:
    """Why this comment may not get a private reply now ("" when it may)."""
    now = now or timezone.now()
    if comment.platform == "tiktok":
        return NO_TIKTOK_PRIVATE_REPLIES
    if comment.ours:
        return "This comment is the brand's own."
    if comment.removed:
        return "The comment was removed."
    if comment.reply_used_at or PrivateReply.objects.filter(comment=comment).exists():
        return "This comment already had its one private reply."
    if now - comment.created_time > datetime.timedelta(days=PRIVATE_REPLY_DAYS):
        return f"Private replies are allowed within {PRIVATE_REPLY_DAYS} days of the comment; this one is older."
    if comment.live and (comment.post is None or comment.post.live_ended_at is not None or not comment.post.live):
        return "The Live this comment was made on has ended: private replies are allowed only while it is live."
    return ""


def _sender_of(comment: Comment) -> SenderAccount:
    sender = comment.sender_account or (comment.post.sender_account if comment.post else None)
    if sender is None:
        raise DomainError({"comment": "No sender account of ours is connected for this comment's account."})
    return sender


def replies_in_last_hour(sender: SenderAccount, now: datetime.datetime | None = None) -> int:
    since = (now or timezone.now()) - datetime.timedelta(hours=1)
    return PrivateReply.objects.filter(sender_account=sender, created_at__gte=since).count()


def send_private_reply(
    comment: Comment, *, text: str, actor=None, automatic: bool = False, keyword_rule: KeywordRule | None = None
) -> PrivateReply:
    """Answer a comment with one DM; refused (a DomainError, no platform call) when it is not allowed."""
    if comment.platform == "tiktok":
        raise DomainError({"comment": NO_TIKTOK_PRIVATE_REPLIES})
    text = (text or "").strip()
    if not text:
        raise DomainError({"text": "Write the private reply."})
    problem = templating.check_length(comment.platform, text)
    if problem:
        raise DomainError({"text": problem})
    sender = _sender_of(comment)
    with transaction.atomic():
        SenderAccount.objects.select_for_update().filter(pk=sender.pk).first()  # one counter at a time
        comment = Comment.objects.select_for_update(of=("self",)).select_related("post").get(pk=comment.pk)
        problem = private_reply_problem(comment)
        if problem:
            raise DomainError({"comment": problem})
        if replies_in_last_hour(sender) >= OUR_HOURLY_CAP:
            raise DomainError({"comment": f"{OUR_HOURLY_CAP} private replies went out in the last hour; try later."})
        try:
            with transaction.atomic():
                reply = PrivateReply.objects.create(
                    comment=comment,
                    sender_account=sender,
                    creator=comment.creator,
                    text=text,
                    automatic=automatic,
                    keyword_rule=keyword_rule,
                    created_by=actor,
                )
        except IntegrityError:
            already = "This comment (or this commenter, for this rule) already had its reply."
            raise DomainError({"comment": already}) from None
        enqueue("outreach.tasks.deliver_private_reply", reply.pk, name=f"private-reply-{reply.pk}")
    return reply


def deliver_private_reply(reply_id: int) -> str:
    """Claim the reply and call the platform once; returns the reply's status afterwards."""
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = PrivateReply.objects.filter(pk=reply_id, status=Status.PENDING).update(
        status=Status.SENDING, claim_token=token, send_started_at=now
    )
    if not claimed:
        return PrivateReply.objects.filter(pk=reply_id).values_list("status", flat=True).first() or ""
    reply = PrivateReply.objects.select_related("comment", "sender_account").get(pk=reply_id)
    comment = reply.comment
    with new_session(reply.sender_account.base_url) as session:
        result = api.private_reply(session, sender_config(reply.sender_account), comment.comment_id, reply.text)
    fields: dict = {"error_code": result.error_code, "error_message": result.error_message}
    if result.sent:
        fields.update(status=Status.SENT, provider_message_id=result.provider_message_id, sent_at=timezone.now())
    elif result.outcome == Outcome.UNCERTAIN:
        fields["status"] = Status.NEEDS_REVIEW
    elif result.outcome == Outcome.RETRY:
        # Our one try is spent (never resent automatically: the platform may count it); a person decides.
        fields["status"] = Status.NEEDS_REVIEW
    else:
        refusal = api.classify_refusal(result)
        fields.update(status=Status.FAILED, error_code=f"{refusal.reason}:{result.error_code}")
    PrivateReply.objects.filter(pk=reply_id, claim_token=token).update(**fields)
    if fields["status"] == Status.FAILED and comment.live and fields["error_code"].startswith("too_late"):
        BrandPost.objects.filter(pk=comment.post_id, live_ended_at__isnull=True).update(live_ended_at=timezone.now())
    if fields["status"] in {Status.SENT, Status.FAILED}:
        # Sent, or refused for good: the comment's one reply is used either way.
        Comment.objects.filter(pk=comment.pk, reply_used_at__isnull=True).update(reply_used_at=timezone.now())
    return fields["status"]


def reply_publicly(comment: Comment, *, text: str, actor) -> Comment:
    """A public reply under a comment on our own post (not on a Live, not to a hidden comment)."""
    text = (text or "").strip()
    if not text:
        raise DomainError({"text": "Write the reply."})
    limit = max_comment_chars(comment.platform)
    if len(text) > limit:
        raise DomainError({"text": f"A comment has at most {limit} characters here."})
    if comment.source != Comment.Source.OWN_MEDIA:
        raise DomainError({"comment": "Only comments on our own posts can be replied to this way."})
    if comment.live:
        raise DomainError({"comment": "Comments on a Live cannot get a public reply; send a private reply."})
    if comment.hidden:
        raise DomainError({"comment": "Hidden comments cannot be replied to; unhide it first."})
    target = comment.parent_id or comment.comment_id  # a reply to a reply lands on the top-level comment
    sender = _sender_of(comment)
    with new_session(sender.base_url) as session:
        result = public_reply_call(session, sender, comment.media_id, target, text)
    if not result.sent:
        raise DomainError({"comment": f"The platform refused the reply: {result.error_message or result.error_code}"})
    Comment.objects.filter(pk=comment.pk).update(public_reply_id=result.provider_message_id)
    reply, _ = Comment.objects.get_or_create(
        platform=comment.platform,
        comment_id=result.provider_message_id,
        defaults={
            "post": comment.post,
            "sender_account": sender,
            "media_id": comment.media_id,
            "parent_id": target,
            "from_id": sender.account_id,
            "text": text,
            "created_time": timezone.now(),
            "ours": True,
        },
    )
    return reply


def max_comment_chars(platform: str) -> int:
    """A public comment's length limit: TikTok's 150 characters, Instagram's 2200."""
    return tiktok_api.MAX_COMMENT_CHARS if platform == "tiktok" else api.MAX_COMMENT_CHARS


def public_reply_call(session, sender: SenderAccount, media_id: str, comment_id: str, text: str):
    """The platform call for a public reply under a comment on our own media (plain data back)."""
    if sender.platform == "tiktok":
        return tiktok_api.reply_publicly(session, sender_config(sender), media_id, comment_id, text)
    return api.reply_publicly(session, sender_config(sender), comment_id, text)


def hide_comment(comment: Comment, *, hide: bool = True, actor) -> Comment:
    """Hide (or unhide) a comment on our post; the platform is told first."""
    if comment.source != Comment.Source.OWN_MEDIA:
        raise DomainError({"comment": "Only comments on our own posts can be hidden."})
    sender = _sender_of(comment)
    with new_session(sender.base_url) as session:
        if comment.platform == "tiktok":
            result = tiktok_api.hide_comment(session, sender_config(sender), comment.media_id, comment.comment_id, hide)
        else:
            result = api.hide_comment(session, sender_config(sender), comment.comment_id, hide)
    if not result.sent:
        raise DomainError({"comment": f"The platform refused: {result.error_message or result.error_code}"})
    comment.hidden = hide
    comment.save(update_fields=["hidden"])
    return comment


def matching_rule(comment: Comment) -> KeywordRule | None:
    """The first active keyword rule (the post's own before the account's) whose keyword is a word of the comment."""
    if comment.ours or not comment.text or comment.sender_account_id is None or comment.platform == "tiktok":
        return None  # TikTok: no private replies, so no rule can answer there
    rules = KeywordRule.objects.filter(sender_account_id=comment.sender_account_id, active=True).select_related(
        "template"
    )
    rules = [r for r in rules if r.post_id in (None, comment.post_id)]
    rules.sort(key=lambda r: (r.post_id is None, r.pk))
    for rule in rules:
        if templating_word(rule.keyword).search(comment.text):
            return rule
    return None


def templating_word(keyword: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(keyword.strip()) + r"(?!\w)", re.I)


def apply_keyword_rules(comment: Comment) -> PrivateReply | None:
    """Lead generation: the matching rule's private reply goes out automatically, at most once per
    commenter and rule, marked automatic; a person always gets a follow-up task."""
    rule = matching_rule(comment)
    if rule is None or comment.creator is None:
        return None
    if PrivateReply.objects.filter(keyword_rule=rule, creator=comment.creator).exists():
        return None
    reason = ""
    reply = None
    try:
        _, text = render_for(rule.template, comment.creator, platform=comment.platform, sender=rule.sender_account)
        text = f"{settings.AUTO_REPLY_PREFIX} {text}".strip()  # automatic replies say so (Messenger policy, bot laws)
        reply = send_private_reply(comment, text=text, automatic=True, keyword_rule=rule)
        reason = f"Automatic private reply for keyword {rule.keyword!r}: follow up by hand"
    except (DomainError, templating.RenderError) as error:
        reason = f"Keyword {rule.keyword!r} matched but no automatic reply went out ({error}): answer by hand"
    FollowUpTask.objects.create(
        creator=comment.creator,
        assignee=comment.creator.owner or rule.sender_account.owner,
        reason=reason[:300],
        due_at=timezone.now() + datetime.timedelta(hours=settings.AUTO_REPLY_FOLLOW_UP_HOURS),
    )
    return reply


def save_keyword_rule(*, actor, sender_account: SenderAccount, keyword: str, template: MessageTemplate, post=None):
    """A keyword -> private reply rule; the keyword is a word of its own, the template must render."""
    if sender_account.platform == "tiktok":
        raise DomainError({"sender_account": "TikTok has no private replies, so a keyword rule has nothing to send."})
    ensure_usable(template)
    keyword = (keyword or "").strip()
    if not keyword or any(ch.isspace() for ch in keyword):
        raise DomainError({"keyword": "Give one word, e.g. GUIDE."})
    if post is not None and post.sender_account_id not in (None, sender_account.pk):
        raise DomainError({"post": "This post belongs to another account."})
    return KeywordRule.objects.create(
        sender_account=sender_account, post=post, keyword=keyword, template=template, created_by=actor
    )
