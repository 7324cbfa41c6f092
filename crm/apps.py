from django.apps import AppConfig

from crm import search


class CrmConfig(AppConfig):
    """Creators, campaigns, content, permission requests and the consent ledger."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        search.install()
