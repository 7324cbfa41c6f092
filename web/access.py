"""Who may do what on the pages: one place for the role rules the views and templates share.

Viewers read everything they can see and change nothing; managers and admins write. Campaigns are
visible to their owner and team (admins: all), as in the API.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from crm.models import Campaign, Role, role_of

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def can_write(user) -> bool:
    """Managers and admins change data; viewers (and anonymous visitors) do not."""
    return role_of(user) in {Role.ADMIN, Role.MANAGER}


def page(view):
    """A page for signed-in people; any write (a non-GET request) needs the manager or admin role."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method not in SAFE_METHODS and not can_write(request.user):
            raise PermissionDenied("Your role (viewer) can read but not change anything.")
        return view(request, *args, **kwargs)

    return wrapper


def visible_campaigns(user):
    """Campaigns this person may see: admins all; others those they own or are on the team of."""
    return Campaign.objects.visible_to(user)


def visible_messages(user):
    """Outbox rows this person may see: as in the API (OutreachMessage.objects.visible_to)."""
    from outreach.models import OutreachMessage

    return OutreachMessage.objects.visible_to(user)
