"""The dashboard: what needs a person today, per campaign and across the outbox."""

from django.shortcuts import render

from web.access import page


@page
def dashboard(request):
    """The first page after signing in."""
    return render(request, "web/dashboard.html", {"section": "dashboard"})
