"""Territories of a grant: ISO 3166 country codes and a few regions (EU, EEA, worldwide), never free text.

A grant's territory is stored as text ("GB, IE, US", "EU", "worldwide") so old rows stay readable;
`parse` turns what people type (codes, English names, "UK", separators , ; / and) into the
canonical list, `normalise` into the stored text, `covers` answers whether a country is inside it
and `describe` says it in words ("Germany, Austria, Switzerland").
"""

import re

import pycountry

WORLDWIDE = "worldwide"
EU = [
    "AT",
    "BE",
    "BG",
    "HR",
    "CY",
    "CZ",
    "DK",
    "EE",
    "FI",
    "FR",
    "DE",
    "GR",
    "HU",
    "IE",
    "IT",
    "LV",
    "LT",
    "LU",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SK",
    "SI",
    "ES",
    "SE",
]
EEA = [*EU, "IS", "LI", "NO"]
REGIONS = {"EU": EU, "EEA": EEA}
REGION_NAMES = {WORLDWIDE: "worldwide", "EU": "the European Union", "EEA": "the European Economic Area"}
ALIASES = {
    "WORLD": WORLDWIDE,
    "WORLDWIDE": WORLDWIDE,
    "GLOBAL": WORLDWIDE,
    "ALL": WORLDWIDE,
    "UK": "GB",
    "GREAT BRITAIN": "GB",
    "EUROPEAN UNION": "EU",
    "USA": "US",
    "UNITED STATES": "US",
}
SHORT_NAMES = {"GB": "the United Kingdom", "US": "the United States"}
SEPARATORS = re.compile(r"\s*(?:,|;|/|\+|&|\band\b)\s*", re.IGNORECASE)


class UnknownTerritory(ValueError):
    """A part of a territory that is neither an ISO country nor a region we know."""


def _one(part: str) -> str:
    key = part.strip().upper()
    if key in ALIASES:
        return ALIASES[key]
    if key in REGIONS:
        return key
    if key.lower() == WORLDWIDE:
        return WORLDWIDE
    if len(key) == 2 and pycountry.countries.get(alpha_2=key):
        return key
    try:
        return pycountry.countries.lookup(part.strip()).alpha_2
    except LookupError:
        raise UnknownTerritory(part.strip()) from None


def parse(text: str) -> list[str]:
    """The territory's parts as codes (`["GB", "IE"]`, `["EU"]`, `["worldwide"]`); raises UnknownTerritory."""
    parts = [part for part in SEPARATORS.split(text or "") if part.strip()]
    if not parts:
        raise UnknownTerritory("")
    codes: list[str] = []
    for part in parts:
        code = _one(part)
        if code not in codes:
            codes.append(code)
    if WORLDWIDE in codes:
        return [WORLDWIDE]
    return codes


def normalise(text: str) -> str:
    """The stored form: "GB, IE" (codes upper-case, comma-separated) or "worldwide"."""
    return ", ".join(parse(text))


def country_code(text: str) -> str:
    """One country as its ISO code ("Germany", "de", "DE" -> "DE"); raises UnknownTerritory."""
    code = _one(text or "")
    if code == WORLDWIDE or code in REGIONS:
        raise UnknownTerritory(text)
    return code


def covers(territory: str, country: str) -> bool:
    """Whether a grant's territory includes the country; an unreadable old value covers nothing."""
    try:
        codes = parse(territory)
    except UnknownTerritory:
        return False
    if WORLDWIDE in codes:
        return True
    return any(code == country or country in REGIONS.get(code, ()) for code in codes)


def country_name(code: str) -> str:
    """A country's English name ("DE" -> "Germany"); the code itself if unknown."""
    if code in SHORT_NAMES:
        return SHORT_NAMES[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def describe(territory: str) -> str:
    """A territory in words ("Germany, Austria, Switzerland"); an old free-text value as it was written."""
    try:
        codes = parse(territory)
    except UnknownTerritory:
        return territory
    names = [REGION_NAMES.get(code) or country_name(code) for code in codes]
    return ", ".join(name[4:] if name.startswith("the ") and len(names) > 1 else name for name in names)


def choices() -> list[tuple[str, str]]:
    """For a picker: regions first, then every country by name."""
    countries = sorted(
        ((c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries), key=lambda x: x[1]
    )
    return [(WORLDWIDE, "Worldwide"), ("EU", "European Union"), ("EEA", "European Economic Area"), *countries]
