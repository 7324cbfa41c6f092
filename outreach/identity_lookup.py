"""Ask the platform who a platform id is: the Instagram / Messenger User Profile API
(`GET /{IGSID|PSID}?fields=...` with the receiving account's token, PLATFORMS.md §1 "Who wrote").

Run inside inbound processing (already a queued task), with a short timeout, a cache (answers and
refusals), the account's own lookup budget, and a backoff after the platform says "slow down", so a
slow or rate-limited Graph API never holds up a webhook and never gets hammered. A transient failure
returns None and the caller threads the message onto a provisional contact; `outreach.tasks.
reconcile_identity` asks again later and merges the provisional contact into the known creator.
"""

import logging
from dataclasses import asdict, dataclass

import requests
from django.core.cache import cache

from core.backoff import backoff_seconds
from outreach.models import SenderAccount, SenderPlatform

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 3.0
CACHE_SECONDS = 24 * 3600  # profile_pic URLs expire after a few days (§1): a day is safe
REFUSED_CACHE_SECONDS = 6 * 3600
# Meta documents no figure for the User Profile API on its own; it counts against the app's and
# account's Graph call budget (BUC). We hold ourselves to a modest budget per account. [U]
LOOKUPS_PER_MINUTE = 60
FIELDS = {
    SenderPlatform.INSTAGRAM: "name,username,profile_pic,follower_count,is_verified_user",
    SenderPlatform.MESSENGER: "first_name,last_name,name,profile_pic",
}
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})


@dataclass(frozen=True)
class Profile:
    """What the platform says about a person: a name, a handle (Instagram), a picture URL."""

    user_id: str
    name: str = ""
    username: str = ""
    picture: str = ""
    follower_count: int | None = None


class Refused(Exception):
    """The platform will not say (the person never wrote, blocked the business, or no such id)."""


class Unavailable(Exception):
    """Not now: a timeout, a 5xx, a rate limit, or our own budget spent. Ask again later."""


def supports(platform: str) -> bool:
    return platform in FIELDS


def lookup(sender: SenderAccount, user_id: str, *, timeout: float = TIMEOUT_SECONDS) -> Profile:
    """The profile of `user_id` as `sender` may see it; raises Refused or Unavailable."""
    if not supports(sender.platform):
        raise Refused(f"{sender.platform} has no profile lookup.")
    key = f"profile:{sender.pk}:{user_id}"
    cached = cache.get(key)
    if cached == "refused":
        raise Refused("refused before (cached)")
    if isinstance(cached, dict):
        return Profile(**cached)
    if cache.get(f"profile-backoff:{sender.pk}"):
        raise Unavailable("backing off after the platform's rate limit")
    budget = f"profile-budget:{sender.pk}"
    cache.add(budget, 0, 60)
    try:
        spent = cache.incr(budget)
    except ValueError:  # expired between add and incr
        spent = 1
    if spent > LOOKUPS_PER_MINUTE:
        raise Unavailable("this account's lookup budget for the minute is spent")
    token = sender.access_token
    params = {"fields": FIELDS[sender.platform]}
    headers = {"Authorization": f"Bearer {token}"}
    if sender.platform == SenderPlatform.MESSENGER or sender.variant == SenderAccount.Variant.MESSENGER_PLATFORM:
        params["access_token"] = token  # Page tokens go as the parameter
    url = f"{sender.base_url}/{sender.api_version}/{user_id}"
    try:
        answer = requests.get(url, params=params, headers=headers, timeout=timeout)
    except requests.RequestException as error:
        raise Unavailable(f"{type(error).__name__}: {error}") from None
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code == 200 and isinstance(body, dict) and not body.get("error"):
        name = body.get("name") or " ".join(p for p in (body.get("first_name"), body.get("last_name")) if p)
        profile = Profile(
            user_id=str(body.get("id") or user_id),
            name=name or "",
            username=body.get("username") or "",
            picture=body.get("profile_pic") or "",
            follower_count=body.get("follower_count"),
        )
        cache.set(key, asdict(profile), CACHE_SECONDS)
        return profile
    error = body.get("error", {}) if isinstance(body, dict) else {}
    code = error.get("code")
    if answer.status_code == 429 or code in RATE_LIMIT_CODES:
        attempt = (cache.get(f"profile-attempt:{sender.pk}") or 0) + 1
        cache.set(f"profile-attempt:{sender.pk}", attempt, 3600)
        cache.set(f"profile-backoff:{sender.pk}", True, int(backoff_seconds(attempt)))
        raise Unavailable(f"rate limited ({code or answer.status_code})")
    if answer.status_code >= 500 or code in {1, 2, 102, 190}:  # the platform's trouble or our token's
        raise Unavailable(f"platform error {answer.status_code} {code}")
    cache.set(key, "refused", REFUSED_CACHE_SECONDS)
    raise Refused(error.get("message") or f"HTTP {answer.status_code}")
