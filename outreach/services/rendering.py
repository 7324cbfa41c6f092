"""A template rendered for one creator: the text exactly as it will go out, checked against the
platform's limits; and which template a launch starts with."""

from crm.errors import DomainError
from crm.models import Creator, SocialAccount
from outreach import templating
from outreach.models import RECIPIENT_PLATFORM, MessageTemplate, SenderPlatform
from outreach.services.templates import ensure_usable


def render_for(
    template: MessageTemplate,
    creator: Creator,
    *,
    platform: str,
    handle: str = "",
    campaign=None,
    sender=None,
    permission_request=None,
    content=None,
) -> tuple[str, str]:
    """(subject, text) of a template for one creator; raises RenderError with the reason."""
    context = templating.build_context(
        creator,
        platform=platform,
        handle=handle,
        campaign=campaign,
        content=content,
        sender=sender,
        permission_request=permission_request,
    )
    subject = templating.parse(template.subject) if template.subject else None
    return _finish(platform, templating.parse(template.body), subject, context)


class Renderer:
    """One template for many creators (a launch's members): the texts are parsed once and the
    campaign's and sender's values read once; `render` gives what `render_for` gives."""

    def __init__(self, template: MessageTemplate, *, platform: str, campaign=None, sender=None):
        self.platform = platform
        self.body = templating.parse(template.body)
        self.subject = templating.parse(template.subject) if template.subject else None
        self.context = templating.build_context(_NOBODY, platform=platform, campaign=campaign, sender=sender)

    def render(self, creator, handle: str = "") -> tuple[str, str]:
        """(subject, text) for one creator; raises RenderError with the reason."""
        context = dict(self.context)
        context["creator.name"] = creator.name
        context["creator.first_name"] = creator.first_name
        context["creator.country"] = creator.country
        context["creator.handle"] = handle
        return _finish(self.platform, self.body, self.subject, context)


class _Nobody:
    name = first_name = country = None


_NOBODY = _Nobody()


def _finish(platform: str, body, subject, context) -> tuple[str, str]:
    text = templating.render_parsed(body, context)
    subject = templating.render_parsed(subject, context) if subject is not None else ""
    problem = templating.check_length(platform, text)
    if problem:
        raise templating.RenderError(problem)
    if platform == SenderPlatform.EMAIL and not subject:
        raise templating.RenderError("An email needs a subject; the template has none.")
    return subject, text


def handle_on(creator: Creator, platform: str) -> str:
    """The creator's handle on the account a sender platform writes to ("" for email or none)."""
    wanted = RECIPIENT_PLATFORM.get(platform)
    if not wanted:
        return ""
    return SocialAccount.objects.filter(creator=creator, platform=wanted).values_list("handle", flat=True).first() or ""


def first_template(template, sequence) -> MessageTemplate:
    """The template a launch sends first: the one chosen, or the sequence's step 0 (one of the two).
    An archived template is refused, also as any step of the sequence (its follow-ups would use it)."""
    if bool(template) == bool(sequence):
        raise DomainError({"template": "Choose a template or a sequence (one of them)."})
    if sequence:
        steps = {step.position: step for step in sequence.steps.select_related("template")}
        if 0 not in steps:
            raise DomainError({"sequence": "This sequence has no first step (position 0)."})
        for position in sorted(steps):
            archived = steps[position].template
            if archived.archived_at is not None:
                raise DomainError(
                    {"sequence": [f"Step {position + 1} uses the archived template “{archived.name}”; "
                                  "unarchive it or change the sequence."]}
                )  # fmt: skip
        return steps[0].template
    ensure_usable(template)
    return template
