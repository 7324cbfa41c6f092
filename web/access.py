"""The pages' side of access: signed-in only, no writes for viewers, and lookups that answer 404 for
what a person may not see or change. The rules themselves are crm/access.py's, as in the API."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from crm import access
from crm.access import can_write, visible, visible_campaigns, workable_campaigns  # noqa: F401  (for the views)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def page(view):
    """A page for signed-in people; any write (a non-GET request) needs the manager or admin role."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in SAFE_METHODS and not access.can_write(request.user):
            raise PermissionDenied("Your role (viewer) can read but not change anything.")
        return view(request, *args, **kwargs)

    return wrapper


def get_visible(queryset, user, **lookup):
    """One row this person may see, else 404."""
    return get_object_or_404(access.visible(queryset, user), **lookup)


def get_workable(queryset, user, **lookup):
    """One row this person may change, else 404 (seen but not theirs reads as not there)."""
    obj = get_visible(queryset, user, **lookup)
    if not access.can_change(obj, user):
        raise Http404("Nothing of yours matches.")
    return obj


def require_change(obj, user) -> None:
    """404 when this person may not change `obj` (a campaign of another team, say); None passes."""
    if obj is not None and not access.can_change(obj, user):
        raise Http404("Nothing of yours matches.")
