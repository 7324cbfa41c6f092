"""Webhook subscriptions as other tools see them. The owner, the secret and the failure state are
never taken from a request: the secret is ours, shown once; the rest changes only through services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.events import EVENT_TYPES
from integrations.models import WebhookDelivery, WebhookSubscription

EVENT_CHOICES = [(name, f"{name}: {description}") for name, description in EVENT_TYPES.items()]


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), read_only=True)
    delivering = serializers.SerializerMethodField(
        help_text="True while events are sent: switched on (`is_active`) and not disabled after failures."
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "description", "is_active", "delivering", "owner", "consecutive_failures",
                  "last_success_at", "last_failure_at", "disabled_at", "disabled_reason", "created_at",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields

    def get_delivering(self, subscription) -> bool:
        return subscription.is_active and subscription.disabled_at is None


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.SerializerMethodField(
        help_text="Signs every delivery (`X-CRM-Signature`). Shown only in this answer: store it now.",
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, subscription) -> str:
        return self.context["secret"]  # the one the service just made; never read back from storage


class WebhookSubscriptionWriteSerializer(serializers.Serializer):
    """What a tool may set; anything else it sends (owner, secret, failure counts) is ignored."""

    url = serializers.URLField(
        max_length=2000,
        help_text="Where events are POSTed: http(s), on a host that resolves only to public addresses.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        allow_empty=False,
        max_length=100,
        help_text="The event types to receive.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    is_active = serializers.BooleanField(
        required=False, default=True, help_text="Switch deliveries off and on without deleting the subscription."
    )


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True, help_text="The new signing secret; shown only now.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.UUIDField(read_only=True, help_text="The id receivers de-duplicate on.")
    event_type = serializers.CharField(source="event.type", read_only=True)
    payload = serializers.SerializerMethodField(help_text="The JSON document that is (or was) POSTed.")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "subscription", "event_id", "event_type", "status", "attempts", "next_attempt_at",
                  "last_attempt_at", "response_status", "error", "duration_ms", "delivered_at", "created_at",
                  "payload"]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, delivery):
        return delivery.event.payload
