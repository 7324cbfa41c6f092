"""Campaigns: the list, creating one, its page with the member board, the launch flow and its
permission requests. Rules live in crm.services and outreach.services; these views only call them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from crm import access, search, services
from crm.filtersets import CampaignFilter
from crm.models import CampaignMember, SocialAccount
from outreach import services as outreach
from outreach.models import OutreachMessage
from web.access import can_write, page, visible_campaigns
from web.csv_export import csv_response
from web.forms import CampaignForm, LaunchForm, MoveMemberForm, error_text, show_errors
from web.report import campaign_report as campaign_report_numbers
from web.report import report_rows

Stage = CampaignMember.Stage
BOARD_COLUMN_SIZE = 50  # cards per stage; the count above each column is exact
PREVIEW_MEMBER_CHOICES = 200
BLOCKED_SHOWN = 100
LAUNCHES_SHOWN = 20


def _campaign(request, pk, *, write=False):
    """A campaign this person sees (else 404) and, for a write, works on (else 403)."""
    campaign = get_object_or_404(visible_campaigns(request.user).select_related("owner"), pk=pk)
    if write and not access.can_work_on(campaign, request.user):
        raise PermissionDenied("You are not on this campaign's team.")
    return campaign


@page
def campaign_list(request):
    """The campaigns this person sees, newest first, with their member counts."""
    filterset = CampaignFilter(request.GET or None, queryset=visible_campaigns(request.user))
    for name in list(filterset.form.fields):
        if name != "status":
            del filterset.form.fields[name]
    campaigns = (filterset.qs if filterset.is_bound else filterset.queryset).annotate(member_count=Count("members"))
    campaigns = campaigns.select_related("owner").order_by("-created_at", "-id")[:200]
    return render(
        request,
        "web/campaigns/list.html",
        {"section": "campaigns", "campaigns": campaigns, "filter_form": filterset.form},
    )


@page
def campaign_new(request):
    """Create a campaign; the creator owns it. Every problem is shown next to its field."""
    if not can_write(request.user):
        raise PermissionDenied("Your role (viewer) cannot create campaigns.")
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Campaign “{campaign.name}” created.")
            return redirect("web:campaign", pk=campaign.pk)
    return render(request, "web/campaigns/new.html", {"section": "campaigns", "form": form})


_SENTINEL = "9876543210123"


def _url_for(name, *args):
    """reverse(name, args=[*args, pk]) for many pks at the cost of one reverse (a board has 1,200 links)."""
    pattern = reverse(name, args=[*args, int(_SENTINEL)])
    return lambda pk: pattern.replace(_SENTINEL, str(int(pk)))


def _board(campaign):
    """Members by stage, at most BOARD_COLUMN_SIZE per column (latest moves first), with a handle each:
    three queries."""
    counts = dict(campaign.members.values_list("stage").annotate(n=Count("id")).order_by())
    ranked = (
        campaign.members.select_related("creator")
        .annotate(
            rank=Window(RowNumber(), partition_by=F("stage"), order_by=[F("stage_changed_at").desc(), F("id").desc()])
        )
        .filter(rank__lte=BOARD_COLUMN_SIZE)
    )
    columns = {stage: [] for stage in Stage.values}
    ranked = list(ranked)
    # The handle beside the name: two people may share a name, never a handle on one platform.
    handles = {}
    for creator_id, platform, handle in (
        SocialAccount.objects.filter(creator_id__in=[member.creator_id for member in ranked])
        .values_list("creator_id", "platform", "handle")
        .order_by("creator_id", "id")
    ):
        handles.setdefault(creator_id, f"{platform} @{handle}")
    # Each card's stage picker, made once per stage rather than once per card (400 cards on a full board).
    options = {
        stage: format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((value, " selected" if value == stage else "", label) for value, label in Stage.choices),
        )
        for stage in Stage.values
    }
    creator_url = _url_for("web:creator")
    move_url, remove_url = _url_for("web:member_move", campaign.pk), _url_for("web:member_remove", campaign.pk)
    for member in ranked:
        member.handle = handles.get(member.creator_id, "")
        member.stage_options = options[member.stage]
        member.creator_url = creator_url(member.creator_id)
        member.move_url, member.remove_url = move_url(member.pk), remove_url(member.pk)
        columns[member.stage].append(member)
    return [
        {"stage": stage, "label": label, "members": columns[stage], "count": counts.get(stage, 0)}
        for stage, label in Stage.choices
    ]


def _board_context(request, campaign):
    board = _board(campaign)
    return {
        "campaign": campaign,
        "board": board,
        "member_total": sum(column["count"] for column in board),
        "stages": Stage.choices,
        "can_work": access.can_work_on(campaign, request.user),
    }


@page
def campaign_detail(request, pk: int):
    """A campaign: its details, the member board, and its permission requests."""
    campaign = _campaign(request, pk)
    requests = campaign.permission_requests.select_related("creator", "content").order_by("-created_at", "-id")[:20]
    blocked = OutreachMessage.objects.filter(campaign=campaign, status=OutreachMessage.Status.BLOCKED)
    context = {
        "section": "campaigns",
        "requests": requests,
        # Who a launch could not reach, and why: read back from the outbox rows, not only counted.
        "blocked": blocked.select_related("creator", "sender_account", "launch").order_by("-created_at", "-id")[
            :BLOCKED_SHOWN
        ],
        "blocked_count": blocked.count(),
        "launches": campaign.launches.select_related("created_by").order_by("-number")[:LAUNCHES_SHOWN],
        **_board_context(request, campaign),
    }
    return render(request, "web/campaigns/detail.html", context)


@page
def member_move(request, pk: int, member_pk: int):
    """Move one member to another stage: one action from the board (htmx swaps the board)."""
    campaign = _campaign(request, pk, write=request.method == "POST")
    if request.method != "POST":
        return redirect("web:campaign", pk=campaign.pk)
    member = get_object_or_404(CampaignMember.objects.select_related("creator"), pk=member_pk, campaign=campaign)
    form = MoveMemberForm(request.POST)
    if form.is_valid():
        services.move_member(member, form.cleaned_data["stage"], actor=request.user)
    else:
        messages.error(request, "Stage: " + " ".join(form.errors.get("stage", [])))
    if request.headers.get("HX-Request"):
        return render(request, "web/campaigns/_board.html", _board_context(request, campaign))
    return redirect("web:campaign", pk=campaign.pk)


@page
def campaign_launch(request, pk: int):
    """Choose the channels to try in order (each with its template) and what happens when none can send
    by API, preview it for a real member, see per member which channel was chosen and why (the policy's
    words) and the counts per channel, then launch; a later launch can reach those not reached."""
    campaign = _campaign(request, pk, write=True)  # the page is all write controls: viewers get 403
    find = (request.POST.get("find") or request.GET.get("find") or "").strip()[:200]
    form = LaunchForm(request.POST or None, members=_preview_members(campaign, find))
    context = {"section": "campaigns", "campaign": campaign, "form": form, "find": find}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        plan = [outreach.Channel(**channel) for channel in form.plan()]
        choice = {"plan": plan, "manual_fallback": data["if_none"] != "skip", "again": data["again"]}
        launching = request.POST.get("confirm") == "launch"
        if not launching:
            # The preview as the chosen member would get it (empty: the first who can get it).
            choice["preview_member"] = data.get("member")
        try:
            summary = outreach.launch_campaign(campaign, actor=request.user, dry_run=not launching, **choice)
        except ValidationError as error:
            show_errors(form, error, rename={"plan": "sender_account_2"} if len(plan) > 1 else None)
        else:
            if launching:
                modes = summary.by_mode
                messages.success(
                    request,
                    f"Launch {summary.launch.number}: {modes.get('api', 0)} by API, "
                    f"{modes.get('manual', 0)} to the manual queue, {modes.get('blocked', 0)} blocked; "
                    f"{summary.already_queued} were already queued.",
                )
                return redirect(f"{reverse('web:campaign', args=[campaign.pk])}#launches")
            context["summary"] = summary
            context["channels"] = _channel_counts(summary)
            context["preview"] = summary.preview
    return render(request, "web/campaigns/launch.html", context)


def _channel_counts(summary) -> list[dict]:
    """Per channel of the plan (and blocked), how many members it takes, by mode."""
    rows: dict[str, dict] = {}
    for (platform, mode), count in sorted(summary.by_channel.items()):
        row = rows.setdefault(platform, {"channel": platform, "api": 0, "manual": 0, "blocked": 0})
        row[mode] += count
    return list(rows.values())


def _preview_members(campaign, find: str) -> list:
    """The members to preview for: those whose name (ignoring accents) or handle matches `find`, else the
    first by name; at most PREVIEW_MEMBER_CHOICES, each labelled with a handle (names can repeat)."""
    members = campaign.members.select_related("creator")
    if find:
        handles = SocialAccount.objects.filter(search.folded_contains("handle", find.lstrip("@"))).values("creator_id")
        members = members.filter(search.folded_contains("creator__name", find) | Q(creator_id__in=handles))
    members = list(members.order_by("creator__name", "id")[:PREVIEW_MEMBER_CHOICES])
    handles = {}
    for creator_id, handle in (
        SocialAccount.objects.filter(creator_id__in=[m.creator_id for m in members])
        .values_list("creator_id", "handle")
        .order_by("creator_id", "id")
    ):
        handles.setdefault(creator_id, handle)
    for member in members:
        handle = handles.get(member.creator_id)
        member.label = f"{member.creator.name} (@{handle})" if handle else member.creator.name
    return members


@page
def campaign_blocked_csv(request, pk: int):
    """Everyone the campaign's launches could not reach, and why, as CSV (streamed, any number)."""
    campaign = _campaign(request, pk)
    rows = (
        OutreachMessage.objects.filter(campaign=campaign, status=OutreachMessage.Status.BLOCKED)
        .order_by("launch__number", "id")
        .values_list(
            "launch__number",
            "creator_id",
            "creator__name",
            "creator__email",
            "platform",
            "sender_account__name",
            "reason",
            "created_at",
        )
    )
    header = ["launch", "creator_id", "creator", "email", "channel", "sender_account", "why", "queued_at"]
    return csv_response(f"campaign-{campaign.pk}-not-reached.csv", header, rows.iterator(chunk_size=2000))


@page
def campaign_report(request, pk: int):
    """The campaign's funnel, reply rates by template, platform and sender, first-reply time and rights."""
    campaign = _campaign(request, pk)
    report = campaign_report_numbers(campaign)
    return render(
        request, "web/campaigns/report.html", {"section": "campaigns", "campaign": campaign, "report": report}
    )


@page
def campaign_report_csv(request, pk: int):
    """The same report as CSV."""
    campaign = _campaign(request, pk)
    rows = report_rows(campaign_report_numbers(campaign))
    return csv_response(f"campaign-{campaign.pk}-report.csv", rows[0], rows[1:])


@require_POST
@page
def member_remove(request, pk: int, member_pk: int):
    """Take a creator off this campaign (the board asks first)."""
    campaign = _campaign(request, pk, write=True)
    member = get_object_or_404(campaign.members.select_related("creator"), pk=member_pk)
    try:
        services.remove_member(member, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Removed {member.creator.name} from {campaign.name}.")
    return redirect("web:campaign", pk=campaign.pk)
