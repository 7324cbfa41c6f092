"""TikTok comments and the replies under our rights-request comments are polled on a schedule; a post
a person found by its link is a discovery of its own."""

from django.db import migrations, models

SCHEDULES = [
    # name, function, every N minutes
    ("outreach: poll TikTok comments", "outreach.tasks.poll_tiktok_comments", 10),
    ("outreach: poll replies to rights-request comments", "outreach.tasks.poll_rights_request_replies", 15),
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
        ("outreach", "0016_rate_bucket"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.AlterField(
            model_name="discoveredmedia",
            name="source",
            field=models.CharField(
                choices=[
                    ("caption_mention", "Mentioned us in the caption"),
                    ("comment_mention", "Mentioned us in a comment"),
                    ("tagged", "Tagged us"),
                    ("hashtag", "Hashtag search"),
                    ("link", "Added by hand from a link"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(create, remove),
    ]
