"""The shared send-rate bucket of outreach/limiter.py (no model: the limiter writes it with one UPSERT)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0015_smtp_credentials_out_of_url_and_mailbox_schedule"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE TABLE outreach_rate_bucket (key varchar(100) NOT NULL PRIMARY KEY, tat double precision NOT NULL)",
            "DROP TABLE outreach_rate_bucket",
        ),
    ]
