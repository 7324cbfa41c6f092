"""manage.py rotate_encryption_keys: re-encrypt stored secrets under the newest ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from outreach import crypto
from outreach.models import SenderAccount


class Command(BaseCommand):
    help = (
        "Re-encrypt every sender account's access token under the first key of ENCRYPTION_KEYS. Put the new "
        "key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for sender in SenderAccount.objects.select_for_update().exclude(access_token_encrypted=""):
                try:
                    sender.access_token_encrypted = crypto.rotate(sender.access_token_encrypted)
                except crypto.SecretUnreadable:
                    raise CommandError(
                        f"The token of sender account {sender.pk} ({sender.name}) cannot be decrypted with any "
                        "configured key; nothing was changed. Add back the key it was encrypted with."
                    ) from None
                sender.save(update_fields=["access_token_encrypted"])
                rotated += 1
        self.stdout.write(f"{rotated} token(s) now encrypted under the newest key.")
