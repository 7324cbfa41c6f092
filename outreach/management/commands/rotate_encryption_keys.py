"""manage.py rotate_encryption_keys: re-encrypt stored secrets under the newest ENCRYPTION_KEYS key."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core import crypto

# Every column holding a secret encrypted with ENCRYPTION_KEYS: (model, field, what it is).
ENCRYPTED_FIELDS = [
    ("outreach.SenderAccount", "access_token_encrypted", "the token of sender account"),
    ("outreach.SenderAccount", "smtp_password_encrypted", "the SMTP password of sender account"),
    ("outreach.SenderAccount", "imap_password_encrypted", "the IMAP password of sender account"),
    ("integrations.WebhookSubscription", "secret_encrypted", "the signing secret of webhook subscription"),
]


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (sender accounts' access tokens and mailbox passwords, webhook "
        "subscriptions' signing secrets) under the first key of ENCRYPTION_KEYS. Put the new key first, keep "
        "the old ones after it, run this, then remove the old keys. All or nothing: one unreadable secret "
        "changes nothing."
    )

    def handle(self, *args, **options):
        rotated = 0
        with transaction.atomic():
            for label, field, what in ENCRYPTED_FIELDS:
                try:
                    model = apps.get_model(label)
                except LookupError:
                    continue  # that app is not installed here
                for row in model.objects.select_for_update().exclude(**{field: ""}).iterator(chunk_size=500):
                    try:
                        setattr(row, field, crypto.rotate(getattr(row, field)))
                    except crypto.SecretUnreadable:
                        raise CommandError(
                            f"{what.capitalize()} {row.pk} ({row}) cannot be decrypted with any configured key; "
                            "nothing was changed. Add back the key it was encrypted with."
                        ) from None
                    row.save(update_fields=[field])
                    rotated += 1
        self.stdout.write(f"{rotated} secret(s) now encrypted under the newest key.")
