"""Helpers of the work pages: where to go back after an action."""

from django.utils.http import url_has_allowed_host_and_scheme


def safe_back(request, default: str) -> str:
    """Where to go after an action: the page's own `back` if it is a path on this site, else `default`."""
    back = request.POST.get("back", "")
    if back.startswith("/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return back
    return default
