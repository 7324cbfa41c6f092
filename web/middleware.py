"""The reader's time zone for the pages: dates show as "30 May 2027, 18:47" where the person is.

First the zone the person chose on their settings page (web/preferences.py keeps it in the session),
else the one the browser reports in the `tz` cookie (web/static/web/app.js sets it from
`Intl.DateTimeFormat`); an unknown or missing zone falls back to settings.TIME_ZONE."""

import zoneinfo

from django.conf import settings
from django.contrib.auth import SESSION_KEY as USER_KEY
from django.utils import timezone

from web import preferences

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
        zone = reader_zone(self.chosen(request)) or reader_zone(request.COOKIES.get(COOKIE, ""))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def chosen(request) -> str:
        """The signed-in person's chosen zone, from the session; a session from before the setting
        existed looks it up once and keeps it."""
        session = getattr(request, "session", None)
        if session is None or not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            return ""
        if preferences.SESSION_KEY not in session and session.get(USER_KEY):
            session[preferences.SESSION_KEY] = preferences.time_zone_of_id(session[USER_KEY])
        return session.get(preferences.SESSION_KEY, "")
