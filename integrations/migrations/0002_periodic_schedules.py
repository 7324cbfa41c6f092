"""The webhooks' periodic work, as django-q2 schedules, so nobody has to create them by hand."""

from django.db import migrations

SCHEDULES = [
    # name, function, every N minutes
    ("webhooks: deliver due retries", "integrations.tasks.sweep_webhooks", 1),
    ("webhooks: rights expiring", "integrations.tasks.publish_rights_expiring", 60),
    ("webhooks: prune the delivery log", "integrations.tasks.prune_webhook_log", 24 * 60),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name, defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1}
        )


def remove(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[name for name, _, _ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
