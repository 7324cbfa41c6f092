"""The comments' periodic work: post the paced rights-request comments, poll tags and hashtags."""

from django.db import migrations

SCHEDULES = [
    # name, function, every N minutes
    ("outreach: post due rights-request comments", "outreach.tasks.send_due_comment_requests", 1),
    ("outreach: poll tagged media and hashtags", "outreach.tasks.poll_tags_and_hashtags", 60),
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
        ("outreach", "0009_comments_mentions_private_replies"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
