"""Endpoints only machines call (the platforms' webhook receivers) skip the middleware that serves people.

A platform's webhook delivery carries no cookie, signs in as nobody, is exempt from CSRF (its
signature is its proof) and gets a JSON answer no browser renders, yet each one paid for the pages'
middleware: CSRF's cookie check, the lazy user and its two-factor wrapper, the reader's time zone,
the messages storage, X-Frame-Options, a Content-Security-Policy built anew for every answer,
django-axes. `MachineEndpointMiddleware` sits after the middleware every request needs (the request
id of its log lines, SecurityMiddleware's HTTPS redirect and headers, the lazy session that is
never loaded nor saved when nobody reads it, CommonMiddleware's ALLOWED_HOSTS check) and calls a
view marked `machine_endpoint` directly, without the rest of the chain. Only a view that says so
itself skips it: a page mounted under one of the PREFIXES by mistake still gets its CSRF check,
and a marked view elsewhere gets the whole chain. An exception in a marked view is answered by
Django's handler like any other (handler500).
"""

from django.urls import Resolver404, get_resolver

# Where the marked views live (config/urls.py); other paths are never resolved twice.
PREFIXES = ("/webhooks/",)


def machine_endpoint(view):
    """Mark a view only machines call: no user, CSRF check, messages, time zone or browser headers."""
    view.machine_endpoint = True
    return view


class MachineEndpointMiddleware:
    """Call a `machine_endpoint` view at once, without the middleware placed after this one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(PREFIXES):
            try:
                match = get_resolver().resolve(request.path_info)  # nothing before this sets request.urlconf
            except Resolver404:
                return self.get_response(request)  # the usual 404, from the usual chain
            if getattr(match.func, "machine_endpoint", False):
                request.resolver_match = match
                return match.func(request, *match.args, **match.kwargs)
        return self.get_response(request)
