"""Permission requests: the list by status, rights ending soon, one request with its proof (the same
content as the API's export, printable), and recording that a creator withdrew the rights."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import access, services
from crm.models import ConsentEvent, PermissionRequest
from outreach import inbound
from web.access import get_visible, page, require_change
from web.forms import error_text, show_errors

PAGE_SIZE = 50
EXPIRING_DAYS = 14
Status = PermissionRequest.Status


class RevokeForm(forms.Form):
    text = forms.CharField(
        label="The creator's words",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Exactly what they said when they withdrew the rights: it is the evidence in the ledger.",
    )
    channel = forms.CharField(
        label="Where they said it", max_length=40, required=False, help_text="e.g. instagram, email, phone."
    )
    occurred_at = forms.DateTimeField(
        label="When",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for now.",
    )
    note = forms.CharField(label="Note", max_length=500, required=False)

    def clean_occurred_at(self):
        value = self.cleaned_data.get("occurred_at")
        if value and value > timezone.now():
            raise forms.ValidationError("That is in the future.")
        return value


def _expiring(user):
    return access.visible(services.rights_expiring(within_days=EXPIRING_DAYS), user)


@page
def request_list(request):
    """Every request this person may see, by status; `?status=expiring` lists granted rights ending soon."""
    visible = access.visible(PermissionRequest.objects.all(), request.user)
    counts = dict(visible.values_list("status").annotate(n=Count("id")).order_by())
    status = request.GET.get("status", "")
    if status == "expiring":
        queryset = _expiring(request.user)
    else:
        status = status if status in Status.values else ""
        queryset = visible.select_related("creator", "content", "campaign").order_by("-updated_at", "-id")
        if status:
            queryset = queryset.filter(status=status)
    current = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [("", "All", sum(counts.values()))] + [
        (value, label, counts.get(value, 0)) for value, label in Status.choices
    ]
    context = {
        "section": "permission-requests",
        "page": current,
        "status": status,
        "tabs": tabs,
        "expiring_count": _expiring(request.user).count(),
        "expiring_days": EXPIRING_DAYS,
    }
    return render(request, "web/rights/list.html", context)


def _visible(request, pk):
    queryset = PermissionRequest.objects.select_related("creator", "content", "campaign", "created_by")
    return get_visible(queryset, request.user, pk=pk)


@page
def request_detail(request, pk: int):
    """One request and its proof: who asked what, under which terms, the creator's answer, the ledger."""
    permission = _visible(request, pk)
    return _render_detail(request, permission, RevokeForm())


def _render_detail(request, permission, form, status=200):
    can_act = access.can_change(permission, request.user)
    decisions = permission.consent_events.exclude(kind=ConsentEvent.Kind.RECORDED_IN_ERROR)
    correctable = list(decisions.filter(voided_by__isnull=True).order_by("-id"))
    context = {
        "section": "permission-requests",
        "permission": permission,
        "proof": services.permission_proof(permission),
        "form": form,
        "can_revoke": can_act and permission.status == Status.GRANTED,
        "can_act": can_act,
        "correctable": correctable,
    }
    return render(request, "web/rights/detail.html", context, status=status)


@require_POST
@page
def revoke(request, pk: int):
    """The creator withdrew the rights: recorded in the ledger as yours, with their words."""
    permission = _visible(request, pk)
    require_change(permission, request.user)
    form = RevokeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        evidence = services.Evidence(
            channel=data["channel"].strip(),
            text=data["text"],
            note=data["note"],
            occurred_at=data["occurred_at"] or timezone.now(),
        )
        try:
            services.revoke_rights(permission, actor=request.user, evidence=evidence)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Rights on request #{permission.pk} withdrawn; stop using the post.")
            return redirect("web:permission_request", pk=permission.pk)
    return _render_detail(request, permission, form)


@require_POST
@page
def void_entry(request, pk: int):
    """A decision on this request was recorded in error: a correction entry voids it (with who and why)."""
    permission = _visible(request, pk)
    require_change(permission, request.user)
    entry = permission.consent_events.filter(pk=request.POST.get("entry") or 0).first()
    if entry is None:
        messages.error(request, "entry: Choose an entry of this request's ledger.")
        return redirect("web:permission_request", pk=permission.pk)
    try:
        inbound.correct_decision(entry, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Entry {entry.pk} is recorded as an error; the request is worked out again.")
    return redirect("web:permission_request", pk=permission.pk)
