"""Message bodies move out of the ledger into EvidenceText (erasable); the ledger keeps their hashes.

Pre-release change: ledger rows written before it lose their texts. On SQLite, changing columns
rebuilds the table and drops its triggers, so the append-only guard is installed again at the end.
"""

import django.db.models.deletion
from django.db import migrations, models

from crm import ledger_guard


def reinstall_guard(apps, schema_editor):
    ledger_guard.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_socialaccount_accepts_dms"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="consentevent",
            name="inbound_text",
        ),
        migrations.RemoveField(
            model_name="consentevent",
            name="outbound_text",
        ),
        migrations.AddField(
            model_name="consentevent",
            name="inbound_text_sha256",
            field=models.CharField(
                blank=True, help_text="SHA-256 of the creator's exact words (kept in EvidenceText).", max_length=64
            ),
        ),
        migrations.AddField(
            model_name="consentevent",
            name="outbound_text_sha256",
            field=models.CharField(
                blank=True, help_text="SHA-256 of what we had asked, exactly (kept in EvidenceText).", max_length=64
            ),
        ),
        migrations.CreateModel(
            name="EvidenceText",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sha256", models.CharField(max_length=64)),
                ("text", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "creator",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="evidence_texts", to="crm.creator"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("creator", "sha256"), name="crm_evidence_text_unique")],
            },
        ),
        migrations.RunPython(reinstall_guard, migrations.RunPython.noop),
    ]
