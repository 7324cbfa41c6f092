"""IdempotencyRecord moves from crm to the API's own app; the table stays where crm/0008 made it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [
        ("crm", "0009_purge_idempotency_keys_hourly"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("key", models.CharField(max_length=255)),
                        ("method", models.CharField(max_length=10)),
                        ("path", models.CharField(max_length=500)),
                        ("body_sha256", models.CharField(max_length=64)),
                        (
                            "status_code",
                            models.PositiveSmallIntegerField(
                                blank=True, help_text="Empty while in progress.", null=True
                            ),
                        ),
                        ("response_body", models.BinaryField(blank=True, default=b"")),
                        ("content_type", models.CharField(blank=True, max_length=100)),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "crm_idempotencyrecord",
                        "constraints": [models.UniqueConstraint(fields=("user", "key"), name="crm_idempotency_once")],
                    },
                ),
            ],
        )
    ]
