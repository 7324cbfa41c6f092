"""API tokens: created with the key shown once (only its hash is stored), and revoked at once."""

import secrets

from django.utils import timezone

from crm.errors import DomainError
from crm.models import AccessRole, ApiToken, Role


def create_api_token(user, *, name: str, role: str | None = None, expires_at=None) -> tuple[ApiToken, str]:
    """A new API key for a user, with their role set if given; returns (token, key). The key is not
    stored and cannot be shown again."""
    if role is not None:
        if role not in Role.values:
            raise DomainError({"role": f"Choose one of {', '.join(Role.values)}."})
        AccessRole.objects.update_or_create(user=user, defaults={"role": role})
    key = "crm_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name or "API token", prefix=key[:12], key_sha256=ApiToken.digest(key), expires_at=expires_at
    )
    return token, key


def revoke_api_token(token) -> None:
    """The key stops working at once; the record stays for the audit trail."""
    type(token).objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
