"""Stored deliveries whose task was lost are queued again by a sweep every 5 minutes, found through a
partial index over the few still waiting."""

from django.db import migrations, models

SCHEDULES = [
    # name, function, every N minutes
    ("outreach: queue again deliveries whose task was lost", "outreach.tasks.requeue_stranded_deliveries", 5),
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
        ("outreach", "0020_conversation_latest_message_index"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="inboundevent",
            index=models.Index(
                condition=models.Q(("status", "received")), fields=["received_at"], name="outreach_inbound_waiting"
            ),
        ),
        migrations.RunPython(create, remove),
    ]
