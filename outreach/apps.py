from django.apps import AppConfig

from config.logcontext import task_started


class OutreachConfig(AppConfig):
    """Templates, sender accounts, the outbox, delivery policy and channels (built on crm)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "outreach"

    def ready(self):
        # Queue tasks' log lines carry their task id (config/logcontext.py).
        from django_q.signals import post_execute_in_worker, post_spawn, pre_execute  # need the app registry

        from outreach import worker

        pre_execute.connect(task_started, dispatch_uid="config.logcontext.task_started")
        # A queue worker answers SIGTERM by settling its own claims (outreach/worker.py).
        post_spawn.connect(worker.install_stop_handler, dispatch_uid="outreach.worker.install_stop_handler")
        pre_execute.connect(worker.task_began, dispatch_uid="outreach.worker.task_began")
        post_execute_in_worker.connect(worker.task_ended, dispatch_uid="outreach.worker.task_ended")
