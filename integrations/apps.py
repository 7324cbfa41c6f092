from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Outbound webhooks: other tools subscribe to the CRM's domain events (built on crm and outreach)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self):
        from crm.events import domain_event
        from integrations import outbox

        domain_event.connect(outbox.on_domain_event, dispatch_uid="integrations.outbox")
