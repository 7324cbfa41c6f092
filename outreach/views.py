"""The email unsubscribe link: one click (RFC 8058 POST) or a confirmation page, opting out everywhere."""

from django.core import signing
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm import services as crm_services
from crm.models import Creator
from outreach.worker import UNSUBSCRIBE_SALT


@csrf_exempt  # mail clients POST `List-Unsubscribe=One-Click` without a session; the token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        creator_id = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return render(request, "outreach/unsubscribe.html", {"state": "invalid"}, status=404)
    creator = Creator.objects.filter(pk=creator_id).first()
    if creator is None:
        return render(request, "outreach/unsubscribe.html", {"state": "invalid"}, status=404)
    if request.method == "GET":
        return render(request, "outreach/unsubscribe.html", {"state": "confirm"})
    if creator.opted_out_at is None:
        crm_services.opt_out(
            creator,
            actor=None,
            evidence=crm_services.Evidence(
                channel="email",
                text=request.POST.get("List-Unsubscribe", "unsubscribe link"),
                rule="email unsubscribe link (RFC 8058)",
                occurred_at=timezone.now(),
            ),
        )
    if request.POST.get("List-Unsubscribe") == "One-Click":
        return HttpResponse("Unsubscribed.", content_type="text/plain")
    return render(request, "outreach/unsubscribe.html", {"state": "done"})
