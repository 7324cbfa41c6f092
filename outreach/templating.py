"""A deliberately tiny template language for outreach messages.

`{{ creator.first_name }}` and `{{ creator.first_name|default:"there" }}` are all it knows. The
variables form a fixed list built from plain values, so a template cannot call methods, walk
relations or reach the database; an unknown variable is an error when the template is saved, and a
missing value is an error when a message is rendered (never a silently empty gap).
"""

import functools
import re
from dataclasses import dataclass

from crm.models import UsageChannel
from outreach.platforms import EMAIL_SUBJECT_LIMIT, SenderPlatform, text_length

TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
EXPRESSION = re.compile(r"\s*([a-z_]+\.[a-z_]+)\s*(?:\|\s*default\s*:\s*\"([^\"]*)\"\s*)?")

VARIABLES = {
    "creator.name": "The creator's full name",
    "creator.first_name": "The first word of the creator's name",
    "creator.country": "The creator's country code",
    "creator.handle": "The creator's handle on the message's platform",
    "campaign.name": "The campaign's name",
    "campaign.brand": "The brand running the campaign",
    "campaign.approval_hashtag": "The hashtag creators reply with to grant rights",
    "campaign.terms_url": "The campaign's terms link",
    "content.url": "The post's address",
    "sender.name": "The sending account's name",
    "permission_request.approval_hashtag": "The hashtag that grants this request",
    "permission_request.terms_url": "The terms link of this request",
    "permission_request.scope": "Where the post may be used, in words",
    "permission_request.expiry": "For how long, in words",
}

# Long but realistic values, to check a template against the platforms' limits when it is saved.
SAMPLE_CONTEXT = {
    "creator.name": "Alexandra Montgomery-Whitfield",
    "creator.first_name": "Alexandra",
    "creator.country": "GB",
    "creator.handle": "alexandra.montgomery.whitfield",
    "campaign.name": "Summer Glow Creator Programme 2026",
    "campaign.brand": "Acme Skin International",
    "campaign.approval_hashtag": "#YesAcmeSkinSummer",
    "campaign.terms_url": "https://acme-skin.example.com/legal/ugc-terms/2026-summer",
    "content.url": "https://www.instagram.com/p/C8xYzAbCdEfGhIjK/",
    "sender.name": "Acme Skin Partnerships",
    "permission_request.approval_hashtag": "#YesAcmeSkinSummer",
    "permission_request.terms_url": "https://acme-skin.example.com/legal/ugc-terms/2026-summer",
    "permission_request.scope": "organic social, paid ads, website, email and print, worldwide, exclusive",
    "permission_request.expiry": "for 365 days",
}


class TemplateError(ValueError):
    """The template itself is wrong (syntax or unknown variable); the message names it."""


class RenderError(ValueError):
    """A message cannot be rendered for this creator (a missing value, or too long)."""

    def __init__(self, message: str, variable: str = ""):
        super().__init__(message)
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Parsed:
    """A template text read once: the literal text before each variable, the variable and its default,
    the text after the last one, and the TemplateError met while reading (raised, as `render` always
    did, only once the variables before it are filled)."""

    parts: tuple[tuple[str, str, str | None], ...]
    tail: str
    error: str = ""


@functools.lru_cache(maxsize=256)
def parse(text: str) -> Parsed:
    """The parsed form of a text, read once per distinct text (a launch renders one template for
    thousands of members)."""
    text = text or ""
    if "{%" in text or "{#" in text:
        return Parsed((), text, "Only {{ variables }} are allowed; template tags and comments are not.")
    parts, position = [], 0
    for match in TAG.finditer(text):
        expression = EXPRESSION.fullmatch(match.group(1))
        if not expression:
            error = f"Cannot read {match.group(0)!r}: write {{{{ creator.first_name }}}}."
            return Parsed(tuple(parts), text[position:], error)
        variable, default = expression.group(1), expression.group(2)
        if variable not in VARIABLES:
            error = f"Unknown variable {variable!r}. Known: {', '.join(VARIABLES)}."
            return Parsed(tuple(parts), text[position:], error)
        parts.append((text[position : match.start()], variable, default))
        position = match.end()
    unopened = TAG.sub("", text)
    if "{{" in unopened or "}}" in unopened:
        return Parsed(tuple(parts), text[position:], "A '{{' or '}}' is not closed or opened.")
    return Parsed(tuple(parts), text[position:])


def variables_in(text: str) -> list[str]:
    """The variables a text uses, in order, each once; raises TemplateError."""
    parsed = parse(text or "")
    if parsed.error:
        raise TemplateError(parsed.error)
    seen = []
    for _, variable, _ in parsed.parts:
        if variable not in seen:
            seen.append(variable)
    return seen


def render(text: str, context: dict[str, str | None]) -> str:
    """Fill the variables; raises RenderError naming the first one with no value and no default."""
    return render_parsed(parse(text or ""), context)


def render_parsed(parsed: Parsed, context: dict[str, str | None]) -> str:
    """`render` of a text already parsed."""
    pieces = []
    for literal, variable, default in parsed.parts:
        value = context.get(variable)
        if value is None or value == "":
            if default is None:
                raise RenderError(f"No value for {variable} ({VARIABLES[variable].lower()}).", variable)
            value = default
        pieces.append(literal)
        pieces.append(str(value))
    if parsed.error:
        raise TemplateError(parsed.error)
    pieces.append(parsed.tail)
    return "".join(pieces)


def check_length(platform: str, text: str, *, what: str = "The message") -> str | None:
    length, limit, unit = text_length(platform, text)
    if length > limit:
        label = SenderPlatform(platform).label
        return f"{what} is {length} {unit} on {label}; the limit is {limit} {unit}."
    return None


def check_lengths(template) -> dict[str, str]:
    """Errors by field when the template, filled with long sample values, exceeds a platform's limit."""
    errors = {}
    body = render_or_sample(template.body)
    for platform in template.platforms or []:
        if platform in SenderPlatform.values:
            problem = check_length(platform, body, what="With long names the message")
            if problem:
                errors["body"] = problem
                break
    subject = render_or_sample(template.subject)
    if len(subject) > EMAIL_SUBJECT_LIMIT:
        errors["subject"] = f"With long names the subject is {len(subject)} characters; keep it under 200."
    if "email" in (template.platforms or []) and not template.subject.strip():
        errors["subject"] = "An email template needs a subject."
    return errors


def render_or_sample(text: str) -> str:
    return render(text, SAMPLE_CONTEXT)


def build_context(
    creator, *, platform: str = "", handle: str = "", campaign=None, content=None, sender=None, permission_request=None
) -> dict[str, str | None]:
    """The values a message may use, read from the objects; nothing else is reachable."""
    request = permission_request
    context = {
        "creator.name": creator.name,
        "creator.first_name": creator.first_name,
        "creator.country": creator.country,
        "creator.handle": handle,
        "campaign.name": campaign.name if campaign else None,
        "campaign.brand": campaign.brand if campaign else None,
        "campaign.approval_hashtag": campaign.approval_hashtag if campaign else None,
        "campaign.terms_url": campaign.terms_url if campaign else None,
        "content.url": (content.url if content else None) or (request.content.url if request else None),
        "sender.name": sender.name if sender else None,
        "permission_request.approval_hashtag": request.approval_hashtag if request else None,
        "permission_request.terms_url": request.terms_url if request else None,
        "permission_request.scope": describe_scope(request) if request else None,
        "permission_request.expiry": (
            (f"for {request.duration_days} days" if request.duration_days else "with no end date") if request else None
        ),
    }
    return context


def describe_scope(request) -> str:
    channels = [UsageChannel(channel).label.lower() for channel in request.channels]
    words = ", ".join(channels[:-1]) + (" and " if len(channels) > 1 else "") + channels[-1] if channels else ""
    return f"{words}, {request.territory}" + (", exclusive" if request.exclusive else "")
