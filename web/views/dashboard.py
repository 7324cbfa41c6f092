"""The dashboard: what needs a person today, per campaign and across the outbox."""

from django.shortcuts import render

from web import dashboard as numbers
from web.access import page


@page
def dashboard(request):
    """The first page after signing in: each running campaign's funnel, and the work waiting."""
    context = {"section": "dashboard", "cards": numbers.campaign_cards(request.user), **numbers.attention(request.user)}
    return render(request, "web/dashboard.html", context)
