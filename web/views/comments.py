"""The comments pages: the brand's posts with their comments (reply publicly, reply privately,
hide, ask for rights), the UGC found by mention, tag or hashtag (ask for rights in a comment, or
post it by hand where the API may not), the keyword rules and the hashtag budget. Every rule is in
outreach/services/comments.py and ugc.py; these views only read forms and show results."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from crm import access
from crm.models import UsageChannel
from crm.services.rights import Scope
from outreach.models import (
    BrandPost,
    Comment,
    CommentRightsRequest,
    DiscoveredMedia,
    KeywordRule,
    MessageTemplate,
    SenderAccount,
)
from outreach.services import comments as comment_services
from outreach.services import ugc
from web.access import get_visible, get_workable, page
from web.forms import error_text
from web.work import safe_back

LIST_SIZE = 50


def _number(value) -> int:
    """A posted id; anything else finds nothing (a 404, not a 500)."""
    return int(value) if (value or "").isdigit() else 0


def _done(request, action, success: str, default: str):
    """Run a service call; flash its success or its errors by field; go back."""
    try:
        action()
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, success)
    return redirect(safe_back(request, default))


@page
def comments_home(request):
    """Posts with comments, UGC found, rights requests for a person to post, keyword rules, the hashtag budget."""
    user = request.user
    posts = access.visible(BrandPost.objects.annotate(n=Count("comments")), user).order_by("-created_at")[:LIST_SIZE]
    found = access.visible(DiscoveredMedia.objects.select_related("creator"), user).order_by("-discovered_at")
    to_post = access.visible(
        CommentRightsRequest.objects.filter(status=CommentRightsRequest.Status.MANUAL).select_related("discovered"),
        user,
    )
    senders = list(SenderAccount.objects.filter(platform="instagram").order_by("name"))
    context = {
        "section": "comments",
        "posts": posts,
        "found": found[:LIST_SIZE],
        "to_post": to_post[:LIST_SIZE],
        "asked": access.visible(CommentRightsRequest.objects.exclude(status=CommentRightsRequest.Status.MANUAL), user)
        .select_related("discovered", "permission_request")
        .order_by("-created_at")[:LIST_SIZE],
        "rules": access.visible(KeywordRule.objects.select_related("template", "post", "sender_account"), user),
        "budgets": [(sender, ugc.hashtag_budget(sender)) for sender in senders],
        "senders": senders,
        "templates": MessageTemplate.objects.filter(archived_at__isnull=True).order_by("name").only("pk", "name"),
        "channels": UsageChannel.choices,
    }
    return render(request, "web/comments/home.html", context)


@page
def post_comments(request, pk: int):
    """One post's comments, oldest first, each with what may be done with it now."""
    post = get_visible(BrandPost.objects.all(), request.user, pk=pk)
    rows = [
        {"comment": c, "private_problem": comment_services.private_reply_problem(c)}
        for c in post.comments.select_related("creator").order_by("created_time", "id")[:500]
    ]
    found = access.visible(DiscoveredMedia.objects.exclude(content=None), request.user).order_by("-discovered_at")
    context = {
        "section": "comments",
        "post": post,
        "rows": rows,
        "found": found[:100],
        "channels": UsageChannel.choices,
    }
    return render(request, "web/comments/post.html", context)


def _comment(request, pk):
    return get_workable(Comment.objects.select_related("post", "sender_account"), request.user, pk=pk)


def _back_to_post(comment) -> str:
    return reverse("web:brand_post", args=[comment.post_id]) if comment.post_id else reverse("web:comments")


@require_POST
@page
def private_reply(request, pk: int):
    comment = _comment(request, pk)
    text = request.POST.get("text", "")
    return _done(
        request,
        lambda: comment_services.send_private_reply(comment, text=text, actor=request.user),
        f"Private reply to @{comment.from_username or comment.from_id} queued: it goes out once.",
        _back_to_post(comment),
    )


@require_POST
@page
def public_reply(request, pk: int):
    comment = _comment(request, pk)
    text = request.POST.get("text", "")
    return _done(
        request,
        lambda: comment_services.reply_publicly(comment, text=text, actor=request.user),
        "Replied publicly.",
        _back_to_post(comment),
    )


@require_POST
@page
def hide(request, pk: int):
    comment = _comment(request, pk)
    hidden = request.POST.get("hide", "true") == "true"
    return _done(
        request,
        lambda: comment_services.hide_comment(comment, hide=hidden, actor=request.user),
        "Comment hidden." if hidden else "Comment shown again.",
        _back_to_post(comment),
    )


def _scope_and_terms(post_data) -> tuple[Scope, dict]:
    duration = post_data.get("duration_days", "")
    scope = Scope(
        channels=post_data.getlist("channels"),
        territory=post_data.get("territory", "worldwide"),
        duration_days=int(duration) if duration.isdigit() else None,
    )
    terms = {
        "terms_url": post_data.get("terms_url", ""),
        "terms_text": post_data.get("terms_text", ""),
        "approval_hashtag": post_data.get("approval_hashtag", ""),
        "brand": post_data.get("brand", ""),
        "author_username": post_data.get("author_username", ""),
    }
    return scope, terms


@require_POST
@page
def request_rights(request, pk: int):
    """Ask for the rights to a found post: in a comment by API for mentions, under the author's comment
    on our post when one is chosen, else as a text for a person to post."""
    found = get_workable(DiscoveredMedia.objects.all(), request.user, pk=pk)
    scope, terms = _scope_and_terms(request.POST)
    via = request.POST.get("via_comment", "")
    via_comment = _comment(request, int(via)) if via.isdigit() else None
    return _done(
        request,
        lambda: ugc.request_rights_by_comment(found, actor=request.user, scope=scope, via_comment=via_comment, **terms),
        "Rights request created: it goes out as a comment (or waits for you below if it must be posted by hand).",
        reverse("web:comments"),
    )


@require_POST
@page
def mark_posted(request, pk: int):
    asked = get_workable(CommentRightsRequest.objects.select_related("permission_request"), request.user, pk=pk)
    return _done(
        request,
        lambda: ugc.mark_comment_request_posted(asked, actor=request.user),
        "Marked as posted: the author's reply with the hashtag will grant.",
        reverse("web:comments"),
    )


@require_POST
@page
def keyword_rule(request):
    sender = get_visible(SenderAccount.objects.all(), request.user, pk=_number(request.POST.get("sender_account")))
    template = get_visible(MessageTemplate.objects.all(), request.user, pk=_number(request.POST.get("template")))
    keyword = request.POST.get("keyword", "")
    return _done(
        request,
        lambda: comment_services.save_keyword_rule(
            actor=request.user, sender_account=sender, keyword=keyword, template=template
        ),
        f"Comments with {keyword!r} get one automatic private reply per person.",
        reverse("web:comments"),
    )


@require_POST
@page
def follow_hashtag(request):
    sender = get_visible(SenderAccount.objects.all(), request.user, pk=_number(request.POST.get("sender_account")))
    hashtag = request.POST.get("hashtag", "")
    return _done(
        request,
        lambda: ugc.search_hashtag(sender, hashtag, actor=request.user),
        f"Following #{hashtag.lstrip('#')}: new posts are polled hourly.",
        reverse("web:comments"),
    )
