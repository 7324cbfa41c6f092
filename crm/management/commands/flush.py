"""Django's `flush`, able to empty a database that holds the append-only consent ledger.

Emptying the whole database is the one operation allowed to remove ledger entries (a test run or
a demo reset): the guard triggers are lifted for that transaction and put back before it commits.
"""

from django.core.management.commands import flush
from django.db import connections, transaction

from crm import ledger_guard


class Command(flush.Command):
    help = flush.Command.help + " The consent ledger's guard triggers are restored afterwards."

    def handle(self, **options):
        connection = connections[options["database"]]
        with transaction.atomic(using=options["database"]):
            ledger_guard.remove(connection)
            try:
                super().handle(**options)
            finally:
                ledger_guard.install(connection)
