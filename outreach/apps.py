from django.apps import AppConfig

from config.logcontext import task_started


class OutreachConfig(AppConfig):
    """Templates, sender accounts, the outbox, delivery policy and channels (built on crm)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "outreach"

    def ready(self):
        # Queue tasks' log lines carry their task id (config/logcontext.py).
        from django_q.signals import pre_execute  # django-q2's modules need the app registry

        pre_execute.connect(task_started, dispatch_uid="config.logcontext.task_started")
