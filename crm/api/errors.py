"""Every API error is JSON a tool can act on: field errors by name, a `detail` otherwise.

DRF already answers its own exceptions so; this adds the domain's: a service's `DomainError` (or a
model's ValidationError) is a 400 by field, a unique constraint lost to a concurrent request is a
409. This handler is the one place the API translates domain errors. It also answers JSON instead of
an HTML page when something unexpected breaks under /api/.
"""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.defaults import page_not_found
from django.views.defaults import server_error as html_server_error
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from crm.errors import DomainError

logger = logging.getLogger(__name__)


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, IntegrityError):
        logger.info("API conflict: %s", exc)
        return Response(
            {"detail": "This conflicts with data saved at the same moment or already there; reload and retry."},
            status=status.HTTP_409_CONFLICT,
        )
    return exception_handler(exc, context)


def server_error(request, *args, **kwargs):
    """The 500 page: JSON under /api/, the pages' styled page with the navigation elsewhere (Django's
    plain one if even that cannot be drawn, e.g. with the database down); never a traceback."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Something went wrong on our side; it has been logged."}, status=500)
    try:
        return HttpResponseServerError(loader.render_to_string("web/500.html", {"section": ""}, request))
    except Exception:  # the error page must not fail in turn
        logger.exception("The styled 500 page could not be drawn")
    return html_server_error(request, *args, **kwargs)


def not_found(request, exception=None):
    """The 404 page: JSON under /api/ (a path no route matches, e.g. `/api/v1/creators/1.5/`)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return page_not_found(request, exception, template_name="web/404.html")
