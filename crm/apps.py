from django.apps import AppConfig


class CrmConfig(AppConfig):
    """Creators, campaigns, content, permission requests and the consent ledger."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"
    verbose_name = "CRM"
