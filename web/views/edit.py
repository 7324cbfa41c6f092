"""Editing what was entered: a creator's details and tags, a campaign's details and team. The forms
parse; crm.services.update_creator / update_campaign decide, their errors shown by field."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import formset_factory
from django.shortcuts import get_object_or_404, redirect, render

from crm import access, services
from crm.errors import DomainError
from crm.models import Creator, Platform
from web.access import page, visible_campaigns
from web.forms import CampaignForm, show_errors


class CreatorEditForm(forms.ModelForm):
    tags = forms.CharField(
        required=False, max_length=1000, label="Tags", help_text="Separated by commas, e.g. beauty, skincare."
    )

    class Meta:
        model = Creator
        fields = ["name", "email", "country", "language", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(tag.name for tag in self.instance.tags.all())

    def clean_country(self):
        return (self.cleaned_data.get("country") or "").strip().upper()

    def _post_clean(self):
        """No model validation here: the service validates the creator (crm.errors.set_checked) and
        its errors come back by field through web.forms.show_errors."""


class AccountForm(forms.Form):
    """One social account on the edit page: a platform and a handle (or a pasted profile link)."""

    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    platform = forms.ChoiceField(choices=[("", "Platform…"), *Platform.choices], required=False, label="Platform")
    handle = forms.CharField(
        required=False, max_length=2048, label="Handle", help_text="@handle or the profile link, as you have it."
    )


AccountFormSet = formset_factory(AccountForm, extra=2, can_delete=True, max_num=30, absolute_max=30)


def _accounts_formset(request, creator):
    """The accounts' rows; a POST without them (a script, an older page) leaves the accounts alone."""
    initial = [{"id": a.pk, "platform": a.platform, "handle": a.handle} for a in creator.accounts.all()]
    posted = request.method == "POST" and "accounts-TOTAL_FORMS" in request.POST
    return AccountFormSet(request.POST if posted else None, initial=initial, prefix="accounts")


def _accounts_of(formset) -> tuple[list[dict], list]:
    """The accounts the formset asks for, and the form of each (to put the service's errors on it)."""
    entries, forms_of = [], []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or (not data.get("id") and not (data.get("handle") or "").strip()):
            continue  # an empty spare row
        entries.append({"id": data.get("id"), "platform": data.get("platform"), "handle": data.get("handle"),
                        "delete": data.get("DELETE", False)})  # fmt: skip
        forms_of.append(form)
    return entries, forms_of


def _show_account_errors(form, forms_of, error) -> None:
    """`save_accounts`' errors on the row and field they are about; the rest on the main form."""
    problems = DomainError(error).errors
    by_row = problems.pop("accounts", None)
    for index, row in enumerate(by_row or []):
        if isinstance(row, dict):
            for field, texts in row.items():
                forms_of[index].add_error(field if field in AccountForm.base_fields else None, texts)
        elif row:
            form.add_error(None, f"Accounts: {row}")
    if problems:
        show_errors(form, DomainError(problems))


class CampaignEditForm(CampaignForm):
    team = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Team",
        widget=forms.CheckboxSelectMultiple,
        help_text="People who work on this campaign besides its owner.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["team"].label_from_instance = lambda user: user.get_full_name() or user.get_username()
        if self.instance.pk and not self.is_bound:
            self.initial["team"] = list(self.instance.team.values_list("pk", flat=True))

    def _post_clean(self):
        pass


@page
def creator_edit(request, pk: int):
    """Change a creator's name, email, country, language, notes, tags and social accounts (add,
    change, remove), all in one save; every problem is shown on its field (an account's on its row)."""
    creator = get_object_or_404(Creator, pk=pk)
    if not access.can_write(request.user):
        raise PermissionDenied("Your role (viewer) cannot change creators.")
    form = CreatorEditForm(request.POST or None, instance=creator)
    accounts = _accounts_formset(request, creator)
    if request.method == "POST" and form.is_valid() and (not accounts.is_bound or accounts.is_valid()):
        data = dict(form.cleaned_data)
        tags = data.pop("tags").split(",")
        entries, forms_of = _accounts_of(accounts) if accounts.is_bound else (None, [])
        try:
            services.update_creator(creator, actor=request.user, tags=tags, accounts=entries, **data)
        except ValidationError as error:
            creator.refresh_from_db()
            _show_account_errors(form, forms_of, error)
        else:
            messages.success(request, f"Saved {creator.name}.")
            return redirect("web:creator", pk=creator.pk)
    context = {"section": "creators", "form": form, "accounts": accounts, "title": f"Edit {creator.name}",
               "back": creator}  # fmt: skip
    return render(request, "web/edit.html", context)


@page
def campaign_edit(request, pk: int):
    """Change a campaign's name, dates, hashtag, terms and team (those who work on it)."""
    campaign = get_object_or_404(visible_campaigns(request.user), pk=pk)
    if not access.can_work_on(campaign, request.user):
        raise PermissionDenied("You are not on this campaign's team.")
    form = CampaignEditForm(request.POST or None, instance=campaign)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.update_campaign(campaign, actor=request.user, **data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Saved the campaign “{campaign.name}”.")
            return redirect("web:campaign", pk=campaign.pk)
    context = {"section": "campaigns", "form": form, "title": f"Edit {campaign.name}", "back": campaign}
    return render(request, "web/edit.html", context)
