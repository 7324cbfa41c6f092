"""Editing what was entered: a creator's details and tags, a campaign's details and team. The forms
parse; crm.services.update_creator / update_campaign decide, their errors shown by field."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from crm import access, services
from crm.models import Creator
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
    """Change a creator's name, email, country, language, notes and tags."""
    creator = get_object_or_404(Creator, pk=pk)
    if not access.can_write(request.user):
        raise PermissionDenied("Your role (viewer) cannot change creators.")
    form = CreatorEditForm(request.POST or None, instance=creator)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        tags = data.pop("tags").split(",")
        try:
            services.update_creator(creator, actor=request.user, tags=tags, **data)
        except ValidationError as error:
            show_errors(form, error)
        else:
            messages.success(request, f"Saved {creator.name}.")
            return redirect("web:creator", pk=creator.pk)
    context = {"section": "creators", "form": form, "title": f"Edit {creator.name}", "back": creator}
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
