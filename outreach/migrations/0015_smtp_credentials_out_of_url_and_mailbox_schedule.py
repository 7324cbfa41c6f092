"""Move SMTP credentials out of `api_base_url` (smtp://user:pass@host:port) into the mailbox fields,
the password encrypted, and leave the URL without them; schedule the mailbox fetch every minute."""

from urllib.parse import unquote, urlsplit

from django.db import migrations

from core import crypto

SCHEDULE = ("outreach: fetch mailboxes", "outreach.mailbox.fetch_all_mailboxes", 1)


def move_credentials(apps, schema_editor):
    SenderAccount = apps.get_model("outreach", "SenderAccount")
    for sender in SenderAccount.objects.filter(platform="email", api_base_url__startswith="smtp"):
        url = urlsplit(sender.api_base_url)
        if url.scheme not in ("smtp", "smtps") or not url.hostname:
            continue
        sender.smtp_host = sender.smtp_host or url.hostname
        sender.smtp_port = sender.smtp_port or url.port or (465 if url.scheme == "smtps" else 25)
        sender.smtp_security = sender.smtp_security or ("ssl" if url.scheme == "smtps" else "")
        if url.username:
            sender.smtp_username = sender.smtp_username or unquote(url.username)
        if url.password:
            sender.smtp_password_encrypted = crypto.encrypt(unquote(url.password))
        sender.api_base_url = f"{url.scheme}://{url.hostname}" + (f":{url.port}" if url.port else "")
        sender.save()


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    name, func, minutes = SCHEDULE
    Schedule.objects.update_or_create(
        name=name, defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("outreach", "0014_email_mailboxes"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(move_credentials, migrations.RunPython.noop),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
