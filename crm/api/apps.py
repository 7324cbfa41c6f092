from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API's own state (idempotency records); its views and serializers live beside it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "crm.api"
    label = "api"
