"""The queue's periodic work, as django-q2 schedules, so nobody has to create them by hand."""

from django.db import migrations

SCHEDULES = [
    # name, function, every N minutes
    ("outreach: dispatch due messages", "outreach.tasks.dispatch_due_messages", 1),
    ("outreach: reap stale leases", "outreach.tasks.reap_stale_leases", 5),
    ("outreach: create follow-ups", "outreach.tasks.create_follow_ups", 15),
    ("crm: expire permission requests", "outreach.tasks.expire_permission_requests", 60),
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
        ("outreach", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
