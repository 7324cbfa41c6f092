"""manage.py clean_imports [--dry-run]: delete creator-import uploads nobody confirmed in time."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from web import imports


class Command(BaseCommand):
    help = (
        "Delete creator-import uploads whose columns were matched and previewed but never imported, once older "
        f"than IMPORT_UPLOAD_TTL_HOURS (now {settings.IMPORT_UPLOAD_TTL_HOURS} h): the stored file and its "
        "import. Imports that were queued, ran or were refused keep their report; stored files no waiting or "
        "running import needs go too. The queue runs this every hour."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Print what would be deleted; delete nothing.")

    def handle(self, *args, dry_run: bool, **options):
        cleanup = imports.clean_abandoned_uploads(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        for pk, file_name, username, uploaded in cleanup.jobs:
            when = timezone.localtime(uploaded).strftime("%Y-%m-%d %H:%M")
            self.stdout.write(f"{verb} import {pk}: {file_name}, uploaded by {username} at {when}, never imported")
        for name in cleanup.files:
            self.stdout.write(f"{verb} stored file {name}: no import needs it")
        cutoff = timezone.localtime(cleanup.cutoff).strftime("%Y-%m-%d %H:%M")
        self.stdout.write(
            f"{verb} {len(cleanup.jobs)} unconfirmed upload(s) and {len(cleanup.files)} leftover file(s) "
            f"older than {cutoff}."
        )
