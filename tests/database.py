"""Two ways the suite spends less time putting the test database back, without changing what a test sees.

- `flush_keeping_post_migrate_rows`: a transactional test (`transactional_db`, `live_server`) ends
  with Django's `flush` of every table, then the `post_migrate` signal, whose handlers re-create the
  content types and permissions one model at a time: a tenth of a second per test, 4% of the whole
  run. Here the flush skips the signal and puts back the rows the migrate made (same ids), noted
  as the process's first database test starts, in two inserts.
- `kept_for_module`: rows a whole module reads, made once in a transaction that the module's end
  rolls back (as Django's `TestCase.setUpTestData`); each test still runs in a savepoint of its own,
  rolled back after it, so every test meets the same fresh rows.
"""

import contextlib

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import transaction
from django.test import TransactionTestCase

_flush_and_signal = TransactionTestCase._fixture_teardown
_set_up = TransactionTestCase._pre_setup
_migrate_rows: dict[str, tuple[list, list]] = {}  # by database alias: its content types and permissions


def _django_handles_it(case) -> bool:
    """The cases Django's own teardown treats apart, left to it (none of our tests uses them)."""
    return case.available_apps is not None or case.serialized_rollback or case.reset_sequences


@classmethod
def _pre_setup_keeping_migrate_rows(cls) -> None:
    """As this process's first database test starts, note the rows the migrate made (every database
    test, transactional or not, is set up here)."""
    if not _django_handles_it(cls):
        for db_name in cls._databases_names(include_mirrors=False):
            if db_name not in _migrate_rows:
                content_types = list(ContentType.objects.using(db_name).order_by("pk"))
                _migrate_rows[db_name] = (content_types, list(Permission.objects.using(db_name).order_by("pk")))
    _set_up.__func__(cls)


def _flush_keeping_post_migrate_rows(self) -> None:
    if _django_handles_it(self):
        return _flush_and_signal(self)
    for db_name in self._databases_names(include_mirrors=False):
        call_command(
            "flush",
            verbosity=0,
            interactive=False,
            database=db_name,
            reset_sequences=False,
            allow_cascade=False,
            inhibit_post_migrate=True,
        )
        content_types, permissions = _migrate_rows[db_name]
        ContentType.objects.using(db_name).bulk_create(content_types)
        Permission.objects.using(db_name).bulk_create(permissions)


def flush_keeping_post_migrate_rows() -> None:
    """Install the cheaper teardown for every transactional test of this process (pytest_configure)."""
    TransactionTestCase._pre_setup = _pre_setup_keeping_migrate_rows
    TransactionTestCase._fixture_teardown = _flush_keeping_post_migrate_rows


@contextlib.contextmanager
def kept_for_module(django_db_blocker):
    """Open the database for a module-scoped fixture and roll back whatever it made after the module.

    Use it in a `scope="module"` fixture that depends on `django_db_setup` and `django_db_blocker`.
    Unlike `setUpTestData` the objects are not copied for each test: a test that changes one in memory
    (not in the database, which is rolled back) changes it for the next. A module with transactional
    tests cannot share rows this way (their flush would empty the shared rows, and their own writes
    never commit), nor can tests that start processes which must read the rows (they are uncommitted).
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)  # an error in the module rolls it back too
