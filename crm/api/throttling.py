"""Throttling per API token (per user for the pages' session calls), so one runaway script cannot
starve the other tools. Counts live in Django's cache: Redis when REDIS_URL is set, shared by every
web process; otherwise each process counts on its own (fine for one process, lenient for several)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from crm.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self):
        return settings.API_RATE_LIMIT or None  # read per request, so a test can change it

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
