"""Putting work on the queue, and nothing else: a leaf module every layer may import.

Services, receivers and the worker say *that* something must run (after their transaction
commits); `outreach/tasks.py` holds *what* runs. Task names are strings, so this module imports no
task code and no import circle can form through it. Tasks take ids, never model instances.
"""

from django.db import transaction
from django_q.tasks import async_task


def enqueue(task: str, *args, name: str = "") -> None:
    """Run `task` (a dotted path) with `args` once the current transaction has committed."""
    transaction.on_commit(lambda: async_task(task, *args, task_name=name or task.rsplit(".", 1)[-1]))


def enqueue_now(task: str, *args, name: str = "") -> None:
    """Run `task` from inside a task or outside any transaction: no commit to wait for."""
    async_task(task, *args, task_name=name or task.rsplit(".", 1)[-1])


def enqueue_sending(sender_id: int) -> None:
    """Start sending this account's due messages once the current transaction has committed."""
    enqueue("outreach.tasks.send_due_messages", sender_id, name=f"send-{sender_id}")


def enqueue_inbound(event_id: int) -> None:
    """Process a stored webhook delivery once it is committed."""
    enqueue("outreach.tasks.process_inbound_event", event_id, name=f"inbound-{event_id}")
