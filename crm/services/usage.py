""" "May we use this post for X in Y until Z?": one rule, for the pages and the API.

A post may be used when one of its permission requests is granted, names the channel, covers the
country, and has not ended (or been withdrawn) by the date. The answer always says why, naming the
request it rests on, so a person can check the proof.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from crm import handles, territories
from crm.errors import DomainError
from crm.models import Content, PermissionRequest, UsageChannel

Status = PermissionRequest.Status


@dataclass(frozen=True)
class Answer:
    """Yes or no, the reason in words, and the request the answer rests on (None when there is none)."""

    yes: bool
    reason: str
    request: PermissionRequest | None = None


def human_date(value) -> str:
    """A date as people write it: "30 May 2027"."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value.day} {value:%B %Y}"


def channel_label(channel: str) -> str:
    return str(UsageChannel(channel).label) if channel in UsageChannel.values else channel


def channels_in_words(channels) -> str:
    """["paid_ads", "organic_social"] -> "Paid ads, organic social"."""
    words = ", ".join(channel_label(channel).lower() for channel in channels)
    return words[:1].upper() + words[1:]


def scope_in_words(request: PermissionRequest) -> str:
    """ "Paid ads, organic social; Germany, Austria, Switzerland; until 30 May 2027" (or "for 90 days" before
    the grant, "no end date")."""
    parts = [channels_in_words(request.channels), territories.describe(request.territory)]
    if request.exclusive:
        parts.append("exclusive")
    if request.rights_expire_at:
        parts.append(f"until {human_date(request.rights_expire_at)}")
    elif request.duration_days:
        parts.append(f"for {request.duration_days} days from the grant")
    else:
        parts.append("no end date")
    return "; ".join(part for part in parts if part)


def parse_question(*, channel: str, country: str, on_date) -> tuple[str, str, datetime.date]:
    """Check the question's parts, each error by its field: a known channel, an ISO country, a date."""
    errors = {}
    if channel not in UsageChannel.values:
        errors["channel"] = [f"Choose one of {', '.join(UsageChannel.values)}."]
    try:
        code = territories.country_code(country)
    except territories.UnknownTerritory:
        code = ""
        errors["territory"] = [f"{country!r} is not a country; use an ISO code like DE or a name like Germany."]
    if on_date in (None, ""):
        on_date = timezone.localdate()
    elif isinstance(on_date, str):
        try:
            on_date = datetime.date.fromisoformat(on_date)
        except ValueError:
            errors["date"] = ["Give the date as YYYY-MM-DD."]
    if errors:
        raise DomainError(errors)
    return channel, code, on_date


def _check(request: PermissionRequest, channel: str, country: str, on_date: datetime.date) -> str | None:
    """Why this granted request does not allow the use, or None when it does."""
    if channel not in request.channels:
        verb = "are" if channel == UsageChannel.PAID_ADS else "is"
        return f"{channel_label(channel).lower()} {verb} not in the grant"
    if not territories.covers(request.territory, country):
        return f"{territories.country_name(country)} is outside {request.territory}"
    if request.decided_at and on_date < timezone.localtime(request.decided_at).date():
        return f"the rights were granted on {human_date(request.decided_at)}"
    if request.rights_expire_at and on_date >= timezone.localtime(request.rights_expire_at).date():
        return f"the grant ends on {human_date(request.rights_expire_at)}"
    return None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def may_use(content: Content, channel: str, country: str, on_date=None) -> Answer:
    """May the brand use this post on `channel` in `country` (ISO code or name) on `on_date` (today if None)?"""
    channel, country, on_date = parse_question(channel=channel, country=country, on_date=on_date)
    requests = list(content.permission_requests.order_by("-decided_at", "-id"))
    if not requests:
        return Answer(False, "No rights were asked for this post.")
    granted = [request for request in requests if request.status == Status.GRANTED]
    problems = []
    for request in granted:
        problem = _check(request, channel, country, on_date)
        if problem is None:
            return Answer(True, f"Yes: {scope_in_words(request)} (request #{request.pk}).", request)
        problems.append((request, problem))
    if problems:
        request, problem = problems[0]
        return Answer(False, f"No: {problem} (request #{request.pk}).", request)
    latest = requests[0]
    when = human_date(latest.decided_at or latest.updated_at)
    reasons = {
        Status.REVOKED: f"No: the creator withdrew the rights (request #{latest.pk}).",
        Status.EXPIRED: f"No: the rights expired (request #{latest.pk}, {when}).",
        Status.DECLINED: f"No: the creator declined on {when} (request #{latest.pk}).",
        Status.REQUESTED: f"No: asked, no answer yet (request #{latest.pk}).",
        Status.DRAFT: f"No: the request has not been sent yet (request #{latest.pk}).",
    }
    return Answer(False, reasons.get(latest.status, _capital(f"no: the request is {latest.status}.")), latest)


def find_post(url: str, posts) -> Content:
    """The post a link points at (in any form it was copied), among `posts` (those the asker may see)."""
    if not (url or "").strip():
        raise DomainError({"url": ["Paste the post's link."]})
    try:
        normalised = handles.normalize_content_url(url.strip())
    except ValueError as error:
        raise DomainError({"url": [f"The link {error}."]}) from None
    post = posts.filter(url=normalised).select_related("creator").first()
    if post is None:
        raise DomainError({"url": ["No post of yours has this link; add it on the creator's page first."]})
    return post


@dataclass(frozen=True)
class Asked:
    """A question asked by link: the post found, the country as its code, the day, and the answer."""

    post: Content
    channel: str
    country: str
    on_date: datetime.date
    answer: Answer


def ask_by_link(url: str, channel: str, country: str, on_date, *, posts) -> Asked:
    """The pages' and the API's question: every bad part named by its field (the link among them)."""
    errors = {}
    try:
        channel, country, on_date = parse_question(channel=channel, country=country, on_date=on_date)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        post = find_post(url, posts)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise DomainError(errors)
    return Asked(post, channel, country, on_date, may_use(post, channel, country, on_date))
