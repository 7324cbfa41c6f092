"""What the HTTP API keeps of its own, apart from the domain: the answers to replay for an
`Idempotency-Key`. An HTTP concern, so it lives with the API (app label `api`), not in crm/models.py."""

from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a POST sent with an `Idempotency-Key`, replayed for 24 h to a retry with the
    same body; the unique (user, key) makes two simultaneous retries one request."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    response_body = models.BinaryField(blank=True, default=b"")
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "crm_idempotencyrecord"  # created by crm/0008, before this model moved here
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="crm_idempotency_once")]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"
