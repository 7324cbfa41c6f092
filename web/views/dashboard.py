"""The dashboard: what needs a person today, per campaign and across the outbox."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from outreach import services
from outreach.models import FollowUpTask
from web import dashboard as numbers
from web.access import get_workable, page
from web.forms import error_text


@page
def dashboard(request):
    """The first page after signing in: each running campaign's funnel, and the work waiting."""
    context = {"section": "dashboard", "cards": numbers.campaign_cards(request.user), **numbers.attention(request.user)}
    return render(request, "web/dashboard.html", context)


@require_POST
@page
def follow_up_done(request, pk: int):
    """You answered the creator personally: the follow-up an automatic reply left for you is done."""
    task = get_workable(FollowUpTask.objects.select_related("creator"), request.user, pk=pk)
    try:
        services.complete_follow_up(task, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Follow-up with {task.creator.name} done.")
    return redirect("web:dashboard")
