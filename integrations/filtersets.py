"""Filters for webhook subscriptions and their delivery log (API and admin alike)."""

import django_filters

from crm.filtersets import FilterSet
from integrations.models import WebhookDelivery, WebhookSubscription


class WebhookSubscriptionFilter(FilterSet):
    disabled = django_filters.BooleanFilter(
        field_name="disabled_at", lookup_expr="isnull", exclude=True, label="Disabled after failures"
    )

    class Meta:
        model = WebhookSubscription
        fields = ["is_active", "disabled"]


class WebhookDeliveryFilter(FilterSet):
    event_type = django_filters.CharFilter(field_name="event__type")
    event_id = django_filters.UUIDFilter(field_name="event_id")

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event_type", "event_id"]
