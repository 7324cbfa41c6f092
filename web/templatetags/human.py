"""Words and numbers as people read them: "23.4k" followers, "30 May 2027, 18:47" in the reader's time
zone, a grant's scope in words ("Paid ads, organic social; Germany, Austria, Switzerland; until 30 May
2027"). `{% load human %}` in a template."""

import datetime

from django import template
from django.utils import timezone

from crm import territories
from crm.services import usage

register = template.Library()


@register.filter
def followers(value) -> str:
    """1234 -> "1.2k", 23400 -> "23.4k", 1200000 -> "1.2M"; None -> ""."""
    if value in (None, ""):
        return ""
    number = int(value)
    sizes = ((1_000, "k"), (1_000_000, "M"), (1_000_000_000, "B"))
    if abs(number) < 1000:
        return str(number)
    for index, (size, suffix) in enumerate(sizes):
        text = f"{number / size:.1f}".rstrip("0").rstrip(".")
        if abs(float(text)) < 1000 or index == len(sizes) - 1:
            return f"{text}{suffix}"
    return str(number)


@register.filter
def number(value) -> str:
    """A count with thousands separators: 12345 -> "12,345"; None -> "0"."""
    return f"{int(value or 0):,}"


@register.filter
def when(value) -> str:
    """A moment in the reader's time zone: "30 May 2027, 18:47"; a date alone: "30 May 2027". An ISO
    text (the proof's export form) is read first; any other text is shown as it is."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        return f"{local.day} {local:%B %Y, %H:%M}"
    return usage.human_date(value)


@register.filter
def day(value) -> str:
    """A date (or a moment's local date) as "30 May 2027"."""
    return usage.human_date(value) if value else ""


@register.filter
def scope_words(permission_request) -> str:
    """A permission request's scope in one line of words."""
    return usage.scope_in_words(permission_request)


@register.filter
def territory_words(value: str) -> str:
    """ "DE, AT, CH" -> "Germany, Austria, Switzerland"; free text as it was written."""
    return territories.describe(value or "")


@register.filter
def get_item(mapping, key):
    """`{{ words|get_item:mode }}`: a dict's value by a variable key."""
    return mapping.get(key, key) if mapping else key
