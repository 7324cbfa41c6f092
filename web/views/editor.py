"""Templates and sequences: an editor with the list of variables, errors by field, a live preview for
a chosen creator, and each platform's length limit counted as you type (web/static/web/editor.js)."""

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.forms import formset_factory
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from crm.errors import DomainError
from crm.models import Campaign, CampaignMember, Creator, Role, SocialAccount, role_of
from outreach import services, templating
from outreach.models import (
    LENGTH_LIMITS,
    KeywordRule,
    MessageTemplate,
    OutreachMessage,
    SenderAccount,
    SenderPlatform,
    Sequence,
    SequenceStep,
    text_length,
)
from web.access import page, visible_campaigns
from web.forms import error_text, show_errors

PREVIEW_CREATORS = 200


class TemplateForm(forms.ModelForm):
    platforms = forms.MultipleChoiceField(
        label="Written for",
        choices=SenderPlatform.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Its length is checked against each one's limit; none ticked means any platform.",
    )

    class Meta:
        model = MessageTemplate
        fields = ["name", "platforms", "subject", "body", "whatsapp_template_name", "whatsapp_template_language"]
        labels = {"whatsapp_template_name": "WhatsApp template name", "whatsapp_template_language": "Its language"}
        widgets = {"body": forms.Textarea(attrs={"rows": 8})}


class PreviewForm(forms.Form):
    """What the preview renders: the draft, for a creator (and campaign) on a platform."""

    body = forms.CharField(required=False)
    subject = forms.CharField(required=False)
    preview_creator = forms.ModelChoiceField(
        Creator.objects.filter(erased_at__isnull=True),
        label="Creator",
        error_messages={"required": "Choose a creator to preview for."},
    )
    preview_campaign = forms.ModelChoiceField(Campaign.objects.none(), required=False, label="Campaign")
    preview_platform = forms.ChoiceField(choices=SenderPlatform.choices, label="Platform")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preview_campaign"].queryset = visible_campaigns(user)


class StepForm(forms.Form):
    template = forms.ModelChoiceField(MessageTemplate.objects.none(), label="Template", required=False)
    delay_days = forms.IntegerField(
        label="Days after the previous step", min_value=0, max_value=365, initial=0, required=False
    )

    def __init__(self, *args, templates=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates if templates is not None else services.usable_templates()


StepFormSet = formset_factory(StepForm, extra=2, max_num=20, absolute_max=20)


class SequenceForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200)


def _preview_choices(user):
    """Creators to preview for: members of the campaigns this person sees (a bounded list), and those campaigns."""
    campaigns = visible_campaigns(user).order_by("name")
    members = CampaignMember.objects.filter(campaign__in=campaigns.values("pk"))
    creators = Creator.objects.filter(erased_at__isnull=True)
    if role_of(user) != Role.ADMIN:
        creators = creators.filter(pk__in=members.values("creator_id"))
    creators = (
        creators.order_by("name", "id")
        .only("pk", "name")
        .prefetch_related(Prefetch("accounts", SocialAccount.objects.only("pk", "creator_id", "platform", "handle")))
    )  # the handle beside the name: two people may share one
    return creators[:PREVIEW_CREATORS], campaigns.only("pk", "name")


def _with_use(queryset):
    """Whether anything used each template (a message, a step, an auto-reply, a keyword rule), in the
    list's one query: the list offers Delete only where nothing did, Archive otherwise."""
    template = OuterRef("pk")
    return queryset.annotate(
        used=Exists(OutreachMessage.objects.filter(template=template))
        | Exists(SequenceStep.objects.filter(template=template))
        | Exists(SenderAccount.objects.filter(auto_reply_template=template))
        | Exists(KeywordRule.objects.filter(template=template))
    )


@page
def template_list(request):
    """The templates in use with the variables each uses (archived ones under `?archived=1`), and
    every sequence with its steps."""
    archived = request.GET.get("archived") == "1"
    context = {
        "section": "templates",
        "archived": archived,
        "archived_count": MessageTemplate.objects.filter(archived_at__isnull=False).count(),
        "templates": _with_use(MessageTemplate.objects.filter(archived_at__isnull=not archived).order_by("name", "id")),
        "sequences": Sequence.objects.order_by("name", "id").prefetch_related(
            Prefetch("steps", SequenceStep.objects.select_related("template").order_by("position"))
        ),
    }
    return render(request, "web/editor/list.html", context)


@page
def template_edit(request, pk: int | None = None):
    """Write or change a template; unknown variables and texts over a platform's limit are named by field."""
    template = get_object_or_404(MessageTemplate, pk=pk) if pk else None
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        if saved.created_by_id is None:
            saved.created_by = request.user
        saved.save()
        messages.success(request, f"Saved “{saved.name}”.")
        return redirect("web:template", pk=saved.pk)
    creators, campaigns = _preview_choices(request.user)
    context = {
        "section": "templates",
        "template": template,
        "form": form,
        "variables": templating.VARIABLES,
        "limits": json.dumps({platform: list(LENGTH_LIMITS[platform]) for platform in SenderPlatform.values}),
        "platform_labels": json.dumps(dict(SenderPlatform.choices)),
        "creators": creators,
        "campaigns": campaigns,
        "platforms": SenderPlatform.choices,
    }
    return render(request, "web/editor/template.html", context)


def _field_of(error, body: str) -> str:
    """Which field a rendering problem is in: a variable missing from the body, else the subject."""
    try:
        in_body = templating.variables_in(body)
    except templating.TemplateError:
        return "body"
    if isinstance(error, templating.TemplateError):
        return "subject"
    if error.variable:
        return "body" if error.variable in in_body else "subject"
    return "subject" if "subject" in str(error).lower() else "body"


@require_POST
@page
def template_preview(request):
    """The draft rendered for the chosen creator (htmx): the text and its length, or the problem by field."""
    form = PreviewForm(request.POST, user=request.user)
    result = {"form": form}
    if form.is_valid():
        data = form.cleaned_data
        draft = MessageTemplate(body=data["body"], subject=data["subject"])
        platform, creator = data["preview_platform"], data["preview_creator"]
        try:
            subject, text = services.render_for(
                draft,
                creator,
                platform=platform,
                handle=services.handle_on(creator, platform),
                campaign=data["preview_campaign"],
            )
        except (templating.RenderError, templating.TemplateError) as error:
            result["problem"] = (_field_of(error, data["body"]), str(error))
        else:
            length, limit, unit = text_length(platform, text)
            result.update(
                subject=subject,
                text=text,
                length=length,
                limit=limit,
                unit=unit,
                platform_label=SenderPlatform(platform).label,
            )
    return render(request, "web/editor/_preview.html", result)


@page
def sequence_edit(request, pk: int | None = None):
    """A first message and its follow-ups: the template of each step and the days it waits."""
    sequence = get_object_or_404(Sequence, pk=pk) if pk else None
    initial_steps = (
        [{"template": step.template_id, "delay_days": step.delay_days} for step in sequence.steps.order_by("position")]
        if sequence
        else []
    )
    form = SequenceForm(request.POST or None, initial={"name": sequence.name} if sequence else None)
    # The picker offers templates in use, and archived ones only where this sequence already has them.
    kept = Q(pk__in=SequenceStep.objects.filter(sequence=sequence).values("template_id")) if sequence else Q(pk=None)
    templates = MessageTemplate.objects.filter(Q(archived_at__isnull=True) | kept).order_by("name", "id")
    steps = StepFormSet(
        request.POST or None, initial=initial_steps, prefix="steps", form_kwargs={"templates": templates}
    )
    if request.method == "POST" and form.is_valid() and steps.is_valid():
        chosen = [
            {"template": step["template"], "delay_days": step.get("delay_days") or 0}
            for step in steps.cleaned_data
            if step.get("template")
        ]
        try:
            saved = services.save_sequence(sequence, actor=request.user, name=form.cleaned_data["name"], steps=chosen)
        except ValidationError as error:
            _show_sequence_errors(form, steps, error)
        else:
            messages.success(request, f"Saved the sequence “{saved.name}”.")
            return redirect("web:templates")
    context = {"section": "templates", "sequence": sequence, "form": form, "steps": steps}
    return render(request, "web/editor/sequence.html", context)


def _show_sequence_errors(form, steps, error) -> None:
    """The sequence rules' errors (outreach.services.sequences) on the step forms they are about."""
    problems = DomainError(error).errors
    by_step = problems.pop("steps", None)
    filled = [step for step in steps.forms if step.cleaned_data.get("template")]
    if isinstance(by_step, dict):
        for index, fields in by_step.items():
            for field, texts in fields.items():
                filled[int(index)].add_error(field if field in StepForm.base_fields else None, texts)
    elif by_step:
        form.add_error(None, "Steps: " + " ".join(by_step))
    if problems:
        show_errors(form, DomainError(problems))


@require_POST
@page
def template_delete(request, pk: int):
    """Delete a template nothing ever used (the list asks first); one that was used is refused with
    the offer to archive it."""
    template = get_object_or_404(MessageTemplate, pk=pk)
    try:
        services.delete_template(template, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Deleted “{template.name}”.")
    return redirect("web:templates")


@require_POST
@page
def template_archive(request, pk: int):
    """Archive a template: out of the pickers, refused by new launches and sequences, kept in history."""
    template = services.archive_template(get_object_or_404(MessageTemplate, pk=pk), actor=request.user)
    messages.success(request, f"Archived “{template.name}”; it is no longer offered for new messages.")
    return redirect("web:templates")


@require_POST
@page
def template_unarchive(request, pk: int):
    """Bring an archived template back to the pickers."""
    template = services.unarchive_template(get_object_or_404(MessageTemplate, pk=pk), actor=request.user)
    messages.success(request, f"“{template.name}” is offered again.")
    return redirect("web:templates")
