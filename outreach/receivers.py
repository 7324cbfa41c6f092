"""Webhook receivers: verify over the raw body, store once, answer at once, process in a task.

A delivery that fails verification gets 401 (no signature) or 403 (wrong or stale) and leaves no
trace in the database.
"""

import json
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from config.endpoints import machine_endpoint
from core import jsonbounds
from outreach.inbound import deliveries
from outreach.webhooks import PayloadError, SignatureError, meta, tiktok, x
from outreach.webhooks import email as email_hook

logger = logging.getLogger(__name__)


# Headers never kept with a stored delivery: shared secrets (the mail gateway's) and credentials. The
# signatures stay: they are derived from the body, prove nothing to a thief, and are evidence.
SECRET_HEADERS = {"cookie", "authorization", "x-webhook-secret", "proxy-authorization"}


def _refuse(error: SignatureError, missing: bool) -> JsonResponse:
    logger.warning("webhook refused: %s", error)
    return JsonResponse({"error": str(error)}, status=401 if missing else 403)


MAX_EVENT_ID = 255  # InboundEvent.event_id's column


def _accept(provider: str, event_id: str, request) -> HttpResponse:
    if len(event_id) > MAX_EVENT_ID:  # e.g. a 400-character Message-ID: refused, not a database error
        return JsonResponse({"error": f"The delivery's id is longer than {MAX_EVENT_ID} characters."}, status=400)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in SECRET_HEADERS}
    created = deliveries.accept_delivery(provider, event_id, request.body, headers)
    return HttpResponse(ANSWER[created], content_type="application/json")


# The answers to a stored delivery, new or a re-delivery: {"received": true, "duplicate": ...}.
ANSWER = {created: json.dumps({"received": True, "duplicate": not created}).encode() for created in (True, False)}


def _json(request):
    """The body as a JSON object, or None: not JSON, not an object (a bare string or number
    would be a body the X CRC could have been tricked into signing), or nested deeper than
    core.jsonbounds allows (checked before parsing, so no body can recurse the parser to a 500)."""
    try:
        payload = jsonbounds.loads(request.body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def _not_json() -> JsonResponse:
    return JsonResponse(
        {"error": f"The body is not a JSON object (nested at most {jsonbounds.MAX_DEPTH} deep)."}, status=400
    )


CRC_PER_MINUTE = 30  # X checks on registration and about hourly; more is someone probing


def _x_crc(request):
    """X's challenge-response check, for token-shaped strings only and at most CRC_PER_MINUTE a minute
    per client (counted in the shared cache), so it cannot be used as a signing oracle."""
    if not settings.X_CONSUMER_SECRET:
        return JsonResponse({"error": "X_CONSUMER_SECRET is not set."}, status=400)
    client = request.META.get("REMOTE_ADDR", "")
    counter = f"x-crc:{client}:{int(time.time() // 60)}"
    cache.add(counter, 0, timeout=90)
    if cache.incr(counter) > CRC_PER_MINUTE:
        return JsonResponse(
            {"error": "Too many CRC checks; try again in a minute."}, status=429, headers={"Retry-After": "60"}
        )
    try:
        return JsonResponse(x.crc_response(request.GET.get("crc_token", ""), settings.X_CONSUMER_SECRET))
    except PayloadError as error:
        return JsonResponse({"error": str(error)}, status=400)


@machine_endpoint
@csrf_exempt
@require_http_methods(["GET", "POST"])
def meta_webhook(request):
    if request.method == "GET":
        challenge = meta.handshake(request.GET, settings.META_VERIFY_TOKEN)
        if challenge is None:
            return HttpResponse("Verification token mismatch.", status=403, content_type="text/plain")
        return HttpResponse(challenge, content_type="text/plain")
    signature = request.headers.get("X-Hub-Signature-256", "")
    try:
        meta.verify(request.body, signature, settings.META_APP_SECRET)
    except SignatureError as error:
        return _refuse(error, missing=not signature)
    if _json(request) is None:
        return _not_json()
    return _accept("meta", "", request)


@machine_endpoint
@csrf_exempt
@require_http_methods(["GET", "POST"])
def x_webhook(request):
    if request.method == "GET":
        return _x_crc(request)
    signature = request.headers.get("x-twitter-webhooks-signature", "")
    try:
        x.verify(request.body, signature, settings.X_CONSUMER_SECRET)
    except SignatureError as error:
        return _refuse(error, missing=not signature)
    if _json(request) is None:
        return _not_json()
    return _accept("x", "", request)


@machine_endpoint
@csrf_exempt
@require_http_methods(["POST"])
def tiktok_webhook(request):
    signature = request.headers.get("Tiktok-Signature", "")
    try:
        tiktok.verify(request.body, signature, settings.TIKTOK_APP_SECRET)
    except SignatureError as error:
        return _refuse(error, missing=not signature)
    payload = _json(request)
    if payload is None:
        return _not_json()
    try:
        event_id = tiktok.event_id(payload)
    except PayloadError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return _accept("tiktok", event_id, request)


@machine_endpoint
@csrf_exempt
@require_http_methods(["POST"])
def email_webhook(request):
    secret = request.headers.get("X-Webhook-Secret", "")
    try:
        email_hook.verify(secret, settings.EMAIL_WEBHOOK_SECRET)
    except SignatureError as error:
        return _refuse(error, missing=not secret)
    try:
        message_id = email_hook.check(request.body)
    except ValueError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return _accept("email", message_id, request)
