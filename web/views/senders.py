"""Sender accounts and API tokens: connect an account (its token is stored encrypted and never shown
again), see each one's health, today's use of its limits, its breaker with the last errors, pause and
resume; create an API token (shown once), list and revoke them."""

import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm import access
from crm import services as crm_services
from crm.models import ApiToken
from outreach import services
from outreach.models import OutreachMessage, SenderAccount
from web.access import page
from web.forms import show_errors

ERRORS_SHOWN = 3
MsgStatus = OutreachMessage.Status


class ConnectForm(forms.ModelForm):
    access_token = forms.CharField(
        label="Access token",
        required=False,
        max_length=4000,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted and never shown again. Email senders use the mailbox passwords below.",
    )
    smtp_password = forms.CharField(
        label="SMTP password",
        required=False,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Email: the mailbox's (app) password for sending; stored encrypted, never shown again.",
    )
    imap_password = forms.CharField(
        label="IMAP password",
        required=False,
        max_length=1000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Email: the (app) password for reading replies; stored encrypted, never shown again.",
    )

    class Meta:
        model = SenderAccount
        fields = ["name", "platform", "variant", "account_id", "api_base_url", "from_name", "daily_cap",
                  "smtp_host", "smtp_port", "smtp_security", "smtp_username",
                  "imap_host", "imap_port", "imap_security", "imap_username", "imap_authserv_id"]  # fmt: skip
        labels = {
            "account_id": "Account id",
            "api_base_url": "API address",
            "from_name": "From name",
            "daily_cap": "Our daily cap",
            "smtp_host": "SMTP server",
            "smtp_port": "SMTP port",
            "smtp_security": "SMTP security",
            "smtp_username": "SMTP username",
            "imap_host": "IMAP server",
            "imap_port": "IMAP port",
            "imap_security": "IMAP security",
            "imap_username": "IMAP username",
            "imap_authserv_id": "IMAP server's authserv-id",
        }

    def clean(self):
        """The service's checks of a sender account's platform, variant and address, by field, shown
        with the form's own errors (outreach.services.senders.sender_settings_problems)."""
        data = super().clean()
        problems = services.sender_settings_problems(
            data.get("platform"), data.get("variant"), data.get("api_base_url", "")
        )
        problems.update(services.mailbox_problems(data.get("platform"), data))
        for field, problem in problems.items():
            self.add_error(field if field in self.fields else None, problem)
        return data


class TokenForm(forms.Form):
    access_token = forms.CharField(
        label="New access token",
        max_length=4000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, help_text="What will use it, e.g. “Zapier”.")
    expires_in_days = forms.IntegerField(
        label="Expires after (days)", required=False, min_value=1, max_value=3650, help_text="Empty: never."
    )


def mailbox_health(sender) -> tuple[str, str]:
    """(words, badge class) for reading the account's mailbox; ("", "") without one."""
    if not sender.has_mailbox:
        return "", ""
    if sender.mailbox_error_at and (
        not sender.mailbox_checked_at or sender.mailbox_error_at > sender.mailbox_checked_at
    ):
        return "Mailbox not read", "badge-bad"
    if sender.mailbox_error:
        return "Mailbox read, with a problem", "badge-warn"
    if sender.mailbox_checked_at is None:
        return "Mailbox not read yet", "badge-warn"
    return "Mailbox read", "badge-ok"


def health(sender, now) -> tuple[str, str]:
    """(words, badge class) for the account's state."""
    if sender.paused:
        return "Paused by a person", "badge-warn"
    if not sender.is_sending(now):
        return "Breaker open: not sending", "badge-bad"
    if sender.rate_limited_until and sender.rate_limited_until > now:
        return "Rate-limited for now", "badge-warn"
    if sender.breaker_state == SenderAccount.Breaker.OPEN:
        return "Breaker open, trying again", "badge-warn"
    return "Sending", "badge-ok"


@page
def sender_list(request):
    """Every sender account with its health, what it sent in 24 h against its limit, and why it stopped."""
    now = timezone.now()
    senders = list(SenderAccount.objects.select_related("owner").order_by("name", "id"))
    ids = [sender.pk for sender in senders]
    sent = dict(
        OutreachMessage.objects.filter(
            sender_account_id__in=ids, status=MsgStatus.SENT, sent_at__gte=now - datetime.timedelta(hours=24)
        )
        .values_list("sender_account_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    failures = {}
    for message in (
        OutreachMessage.objects.filter(sender_account_id__in=ids, status=MsgStatus.FAILED)
        .annotate(
            rank=Window(
                RowNumber(), partition_by=F("sender_account_id"), order_by=[F("updated_at").desc(), F("id").desc()]
            )
        )
        .filter(rank__lte=ERRORS_SHOWN)
        .only("sender_account_id", "error_code", "error_message", "updated_at", "creator_id")
        .order_by("sender_account_id", "rank")
    ):
        failures.setdefault(message.sender_account_id, []).append(message)
    rows = []
    for sender in senders:
        per_day = sender.limits()[2]
        limit = min(value for value in (sender.daily_cap, per_day) if value) if (sender.daily_cap or per_day) else None
        state, badge = health(sender, now)
        mailbox_state, mailbox_badge = mailbox_health(sender)
        rows.append(
            {
                "sender": sender,
                "sent": sent.get(sender.pk, 0),
                "limit": limit,
                "state": state,
                "badge": badge,
                "mailbox_state": mailbox_state,
                "mailbox_badge": mailbox_badge,
                "errors": failures.get(sender.pk, []),
                "may_change": access.can_change(sender, request.user),
            }
        )
    context = {"section": "sender-accounts", "rows": rows, "token_form": TokenForm()}
    return render(request, "web/senders/list.html", context)


@page
def sender_connect(request):
    """Connect the brand's account on a platform; the token goes in once and is never shown again."""
    form = ConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sender = services.connect_sender(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(
                request, f"Connected {sender.name}. Its token is stored encrypted and will not be shown again."
            )
            return redirect("web:senders")
    return render(request, "web/senders/connect.html", {"section": "sender-accounts", "form": form})


def _changeable(request, pk):
    sender = get_object_or_404(SenderAccount, pk=pk)
    if not access.can_change(sender, request.user):
        raise PermissionDenied("Only its owner or an admin may change this sender account.")
    return sender


@require_POST
@page
def sender_pause(request, pk: int):
    """Stop the account sending; queued messages wait until it is resumed."""
    sender = _changeable(request, pk)
    services.pause_sender(sender, actor=request.user)
    messages.success(request, f"{sender.name} is paused; its messages wait.")
    return redirect("web:senders")


@require_POST
@page
def sender_resume(request, pk: int):
    """Send again: unpause and close the breaker, once its cause (say, a revoked token) is fixed."""
    sender = _changeable(request, pk)
    services.resume_sender(sender, actor=request.user)
    messages.success(request, f"{sender.name} sends again.")
    return redirect("web:senders")


@require_POST
@page
def sender_token(request, pk: int):
    """Replace the account's token (after the platform revoked it); it is not shown again."""
    sender = _changeable(request, pk)
    form = TokenForm(request.POST)
    if form.is_valid():
        services.replace_token(sender, actor=request.user, access_token=form.cleaned_data["access_token"])
        messages.success(request, f"New token stored for {sender.name}. Resume it if its breaker is open.")
    else:
        messages.error(request, f"New access token: {' '.join(form.errors['access_token'])}")
    return redirect("web:senders")


def _tokens(user):
    return access.visible(ApiToken.objects.select_related("user"), user).order_by("revoked_at", "-created_at", "-id")


@page
def api_tokens(request):
    """Your API tokens (admins: everyone's); a new one's key is shown on this page once, then never."""
    form = ApiTokenForm(request.POST or None)
    created_key = ""
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        expires = timezone.now() + datetime.timedelta(days=days) if days else None
        _token, created_key = crm_services.create_api_token(
            request.user, name=form.cleaned_data["name"].strip(), expires_at=expires
        )
        form = ApiTokenForm()
    context = {
        "section": "sender-accounts",
        "form": form,
        "tokens": _tokens(request.user)[:200],
        "created_key": created_key,
        "now": timezone.now(),
    }
    response = render(request, "web/senders/tokens.html", context)
    if created_key:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@page
def api_token_revoke(request, pk: int):
    """The key stops working at once; the record stays for the audit trail."""
    token = _tokens(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404("No token of yours matches.")
    crm_services.revoke_api_token(token)
    messages.success(request, f"Revoked “{token.name}” ({token.prefix}…).")
    return redirect("web:api_tokens")
