"""Outbound webhooks: who wants which events where, and every event's delivery to each of them.

A `WebhookEvent` is written in the transaction that made the change (a transactional outbox);
one `WebhookDelivery` per (subscription, event), unique, so an event noticed twice is delivered
once. Deliveries are attempted by the queue (integrations/delivery.py) and their last outcome is
kept as the delivery log.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core import crypto
from crm.events import EVENT_TYPES

PING = "ping"  # a test event, sent only on request to one subscription


class WebhookSubscriptionQuerySet(models.QuerySet):
    def delivering(self):
        """Subscriptions that receive events now: switched on by their owner, not disabled by us."""
        return self.filter(is_active=True, disabled_at__isnull=True)


class WebhookSubscription(models.Model):
    """Another tool's endpoint and the events it wants, owned by the user who registered it.

    The signing secret is generated here, shown once, and stored encrypted (MultiFernet under
    ENCRYPTION_KEYS): it must be readable to sign, so it cannot be hashed. `is_active` is the owner's
    switch; `disabled_at` is ours, set after repeated failed deliveries, and cleared by re-enabling.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types: " + ", ".join(EVENT_TYPES))
    description = models.CharField(max_length=200, blank=True)
    secret_encrypted = models.TextField(editable=False)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(
        default=0, editable=False, help_text="Deliveries given up on since the last successful one."
    )
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.url} ({', '.join(self.events)})"

    @staticmethod
    def new_secret() -> str:
        return "whsec_" + secrets.token_urlsafe(32)

    def set_secret(self, secret: str) -> None:
        self.secret_encrypted = crypto.encrypt(secret)

    @property
    def secret(self) -> str:
        """Raises crypto.SecretUnreadable when no configured key decrypts it."""
        return crypto.decrypt(self.secret_encrypted)

    def wants(self, event_type: str) -> bool:
        return event_type in self.events


class WebhookEvent(models.Model):
    """A domain event as other tools receive it; its id is the de-duplication key they see."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, db_index=True)
    payload = models.JSONField(help_text="The whole JSON document: id, type, created_at, data.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event to one subscription: its attempts so far and the last answer (the delivery log)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the last attempt failed, or the start of the answer's body.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="integrations_delivery_once_per_event")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="integrations_delivery_due",
            )
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event_id} to subscription {self.subscription_id}: {self.status}"
