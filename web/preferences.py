"""A person's page settings (today the time zone), the rules for them, and the zones offered.

The chosen zone lives in `web.Preferences`; it is copied into the session when the person signs in
(and when they change it), so the middleware reads it without a query on every page."""

import functools
import zoneinfo
from pathlib import Path

import pycountry
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from crm.errors import DomainError
from web.models import Preferences

SESSION_KEY = "web.time_zone"  # "" when the person chose none (automatic)
HIDDEN_PREFIXES = ("Etc/", "SystemV/", "posix", "right/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")


@functools.cache
def _countries_by_zone() -> dict[str, str]:
    """Zone name -> the country names it is used in, from the system's zone.tab and pycountry."""
    found: dict[str, list[str]] = {}
    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone.tab"
        if not table.is_file():
            continue
        for line in table.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or not line.strip():
                continue
            code, _coordinates, zone, *_rest = line.split("\t")
            country = pycountry.countries.get(alpha_2=code)
            found.setdefault(zone, []).append(getattr(country, "common_name", None) or getattr(country, "name", code))
        break
    return {zone: ", ".join(names) for zone, names in found.items()}


@functools.cache
def zone_choices() -> list[tuple[str, str]]:
    """The zones a person may choose, by name, each with its country ("Europe/Berlin (Germany)")."""
    countries = _countries_by_zone()
    zones = sorted(
        zone for zone in zoneinfo.available_timezones() if "/" in zone and not zone.startswith(HIDDEN_PREFIXES)
    )
    zones = sorted(set(zones) | {"UTC", settings.TIME_ZONE})
    return [(zone, f"{zone.replace('_', ' ')} ({countries[zone]})" if zone in countries else zone.replace("_", " "))
            for zone in zones]  # fmt: skip


def time_zone_of(user) -> str:
    """The zone this person chose, or "" for automatic (the browser's, else settings.TIME_ZONE)."""
    return time_zone_of_id(user.pk)


def time_zone_of_id(user_id) -> str:
    return Preferences.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first() or ""


def set_time_zone(user, time_zone: str, *, session=None) -> Preferences:
    """Choose the zone dates are shown in ("" for automatic); an unknown name is refused by field.
    Given the person's session, the new zone applies from their next page on."""
    time_zone = (time_zone or "").strip()
    if time_zone and time_zone not in dict(zone_choices()):
        raise DomainError({"time_zone": [f"“{time_zone[:64]}” is not a time zone we know; choose one from the list."]})
    preferences, _ = Preferences.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    if session is not None:
        session[SESSION_KEY] = time_zone
    return preferences


@receiver(user_logged_in, dispatch_uid="web.preferences.remember_time_zone")
def remember_time_zone(sender, request, user, **kwargs):
    """On sign-in, the person's zone goes into their session (one query then, none per page)."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = time_zone_of(user)
