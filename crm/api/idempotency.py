"""`Idempotency-Key` on API POSTs: the same key and body replay the first answer; the same key with
another body is refused (422); keys live 24 hours. Other tools can retry a POST without fear of
creating twice."""

import datetime
import hashlib
import json

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from crm.api.authentication import TokenAuthentication
from crm.api.models import IdempotencyRecord

LIFETIME = datetime.timedelta(hours=24)
HEADER = "Idempotency-Key"


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.path.startswith("/api/"):
            return self.get_response(request)
        user = _api_user(request)
        if user is None:
            return self.get_response(request)  # authentication fails in the view, with its own answer
        if len(key) > 255:
            return JsonResponse({"detail": f"{HEADER} is longer than 255 characters."}, status=400)
        body_sha256 = hashlib.sha256(request.body).hexdigest()
        IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=timezone.now() - LIFETIME).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, method=request.method, path=request.path, body_sha256=body_sha256
                )
        except IntegrityError:
            earlier = IdempotencyRecord.objects.get(user=user, key=key)
            if earlier.body_sha256 != body_sha256 or earlier.path != request.path:
                return JsonResponse(
                    {"detail": f"This {HEADER} was used for a different request; use a new key."}, status=422
                )
            if earlier.status_code is None:
                return JsonResponse({"detail": "The first request with this key is still running."}, status=409)
            replay = HttpResponse(
                bytes(earlier.response_body), status=earlier.status_code, content_type=earlier.content_type
            )
            replay["Idempotent-Replayed"] = "true"
            return replay
        response = self.get_response(request)
        if response.status_code >= 500:
            record.delete()  # a failure of ours: the client may try again with the same key
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            response_body=_kept_body(response),
            content_type=response.get("Content-Type", ""),
        )
        return response


SECRET_FIELDS = ("secret",)


def shown_once(response):
    """Mark an answer that shows a secret once (a webhook signing secret): a retry with the same key
    replays it without the secret, which is never stored in the idempotency record, and no cache keeps it."""
    response.shows_secret = True
    response["Cache-Control"] = "no-store"
    return response


def _kept_body(response) -> bytes:
    """What a replay may serve: the answer as sent, with any secret it showed once blanked out."""
    body = bytes(getattr(response, "content", b""))
    if not getattr(response, "shows_secret", False):
        return body
    try:
        data = json.loads(body)
    except ValueError:
        return b""
    if isinstance(data, dict):
        for name in SECRET_FIELDS:
            if name in data:
                data[name] = None
        data["secret_shown_once"] = "The secret was shown in the first answer only; rotate it if it was lost."
    return json.dumps(data).encode()


def _api_user(request):
    """The user of a token or session, resolved here because DRF authenticates later, in the view."""
    try:
        found = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    if found:
        return found[0]
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def purge_expired() -> int:
    """Forget keys older than 24 hours (an hourly django-q2 schedule, crm migration 0009)."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - LIFETIME).delete()
    return deleted
