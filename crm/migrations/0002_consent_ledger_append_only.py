"""Refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of consent events in the database itself."""

from django.db import migrations

from crm import ledger_guard


def install(apps, schema_editor):
    ledger_guard.install(schema_editor.connection)


def remove(apps, schema_editor):
    ledger_guard.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
