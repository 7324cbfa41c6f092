"""Proof of consent for people and lawyers: a permission's proof as JSON and as a printable page,
and every decision of a campaign as CSV."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render

from core import csvsafe
from crm import access, services
from crm.models import Campaign, ConsentEvent, PermissionRequest


def _visible_request(request, pk: int):
    """The roles of the API: a request outside the campaigns this person sees is a 404, as there."""
    queryset = PermissionRequest.objects.select_related("creator", "content", "created_by")
    return get_object_or_404(access.visible(queryset, request.user), pk=pk)


@login_required
def permission_proof_json(request, pk: int):
    permission = _visible_request(request, pk)
    response = JsonResponse(services.permission_proof(permission), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="permission-{pk}-proof.json"'
    return response


@login_required
def permission_proof_page(request, pk: int):
    permission = _visible_request(request, pk)
    return render(request, "crm/proof.html", {"proof": services.permission_proof(permission)})


class _Echo:
    def write(self, value):
        return value


@login_required
def campaign_decisions_csv(request, pk: int):
    campaign = get_object_or_404(access.visible(Campaign.objects.all(), request.user), pk=pk)
    events = (
        ConsentEvent.objects.filter(permission_request__campaign=campaign)
        .select_related("creator", "permission_request__content")
        .order_by("id")
    )
    writer = csvsafe.writer(_Echo())
    header = [
        "permission_request", "content_url", "creator", "decision", "occurred_at", "recorded_by", "rule",
        "channel", "platform_message_id", "terms_sha256", "entry_hash",
    ]  # fmt: skip

    def rows():
        yield writer.writerow(header)
        for event in events.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    event.permission_request_id,
                    event.permission_request.content.url,
                    event.creator.name,
                    event.kind,
                    event.occurred_at.isoformat(),
                    event.recorded_by_label,
                    event.rule,
                    event.channel,
                    event.inbound_message_id,
                    event.terms_sha256,
                    event.entry_hash,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="campaign-{pk}-decisions.csv"'
    return response
