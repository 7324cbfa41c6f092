"""Values every page template needs: the role, and whether to show write controls at all."""

from crm.access import can_write
from crm.models import role_of


def access(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"can_write": False, "role": ""}
    return {"can_write": can_write(user), "role": role_of(user)}
