"""One spelling per social handle, whatever form a person or a spreadsheet gives it in.

`@Jane.Doe`, `jane.doe` and `https://www.instagram.com/jane.doe/?hl=en` are the same Instagram
account; storing one form is what makes (platform, handle) unique and upserts find the right row.
"""

import re
from urllib.parse import parse_qs, urlsplit

INSTAGRAM = "instagram"
TIKTOK = "tiktok"
X = "x"
YOUTUBE = "youtube"
FACEBOOK = "facebook"
LINKEDIN = "linkedin"
WHATSAPP = "whatsapp"

PLATFORM_HOSTS = {
    "instagram.com": INSTAGRAM,
    "instagr.am": INSTAGRAM,
    "tiktok.com": TIKTOK,
    "x.com": X,
    "twitter.com": X,
    "youtube.com": YOUTUBE,
    "facebook.com": FACEBOOK,
    "fb.com": FACEBOOK,
    "linkedin.com": LINKEDIN,
    "wa.me": WHATSAPP,
    "whatsapp.com": WHATSAPP,
}

HANDLE_PATTERNS = {
    INSTAGRAM: re.compile(r"[a-z0-9._]{1,30}"),
    TIKTOK: re.compile(r"[a-z0-9._]{2,24}"),
    X: re.compile(r"[a-z0-9_]{1,15}"),
    YOUTUBE: re.compile(r"UC[A-Za-z0-9_-]{22}|[a-z0-9._-]{3,100}"),
    FACEBOOK: re.compile(r"[a-z0-9.-]{1,50}|\d{5,20}"),
    LINKEDIN: re.compile(r"[\w%-]{3,100}"),
    WHATSAPP: re.compile(r"\d{7,15}"),
}

HANDLE_RULES = {
    INSTAGRAM: "1-30 letters, digits, dots or underscores",
    TIKTOK: "2-24 letters, digits, dots or underscores",
    X: "1-15 letters, digits or underscores",
    YOUTUBE: "a @handle of 3-100 characters or a channel id starting with UC",
    FACEBOOK: "a username of letters, digits and dots, or a numeric profile id",
    LINKEDIN: "the /in/ part of a profile URL",
    WHATSAPP: "a phone number in international form, 7-15 digits",
}

# First path segments that are site sections, not accounts.
RESERVED_SEGMENTS = {
    INSTAGRAM: {"p", "reel", "reels", "tv", "explore", "accounts", "direct", "stories"},
    X: {"i", "home", "intent", "search", "hashtag", "share", "messages", "explore", "settings"},
    FACEBOOK: {"groups", "events", "watch", "marketplace", "share", "sharer", "pages"},
}


MAX_INPUT_LENGTH = 2048  # longer than any profile URL; a longer cell is refused unread


class InvalidHandle(ValueError):
    """The value cannot be read as an account on the platform; the message says why."""


def _shown(raw: str) -> str:
    """The value as quoted in an error: printable and short, whatever was given."""
    return repr(raw if len(raw) <= 80 else raw[:77] + "...")


def _split(url: str):
    """urlsplit that never raises: a malformed address (`[` opens an IPv6 host) is an invalid handle."""
    try:
        parts = urlsplit(_with_scheme(url))
        parts.hostname  # noqa: B018 (parsing the host is what raises)
        return parts
    except ValueError:
        raise InvalidHandle(f"{_shown(url)} is not a valid address") from None


def platform_of_url(url: str) -> str | None:
    """The platform a profile URL belongs to, or None when the host is not a known platform."""
    try:
        host = (_split(url).hostname or "").lower()
    except InvalidHandle:
        return None
    for suffix, platform in PLATFORM_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return platform
    return None


def normalize_handle(platform: str, value: str) -> str:
    """Return the stored form of an account given as a handle, `@handle` or profile URL."""
    if platform not in HANDLE_PATTERNS:
        raise InvalidHandle(f"unknown platform {platform!r}")
    raw = (value or "").strip()
    if not raw:
        raise InvalidHandle("is empty")
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidHandle(f"is longer than {MAX_INPUT_LENGTH} characters")
    if _looks_like_url(raw):
        url_platform = platform_of_url(raw)
        if url_platform is None:
            raise InvalidHandle(f"{_shown(raw)} is not a profile URL on {platform}")
        if url_platform != platform:
            raise InvalidHandle(f"{_shown(raw)} is a {url_platform} URL, expected one on {platform}")
        handle = _handle_from_url(platform, raw)
    elif platform == WHATSAPP:
        handle = re.sub(r"[\s().+-]", "", raw)
    else:
        handle = raw.lstrip("@")
    if not (platform == YOUTUBE and handle.startswith("UC") and len(handle) == 24):
        handle = handle.lower()
    if not HANDLE_PATTERNS[platform].fullmatch(handle):
        raise InvalidHandle(f"{_shown(raw)} is not a valid {platform} handle ({HANDLE_RULES[platform]})")
    return handle


def profile_url(platform: str, handle: str) -> str:
    """The public address of the account, for people to open and for deep links."""
    if platform == INSTAGRAM:
        return f"https://www.instagram.com/{handle}/"
    if platform == TIKTOK:
        return f"https://www.tiktok.com/@{handle}"
    if platform == X:
        return f"https://x.com/{handle}"
    if platform == YOUTUBE:
        if handle.startswith("UC") and len(handle) == 24:
            return f"https://www.youtube.com/channel/{handle}"
        return f"https://www.youtube.com/@{handle}"
    if platform == FACEBOOK:
        if handle.isdigit():
            return f"https://www.facebook.com/profile.php?id={handle}"
        return f"https://www.facebook.com/{handle}"
    if platform == LINKEDIN:
        return f"https://www.linkedin.com/in/{handle}/"
    if platform == WHATSAPP:
        return f"https://wa.me/{handle}"
    raise InvalidHandle(f"unknown platform {platform!r}")


# A bare handle (`@maya.hart`, `447700900123`): nothing urlsplit could read as a scheme, a path, a
# user or a port, and no platform's host at its end. Such a value is never a URL, so it is not parsed
# as one: that parsing is most of the cost of reading the handles of a large import file.
BARE = re.compile(r"@?[A-Za-z0-9._-]+")
HOST_ENDINGS = tuple(PLATFORM_HOSTS)


def _looks_like_url(raw: str) -> bool:
    if BARE.fullmatch(raw) and not raw.lower().endswith(HOST_ENDINGS):
        return False
    return _parses_as_url(raw)


def _parses_as_url(raw: str) -> bool:
    return "/" in raw or raw.lower().startswith(("http:", "https:")) or platform_of_url(raw) is not None


def _with_scheme(url: str) -> str:
    return url if "://" in url else "https://" + url


def _handle_from_url(platform: str, url: str) -> str:
    parts = _split(url)
    segments = [segment for segment in parts.path.split("/") if segment]
    query = parse_qs(parts.query)
    if platform == FACEBOOK and segments[:1] == ["profile.php"]:
        return (query.get("id") or [""])[0]
    if platform == WHATSAPP:
        if segments:
            return segments[0].lstrip("+")
        return (query.get("phone") or [""])[0].lstrip("+")
    if platform == LINKEDIN:
        if len(segments) >= 2 and segments[0] == "in":
            return segments[1]
        raise InvalidHandle(f"{_shown(url)} is not a LinkedIn member profile (expected /in/<name>)")
    if platform == YOUTUBE:
        if segments and segments[0].startswith("@"):
            return segments[0][1:]
        if len(segments) >= 2 and segments[0] in {"channel", "c", "user"}:
            return segments[1]
        raise InvalidHandle(f"{_shown(url)} is not a YouTube channel URL")
    if platform == TIKTOK:
        if segments and segments[0].startswith("@"):
            return segments[0][1:]
        raise InvalidHandle(f"{_shown(url)} is not a TikTok profile URL (expected tiktok.com/@name)")
    if platform == INSTAGRAM and segments[:1] == ["stories"] and len(segments) >= 2:
        return segments[1]
    if not segments or segments[0].lower() in RESERVED_SEGMENTS.get(platform, set()):
        raise InvalidHandle(f"{_shown(url)} is not a profile URL on {platform}")
    return segments[0].lstrip("@")


# Query parameters that identify a post rather than track a click, per platform.
IDENTITY_QUERY_PARAMS = {YOUTUBE: {"v"}, FACEBOOK: {"id", "story_fbid", "v", "fbid"}}


def normalize_content_url(url: str) -> str:
    """One spelling per post URL, so `GET content/?url=` finds a post however the link was copied.

    Lower-cases the host, drops `www.`/`m.`, the fragment, tracking parameters and a trailing
    slash; keeps the parameters that identify the post (YouTube's `v`, Facebook's `id`).
    """
    raw = (url or "").strip()
    if not raw:
        raise ValueError("is empty")
    parts = urlsplit(_with_scheme(raw))
    host = (parts.hostname or "").lower()
    if not host or "." not in host:
        raise ValueError(f"{_shown(raw)} is not a web address")
    for prefix in ("www.", "m.", "mobile."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    platform = platform_of_url(host)
    keep = IDENTITY_QUERY_PARAMS.get(platform, set())
    query = parse_qs(parts.query)
    kept = "&".join(f"{key}={query[key][0]}" for key in sorted(keep) if key in query)
    path = parts.path.rstrip("/")
    return f"https://{host}{path}" + (f"?{kept}" if kept else "")
