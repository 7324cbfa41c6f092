"""Views shared by every area."""

from django.shortcuts import redirect
from django.templatetags.static import static


def favicon(request):
    """Browsers ask for /favicon.ico on pages without an icon link (the proof page): answer with ours,
    so no console shows a 404. Resolved per request: the static manifest may not exist at import."""
    return redirect(static("web/favicon.svg"))
