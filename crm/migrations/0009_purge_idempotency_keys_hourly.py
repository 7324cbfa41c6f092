"""Keys of `Idempotency-Key` live 24 hours: an hourly schedule forgets the older ones."""

from django.db import migrations

NAME = "crm: purge idempotency keys"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "crm.api.idempotency.purge_expired", "schedule_type": "I", "minutes": 60, "repeats": -1},
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_idempotency"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
