"""Uploads nobody confirmed are deleted after IMPORT_UPLOAD_TTL_HOURS: an hourly schedule runs the cleanup."""

from django.db import migrations

NAME = "web: clean abandoned import uploads"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "web.imports.clean_abandoned_uploads", "schedule_type": "I", "minutes": 60, "repeats": -1},
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("web", "0004_import_mapping"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
