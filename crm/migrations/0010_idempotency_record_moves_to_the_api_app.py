"""IdempotencyRecord now belongs to the API's app (crm/api/models.py): only the state moves."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_purge_idempotency_keys_hourly"),
        ("api", "0001_idempotency_record_moves_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[], state_operations=[migrations.DeleteModel("IdempotencyRecord")]
        )
    ]
