"""Webhook subscriptions: other tools register a URL and the events they want; the rules (URL checks,
secrets, re-enabling) live in integrations/services.py."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from crm.api.base import ScopedViewSetMixin, valid
from crm.api.idempotency import shown_once
from integrations import filtersets, services
from integrations.api import serializers
from integrations.models import WebhookDelivery, WebhookSubscription

SUBSCRIPTION_EXAMPLE = OpenApiExample(
    "Consent decisions to a rights-management tool",
    value={
        "url": "https://hooks.example.com/crm",
        "events": ["consent.granted", "consent.revoked", "rights.expiring"],
        "description": "Rights desk",
    },
    request_only=True,
)
DELIVERY_EXAMPLE = OpenApiExample(
    "A consent.granted delivery",
    value={
        "id": 812,
        "subscription": 3,
        "event_id": "0f8c9a4e-4d0b-4a51-9d0e-6c1f2f0b7a11",
        "event_type": "consent.granted",
        "status": "delivered",
        "attempts": 1,
        "next_attempt_at": "2026-05-04T10:15:02Z",
        "last_attempt_at": "2026-05-04T10:15:02Z",
        "response_status": 200,
        "error": "",
        "duration_ms": 84,
        "delivered_at": "2026-05-04T10:15:02Z",
        "created_at": "2026-05-04T10:15:02Z",
        "payload": {
            "id": "0f8c9a4e-4d0b-4a51-9d0e-6c1f2f0b7a11",
            "type": "consent.granted",
            "created_at": "2026-05-04T10:15:01.913204+00:00",
            "data": {
                "permission_request_id": 41,
                "creator_id": 7,
                "campaign_id": 2,
                "content_id": 19,
                "content_url": "https://www.instagram.com/p/Cabc123/",
                "status": "granted",
                "scope": {
                    "channels": ["organic_social", "paid_ads"],
                    "territory": "worldwide",
                    "exclusive": False,
                    "duration_days": 365,
                },
                "decided_at": "2026-05-04T10:14:58+00:00",
                "rights_expire_at": "2027-05-04T10:14:58+00:00",
                "consent_event_id": 133,
                "recorded_by": "system",
                "rule": "approval hashtag #YesAcme (exact match)",
                "channel": "instagram",
            },
        },
    },
    response_only=True,
)


@extend_schema_view(
    create=extend_schema(
        request=serializers.WebhookSubscriptionWriteSerializer,
        responses={201: serializers.WebhookSubscriptionCreatedSerializer},
        examples=[SUBSCRIPTION_EXAMPLE],
        description="Register an endpoint. The answer holds the signing `secret`, shown this once.",
    ),
    partial_update=extend_schema(
        request=serializers.WebhookSubscriptionWriteSerializer(partial=True),
        responses={200: serializers.WebhookSubscriptionSerializer},
        description="Change the URL (checked again), the events, the description or `is_active`.",
    ),
)
class WebhookSubscriptionViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Outbound webhooks: register a URL and the events you want; each event is POSTed to it as JSON
    through the queue, retried with backoff until a 2xx answer, and logged (`deliveries/`).

    Events: `consent.granted`, `consent.declined`, `consent.revoked`, `rights.expiring`,
    `message.sent`, `message.failed`, `reply.received`, `creator.opted_out` (and `ping`, sent by
    `ping/`). Each body is `{"id", "type", "created_at", "data"}`; `id` is the same for every attempt
    at the same event: de-duplicate on it.

    Headers: `X-CRM-Event` (type), `X-CRM-Event-Id`, `X-CRM-Timestamp` (Unix seconds) and
    `X-CRM-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the
    subscription's secret>`; compare in constant time and refuse old timestamps (e.g. > 5 minutes).
    Redirects are not followed. After repeated failed deliveries the subscription is disabled
    (`disabled_at`, `disabled_reason`); `enable/` resumes it. URLs must resolve to public addresses.

    A subscription belongs to whoever registered it; others' are not found (404); admins see all.
    Campaign events reach a subscription only if its owner may see the campaign."""

    queryset = WebhookSubscription.objects.all()
    serializer_class = serializers.WebhookSubscriptionSerializer
    filterset_class = filtersets.WebhookSubscriptionFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = valid(serializers.WebhookSubscriptionWriteSerializer, request.data)
        subscription, secret = services.create_subscription(
            actor=request.user,
            url=data["url"],
            events_wanted=data["events"],
            description=data["description"],
            is_active=data["is_active"],
        )
        body = serializers.WebhookSubscriptionCreatedSerializer(subscription, context={"secret": secret}).data
        return shown_once(Response(body, status=status.HTTP_201_CREATED))

    def partial_update(self, request, *args, **kwargs):
        subscription = self.get_object()
        data = valid(serializers.WebhookSubscriptionWriteSerializer, request.data, partial=True)
        services.update_subscription(
            subscription,
            actor=request.user,
            url=data.get("url"),
            events_wanted=data.get("events"),
            description=data.get("description"),
            is_active=data.get("is_active"),
        )
        return Response(self.get_serializer(subscription).data)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        responses={200: serializers.WebhookDeliverySerializer(many=True)},
        parameters=[
            OpenApiParameter(
                "status", enum=WebhookDelivery.Status.values, description="Only deliveries in this state."
            ),
            OpenApiParameter("event_type", str, description="Only this event type, e.g. `consent.granted`."),
            OpenApiParameter("event_id", OpenApiTypes.UUID, description="The delivery of one event."),
        ],
        examples=[DELIVERY_EXAMPLE],
        description="The delivery log, newest first: status, attempts, the last answer or error, and the body.",
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        found = filtersets.WebhookDeliveryFilter(
            request.query_params, queryset=subscription.deliveries.select_related("event")
        )
        if not found.is_valid():
            raise ValidationError(found.errors)
        page = self.paginate_queryset(found.qs)
        return self.get_paginated_response(serializers.WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={200: serializers.WebhookSubscriptionSerializer},
        description="Re-enable a subscription disabled after failures (or switched off): waiting deliveries go now.",
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def enable(self, request, pk=None):
        subscription = services.enable_subscription(self.get_object(), actor=request.user)
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        request=None,
        responses={202: serializers.WebhookDeliverySerializer},
        description="Queue a `ping` event to this subscription alone; its delivery shows how the endpoint answered.",
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def ping(self, request, pk=None):
        delivery = services.ping(self.get_object(), actor=request.user)
        delivery.refresh_from_db()
        return Response(serializers.WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={200: serializers.SecretSerializer},
        description="Replace the signing secret at once; the new one is shown only in this answer.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", filterset_class=None)
    def rotate_secret(self, request, pk=None):
        secret = services.rotate_secret(self.get_object(), actor=request.user)
        return shown_once(Response({"secret": secret}))
