"""Admin for webhooks: subscriptions can be switched off and re-enabled here (they are registered
through the API, which shows the secret once); events and the delivery log are read only."""

from django.contrib import admin, messages

from crm.admin import ReadOnlyModelAdmin
from integrations import services
from integrations.models import WebhookDelivery, WebhookEvent, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["id", "url", "owner", "is_active", "disabled_at", "consecutive_failures", "last_success_at"]
    list_filter = ["is_active", ("disabled_at", admin.EmptyFieldListFilter)]
    search_fields = ["url", "description", "owner__username"]
    list_select_related = ["owner"]
    fields = ["owner", "url", "events", "description", "is_active", "consecutive_failures", "last_success_at",
              "last_failure_at", "disabled_at", "disabled_reason", "created_at", "updated_at"]  # fmt: skip
    readonly_fields = [field for field in fields if field not in {"is_active", "description"}]
    actions = ["re_enable"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Re-enable (resume deliveries, reset the failure count)")
    def re_enable(self, request, queryset):
        for subscription in queryset:
            services.enable_subscription(subscription, actor=request.user)
        self.message_user(request, f"{queryset.count()} subscription(s) re-enabled.", messages.SUCCESS)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "type", "created_at"]
    list_filter = ["type"]
    search_fields = ["type"]
    date_hierarchy = "created_at"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyModelAdmin):
    list_display = ["id", "event", "subscription", "status", "attempts", "response_status", "next_attempt_at"]
    list_filter = ["status", "event__type"]
    list_select_related = ["event", "subscription"]
    search_fields = ["event__type", "subscription__url", "error"]
