"""The reader's time zone for the pages: dates show as "30 May 2027, 18:47" where the person is.

The browser reports its zone in the `tz` cookie (web/static/web/work.js sets it from
`Intl.DateTimeFormat`); an unknown or missing zone falls back to settings.TIME_ZONE."""

import zoneinfo

from django.utils import timezone

COOKIE = "tz"


def reader_zone(value: str):
    """A zoneinfo for a cookie's value, or None for anything that is not a known zone name."""
    if not value or len(value) > 64 or value.startswith(("/", ".")) or ".." in value:
        return None
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class ReaderTimeZoneMiddleware:
    """Activate the reader's time zone for the request (pages and API alike render in it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = reader_zone(request.COOKIES.get(COOKIE, ""))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
