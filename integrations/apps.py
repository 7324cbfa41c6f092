from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class IntegrationsConfig(AppConfig):
    """Outbound webhooks: other tools subscribe to the CRM's domain events (built on crm and outreach)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self):
        from crm.events import domain_event
        from integrations import outbox

        domain_event.connect(outbox.on_domain_event, dispatch_uid="integrations.outbox")
        subscription = self.get_model("WebhookSubscription")
        post_save.connect(outbox.forget_wanted_types, sender=subscription, dispatch_uid="integrations.types.save")
        post_delete.connect(outbox.forget_wanted_types, sender=subscription, dispatch_uid="integrations.types.delete")
