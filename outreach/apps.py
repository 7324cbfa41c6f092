from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """Templates, sender accounts, the outbox, delivery policy and channels (built on crm)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "outreach"
