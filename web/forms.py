"""Forms of the pages: they parse and name problems by field; the services decide."""

import codecs

from django import forms
from django.core.exceptions import ValidationError

from crm.errors import DomainError
from crm.models import Campaign, CampaignMember
from outreach.models import MessageTemplate, SenderAccount, Sequence

MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class BulkCreatorsForm(forms.Form):
    """Tag the chosen creators, add them to a campaign or export them: the ticked ones, or (scope
    `all`) every creator the list's filter matches, the filter being sent as the list's query string
    and run again on the server."""

    ACTIONS = [("tag", "Add a tag"), ("campaign", "Add to a campaign"), ("export", "Export as CSV")]

    creator = forms.TypedMultipleChoiceField(coerce=int, required=False)
    action = forms.ChoiceField(choices=ACTIONS, label="Action")
    tag = forms.CharField(required=False, max_length=64, label="Tag")
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.none(), required=False, label="Campaign")
    scope = forms.ChoiceField(
        choices=[("", "The ticked creators"), ("all", "Every creator the filter matches")], required=False
    )
    filter = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns if campaigns is not None else Campaign.objects.none()
        self.fields["creator"].choices = [(value, value) for value in self.data.getlist("creator")] if self.data else []

    def clean_creator(self):
        ids = self.cleaned_data["creator"]
        if len(ids) > 1000:
            raise forms.ValidationError("Choose at most 1,000 creators at a time.")
        return ids

    def clean(self):
        data = super().clean()
        if data.get("scope") != "all" and not data.get("creator") and "creator" not in self.errors:
            self.add_error("creator", "Choose at least one creator. Or select all matching.")
        if data.get("action") == "tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", "Name the tag to add.")
        if data.get("action") == "campaign" and not data.get("campaign"):
            self.add_error("campaign", "Choose the campaign.")
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="Columns as in the README: name, email, instagram, tags, …")
    encoding = forms.CharField(
        initial="utf-8",
        required=False,
        max_length=32,
        label="Encoding",
        help_text="utf-8 unless the file says otherwise (latin-1, cp1252).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 200 MB; split it.")
        return upload

    def clean_encoding(self):
        value = (self.cleaned_data.get("encoding") or "").strip() or "utf-8"
        try:
            codecs.lookup(value)
        except LookupError:
            raise forms.ValidationError(f"Unknown encoding {value!r}; try utf-8 or latin-1.") from None
        return value


class CampaignForm(forms.ModelForm):
    terms_url = forms.URLField(required=False, max_length=500, assume_scheme="https", label="Terms URL")

    class Meta:
        model = Campaign
        fields = [
            "name",
            "brand",
            "goal",
            "starts_on",
            "ends_on",
            "status",
            "approval_hashtag",
            "terms_url",
            "terms_version",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}),
            "ends_on": forms.DateInput(attrs={"type": "date"}),
        }


class MoveMemberForm(forms.Form):
    stage = forms.ChoiceField(choices=CampaignMember.Stage.choices, label="Move to")


USABLE_TEMPLATES = MessageTemplate.objects.filter(archived_at__isnull=True)  # archived ones are not offered


class LoadedChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField over objects read once for the whole form (`load`): the launch form's three
    channels offer the same accounts, templates and sequences, so they are read once, not once per
    field to list them and once more per field to check the choice. The same choices, labels and
    errors as over its queryset."""

    objects: dict | None = None

    def load(self, objects, choices=None) -> None:
        self.objects = {str(obj.pk): obj for obj in objects}
        if choices is None:
            empty = [] if self.empty_label is None else [("", self.empty_label)]
            choices = empty + [(obj.pk, self.label_from_instance(obj)) for obj in objects]
        self.choices = choices

    def to_python(self, value):
        if self.objects is None or value in self.empty_values:
            return super().to_python(value)
        if isinstance(value, self.queryset.model):
            value = value.pk
        try:
            return self.objects[str(value)]
        except KeyError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            ) from None


class LaunchForm(forms.Form):
    """What to send and from where, as a channel plan: the first channel, then up to two fallbacks
    tried in order for each member; the preview and the counts come from a dry run."""

    CHANNELS = 3
    IF_NONE = [
        ("manual", "Put it in the manual queue (the first channel a person can send on)"),
        ("skip", "Do not send; list the member as blocked"),
    ]

    sender_account = LoadedChoiceField(queryset=SenderAccount.objects.all(), label="1st channel: send from")
    template = LoadedChoiceField(queryset=USABLE_TEMPLATES, required=False, label="Template")
    sequence = LoadedChoiceField(queryset=Sequence.objects.all(), required=False, label="Or a sequence")
    sender_account_2 = LoadedChoiceField(
        queryset=SenderAccount.objects.all(),
        required=False,
        label="Else (2nd channel): send from",
        help_text="Tried for a member the 1st channel cannot reach by API now.",
    )
    template_2 = LoadedChoiceField(queryset=USABLE_TEMPLATES, required=False, label="Template")
    sequence_2 = LoadedChoiceField(queryset=Sequence.objects.all(), required=False, label="Or a sequence")
    sender_account_3 = LoadedChoiceField(
        queryset=SenderAccount.objects.all(), required=False, label="Else (3rd channel): send from"
    )
    template_3 = LoadedChoiceField(queryset=USABLE_TEMPLATES, required=False, label="Template")
    sequence_3 = LoadedChoiceField(queryset=Sequence.objects.all(), required=False, label="Or a sequence")
    if_none = forms.ChoiceField(
        choices=IF_NONE,
        required=False,
        initial="manual",
        widget=forms.RadioSelect,
        label="When no channel can send by API",
    )
    again = forms.BooleanField(
        required=False,
        label="Launch again for the members not reached",
        help_text="Only members whose earlier messages were all blocked, cancelled or failed; "
        "everyone else keeps the message they have.",
    )
    member = LoadedChoiceField(
        queryset=CampaignMember.objects.none(),
        required=False,
        label="Preview for",
        help_text="A member to see the message as they would get it; empty: the first who can get it.",
    )

    def __init__(self, *args, members=None, **kwargs):
        super().__init__(*args, **kwargs)
        loaded = {
            "sender_account": list(SenderAccount.objects.all()),
            "template": list(USABLE_TEMPLATES.all()),  # a copy: the module's queryset keeps no rows
            "sequence": list(Sequence.objects.all()),
        }
        for n in range(1, self.CHANNELS + 1):
            for name, kind in zip(self.channel_fields(n), loaded, strict=True):
                self.fields[name].load(loaded[kind])
        if members is not None:
            ids = [member.pk for member in members]
            self.fields["member"].queryset = CampaignMember.objects.filter(pk__in=ids).select_related("creator")
            self.fields["member"].load(
                members,
                [("", "The first member who can get it")]
                + [(member.pk, getattr(member, "label", member.creator.name)) for member in members],
            )

    def channel_fields(self, n: int) -> tuple[str, str, str]:
        suffix = "" if n == 1 else f"_{n}"
        return f"sender_account{suffix}", f"template{suffix}", f"sequence{suffix}"

    def channel_groups(self) -> list[list]:
        """The bound fields of each channel, for the template."""
        return [[self[name] for name in self.channel_fields(n)] for n in range(1, self.CHANNELS + 1)]

    def clean(self):
        data = super().clean()
        for n in range(1, self.CHANNELS + 1):
            sender, template, sequence = self.channel_fields(n)
            if n > 1 and not data.get(sender):
                if data.get(template) or data.get(sequence):
                    self.add_error(sender, "Choose the account to send from, or clear this channel's template.")
                continue
            if bool(data.get(template)) == bool(data.get(sequence)):
                self.add_error(template, "Choose a template or a sequence (one of them).")
        return data

    def plan(self) -> list[dict]:
        """The channels chosen, in order (for outreach.services.Channel)."""
        data, plan = self.cleaned_data, []
        for n in range(1, self.CHANNELS + 1):
            sender, template, sequence = self.channel_fields(n)
            if data.get(sender):
                plan.append(
                    {"sender_account": data[sender], "template": data.get(template), "sequence": data.get(sequence)}
                )
        return plan


def show_errors(form, error: ValidationError, *, rename: dict | None = None) -> None:
    """A service's `DomainError` on the form, each message by its field; the one translator of domain
    errors for the pages. Fields the form does not have become form-wide errors that name them;
    `rename` maps a service's field names to the form's."""
    problems = DomainError(error).message_dict
    for field, messages in problems.items():
        field = (rename or {}).get(field, field)
        target = field if field in form.fields else None
        for message in messages:
            if target is None and field and field != "__all__" and field not in ("detail", "non_field_errors"):
                message = f"{field.replace('_', ' ').capitalize()}: {message}"
            form.add_error(target, message)


def error_text(error: ValidationError) -> str:
    """A service's error as one line naming each field, for a flash message."""
    problems = DomainError(error).message_dict
    return "; ".join(
        " ".join(messages) if field in ("detail", "__all__") else f"{field.replace('_', ' ')}: {' '.join(messages)}"
        for field, messages in problems.items()
    )
