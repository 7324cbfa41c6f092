"""Posts and the rights to them: add a post by its link on the creator's page, ask for the rights to
one or several posts (with the policy's preview, a dry run of the same service), the list of all
posts, and "may we use this post for X in Y on Z?". Rules live in crm.services and outreach.services."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import access, services
from crm.models import CampaignMember, Content, Creator, PermissionRequest
from crm.services import usage
from outreach import services as outreach
from outreach.models import SenderAccount
from web.access import page, visible_campaigns, workable_campaigns
from web.content_forms import AddContentForm, ContentFilterForm, MayUseForm, RightsForm
from web.csv_export import csv_response
from web.forms import show_errors
from web.pagination import Sort, paginate
from web.timeline import creator_timeline

PAGE_SIZE = 50
SORT = Sort("Newest first", "created_at", descending=True)
MODE_WORDS = {"api": "by API", "manual": "to the manual queue", "blocked": "blocked"}


def creator_posts(creator: Creator, user):
    """The creator's posts this person may see, newest first, with their requests (latest first) loaded."""
    requests = PermissionRequest.objects.order_by("-id")
    return (
        access.visible(creator.content.all(), user)
        .select_related("campaign")
        .prefetch_related(Prefetch("permission_requests", queryset=requests, to_attr="request_list"))
        .order_by("-posted_at", "-id")
    )


def content_forms(creator: Creator, user, data=None, *, which=""):
    """The creator page's two forms; only the one posted (`which`) is bound."""
    campaigns = workable_campaigns(user).exclude(status="completed").order_by("name")
    posts = access.workable(creator.content.all(), user).order_by("-posted_at", "-id")
    senders = access.visible(SenderAccount.objects.order_by("name"), user)
    return {
        "post_form": AddContentForm(data if which == "post" else None, campaigns=campaigns),
        "rights_form": RightsForm(data if which == "rights" else None, posts=posts, senders=senders),
    }


def render_creator(request, creator: Creator, *, status: int = 200, **extra):
    """One creator's page: accounts, tags, campaigns (those this person sees), posts with their rights
    status, the forms to add a post and ask for rights, and the timeline."""
    memberships = (
        CampaignMember.objects.filter(creator=creator, campaign__in=visible_campaigns(request.user).values("pk"))
        .select_related("campaign")
        .order_by("-created_at")
    )
    context = {
        "section": "creators",
        "creator": creator,
        "memberships": memberships,
        "content": creator_posts(creator, request.user)[:50],
        "timeline": creator_timeline(creator, request.user),
        "can_change": access.can_write(request.user),
        **extra,
    }
    if "post_form" not in context:
        context.update(content_forms(creator, request.user))
    return render(request, "web/creators/detail.html", context, status=status)


def _creator(pk):
    return get_object_or_404(Creator.objects.select_related("owner").prefetch_related("accounts", "tags"), pk=pk)


@require_POST
@page
def add_post(request, pk: int):
    """Register a post of this creator by its link, however it was copied."""
    creator = _creator(pk)
    forms = content_forms(creator, request.user, request.POST, which="post")
    form = forms["post_form"]
    if form.is_valid():
        data = form.cleaned_data
        try:
            post = services.add_content(
                creator,
                actor=request.user,
                url=data["url"],
                campaign=data["campaign"],
                caption=data["caption"],
                media_url=data["media_url"],
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Added the {post.get_platform_display()} post.")
            return redirect("web:creator", pk=creator.pk)
    return render_creator(request, creator, status=200, **forms)


@require_POST
@page
def ask_rights(request, pk: int):
    """Preview (a dry run: by API, to the manual queue or blocked, and why) or send permission requests
    for the ticked posts."""
    creator = _creator(pk)
    forms = content_forms(creator, request.user, request.POST, which="rights")
    form = forms["rights_form"]
    outcomes = None
    if form.is_valid():
        data = form.cleaned_data
        sending = request.POST.get("confirm") == "send"
        scope = services.Scope(
            channels=data["channels"],
            territory=data["territory"],
            exclusive=data["exclusive"],
            duration_days=data["duration_days"],
        )
        try:
            outcomes = outreach.ask_for_permissions(
                data["content"],
                actor=request.user,
                sender_account=data["sender_account"],
                template=data["template"],
                scope=scope,
                terms_url=data["terms_url"],
                terms_text=data["terms_text"],
                approval_hashtag=data["approval_hashtag"],
                dry_run=not sending,
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            if sending:
                counts = {mode: sum(1 for o in outcomes if o.mode == mode) for mode in MODE_WORDS}
                messages.success(
                    request,
                    f"Asked for the rights to {len(outcomes)} post(s): {counts['api']} by API, "
                    f"{counts['manual']} to the manual queue, {counts['blocked']} blocked.",
                )
                return redirect("web:creator", pk=creator.pk)
    return render_creator(request, creator, outcomes=outcomes, mode_words=MODE_WORDS, **forms)


def _latest_status():
    return Subquery(PermissionRequest.objects.filter(content=OuterRef("pk")).order_by("-id").values("status")[:1])


def _filtered_posts(request):
    """The posts this person may see, as the content list's filters ask, with their latest rights status."""
    campaigns = visible_campaigns(request.user).order_by("name")
    form = ContentFilterForm(request.GET or None, campaigns=campaigns)
    queryset = access.visible(Content.objects.all(), request.user).annotate(rights_status=_latest_status())
    if form.is_valid():
        data = form.cleaned_data
        if data["rights"] == "none":
            queryset = queryset.filter(rights_status__isnull=True)
        elif data["rights"]:
            queryset = queryset.filter(rights_status=data["rights"])
        if data["creator"].strip():
            queryset = queryset.filter(creator__name__icontains=data["creator"].strip())
        if data["campaign"]:
            queryset = queryset.filter(campaign=data["campaign"])
        now = timezone.now()
        if data["expiry"] == "ended":
            queryset = queryset.filter(Q(rights_status="expired") | Q(rights_status="revoked"))
        elif data["expiry"]:
            ends = PermissionRequest.objects.filter(
                status=PermissionRequest.Status.GRANTED,
                rights_expire_at__gt=now,
                rights_expire_at__lte=now + datetime.timedelta(days=int(data["expiry"])),
            )
            queryset = queryset.filter(pk__in=ends.values("content_id"))
    queryset = queryset.select_related("creator", "campaign").prefetch_related(
        Prefetch("permission_requests", queryset=PermissionRequest.objects.order_by("-id"), to_attr="request_list")
    )
    return form, queryset


@page
def content_list(request):
    """Every post this person may see, filtered by rights status, creator, campaign and when rights end."""
    form, queryset = _filtered_posts(request)
    posts = paginate(queryset, SORT, request.GET.get("after", ""), PAGE_SIZE)
    query = request.GET.copy()
    query.pop("after", None)
    context = {"section": "content", "form": form, "page": posts, "query": query.urlencode()}
    return render(request, "web/content/list.html", context)


@page
def content_export(request):
    """The filtered posts as CSV, with the latest request's status and scope in words."""
    _, queryset = _filtered_posts(request)

    def rows():
        for post in queryset.order_by(*SORT.ordering).iterator(chunk_size=2000):
            latest = post.request_list[0] if post.request_list else None
            yield [
                post.pk,
                post.url,
                post.platform,
                post.creator.name,
                post.campaign.name if post.campaign else "",
                post.posted_at.date().isoformat() if post.posted_at else "",
                latest.status if latest else "not asked",
                usage.scope_in_words(latest) if latest else "",
                latest.rights_expire_at.date().isoformat() if latest and latest.rights_expire_at else "",
            ]

    header = ["id", "url", "platform", "creator", "campaign", "posted_on", "rights", "scope", "rights_end"]
    return csv_response("content.csv", header, rows())


@page
def may_use(request):
    """ "May we use this post for X in Y on Z?": the answer and its reason, as the API gives it."""
    form = MayUseForm(request.GET or None)
    answer = post = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            asked = usage.ask_by_link(
                data["url"], data["channel"], data["territory"], data["date"],
                posts=access.visible(Content.objects.all(), request.user),
            )  # fmt: skip
        except ValidationError as error:
            show_errors(form, error)
        else:
            answer, post = asked.answer, asked.post
    context = {"section": "content", "form": form, "answer": answer, "post": post}
    return render(request, "web/content/may_use.html", context)
