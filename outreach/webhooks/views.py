"""Webhook receivers: verify over the raw body, store once, answer at once, process in a task.

A delivery that fails verification gets 401 (no signature) or 403 (wrong or stale) and leaves no
trace in the database.
"""

import json
import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from outreach.inbound import deliveries
from outreach.queue import enqueue_inbound
from outreach.webhooks import SignatureError, meta, tiktok, x
from outreach.webhooks import email as email_hook

logger = logging.getLogger(__name__)


def _refuse(error: SignatureError, missing: bool) -> JsonResponse:
    logger.warning("webhook refused: %s", error)
    return JsonResponse({"error": str(error)}, status=401 if missing else 403)


def _accept(provider: str, event_id: str, request) -> JsonResponse:
    headers = {k: v for k, v in request.headers.items() if k.lower() not in {"cookie", "authorization"}}
    event, created = deliveries.store_delivery(provider, event_id, request.body, headers)
    if created:
        enqueue_inbound(event.pk)
    return JsonResponse({"received": True, "duplicate": not created})


def _json(request):
    try:
        return json.loads(request.body)
    except ValueError:
        return None


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
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    return _accept("meta", "", request)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def x_webhook(request):
    if request.method == "GET":
        token = request.GET.get("crc_token", "")
        if not token or not settings.X_CONSUMER_SECRET:
            return JsonResponse({"error": "crc_token is required."}, status=400)
        return JsonResponse(x.crc_response(token, settings.X_CONSUMER_SECRET))
    signature = request.headers.get("x-twitter-webhooks-signature", "")
    try:
        x.verify(request.body, signature, settings.X_CONSUMER_SECRET)
    except SignatureError as error:
        return _refuse(error, missing=not signature)
    if _json(request) is None:
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    return _accept("x", "", request)


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
        return JsonResponse({"error": "The body is not JSON."}, status=400)
    return _accept("tiktok", tiktok.event_id(payload), request)


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
