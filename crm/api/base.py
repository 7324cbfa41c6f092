"""What every viewset shares: who may see and change its rows (crm/access.py, applied here once) and
reading a request body through a serializer. Viewsets then only declare queryset, serializer and
filterset, and call services; the services' `DomainError`s become 400s in `crm/api/errors.py`."""

from rest_framework.exceptions import NotFound, PermissionDenied

from crm import access

SAFE = {"GET", "HEAD", "OPTIONS"}


class ScopedViewSetMixin:
    """Rows outside what the caller may see are not found (404). On a write, a row they see but may
    not change is a 404 too (`refuse_change_with = "not_found"`: another team's campaign must not
    reveal itself) or a 403 for shared rows that belong to someone (`"forbidden"`: a sender account)."""

    refuse_change_with = "not_found"
    change_refusal = "Nothing you may change matches."

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return access.visible(queryset, self.request.user)

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in SAFE:
            require_change(obj, self.request.user, refuse_with=self.refuse_change_with, message=self.change_refusal)
        return obj


def require_change(obj, user, *, refuse_with: str = "not_found", message: str = "Nothing you may change matches."):
    """Stop a write on something seen but not this person's to change."""
    if not access.can_change(obj, user):
        raise PermissionDenied(message) if refuse_with == "forbidden" else NotFound(message)


def valid(serializer_class, data, **kwargs) -> dict:
    """The request body read by a serializer; a 400 naming each bad field otherwise."""
    incoming = serializer_class(data=data, **kwargs)
    incoming.is_valid(raise_exception=True)
    return incoming.validated_data
