"""Putting work on the queue, and nothing else: a leaf module every layer may import.

Services, receivers and the worker say *that* something must run (after their transaction
commits); `outreach/tasks.py` holds *what* runs. Task names are strings, so this module imports no
task code and no import circle can form through it. Tasks take ids, never model instances.
"""

import functools
import os

from django.db import transaction
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.tasks import async_task


def enqueue(task: str, *args, name: str = "") -> None:
    """Run `task` (a dotted path) with `args` once the current transaction has committed."""
    transaction.on_commit(lambda: _push(task, *args, task_name=name or task.rsplit(".", 1)[-1]))


def enqueue_now(task: str, *args, name: str = "") -> None:
    """Run `task` from inside a task or outside any transaction: no commit to wait for."""
    _push(task, *args, task_name=name or task.rsplit(".", 1)[-1])


def _push(task: str, *args, task_name: str) -> None:
    async_task(task, *args, task_name=task_name, broker=shared_broker())


def shared_broker():
    """This process's django-q2 broker. Left to itself, async_task builds a new one for every task:
    with Redis that is a new client, so each push opened a TCP connection, introduced itself (CLIENT
    SETINFO) and closed it again, about 1.1-1.7 ms instead of 0.05 ms for the RPUSH alone, on every
    webhook delivery. One per process and broker configuration (tests change Conf), made after a fork
    in the process that uses it."""
    return _broker_for(os.getpid(), Conf.BROKER_CLASS, Conf.ORM, repr(Conf.REDIS), Conf.CLUSTER_NAME)


@functools.cache
def _broker_for(*configuration):
    return get_broker()


def enqueue_sending(sender_id: int) -> None:
    """Start sending this account's due messages once the current transaction has committed."""
    enqueue("outreach.tasks.send_due_messages", sender_id, name=f"send-{sender_id}")


def enqueue_inbound(event_id: int) -> None:
    """Process a stored webhook delivery once it is committed."""
    enqueue("outreach.tasks.process_inbound_event", event_id, name=f"inbound-{event_id}")


def enqueue_inbound_in_transaction(provider: str, event_id: str) -> None:
    """Process the delivery (provider, event_id), called inside the transaction that stores it. When
    the broker is the database (no Redis), the task row is written in that same transaction: a
    worker sees it exactly when the delivery is committed, never before, and one commit keeps both.
    With Redis, or when tasks run at once, the push waits for the commit."""
    args = ("outreach.tasks.process_inbound_delivery", provider, event_id)
    if database_broker():
        _push(*args, task_name=f"inbound-{provider}")
    else:
        enqueue(*args, name=f"inbound-{provider}")


def database_broker() -> bool:
    """True when tasks are rows of django-q2's queue table (no Redis) and not run at once."""
    return bool(Conf.ORM) and not Conf.SYNC


class _Packer:
    """A stand-in broker that keeps the signed package django-q2 builds instead of pushing it."""

    list_key = Conf.CLUSTER_NAME

    def enqueue(self, package: str) -> str:
        self.package = package
        return ""


def packaged_inbound(provider: str, event_id: str) -> tuple[str, str, str]:
    """(queue table, queue key, signed package) of the task processing this delivery, for a
    statement that stores the delivery and its task at once (outreach/inbound/deliveries.py). The
    package is django-q2's own, built by async_task, so a worker reads it like any other."""
    from django_q.models import OrmQ  # a model: the app registry must be ready

    packer = _Packer()
    async_task(
        "outreach.tasks.process_inbound_delivery",
        provider,
        event_id,
        task_name=f"inbound-{provider}",
        broker=packer,
    )
    return OrmQ._meta.db_table, Conf.CLUSTER_NAME, packer.package  # get_broker()'s own queue key
