import pytest
from cryptography.fernet import Fernet
from django.db import connection

from core import crypto
from tests.outreach.factories import SenderAccountFactory

pytestmark = pytest.mark.django_db


def test_access_tokens_are_encrypted_at_rest():
    sender = SenderAccountFactory(token="EAAG-secret-token")
    with connection.cursor() as cursor:
        cursor.execute("SELECT access_token_encrypted FROM outreach_senderaccount WHERE id = %s", [sender.pk])
        stored = cursor.fetchone()[0]
    assert "EAAG" not in stored
    assert sender.__class__.objects.get(pk=sender.pk).access_token == "EAAG-secret-token"


def test_a_new_key_in_front_still_reads_old_secrets_and_rotation_moves_them(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    token = crypto.encrypt("page-token")
    settings.ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt(token) == "page-token"
    rotated = crypto.rotate(token)
    settings.ENCRYPTION_KEYS = [new]
    assert crypto.decrypt(rotated) == "page-token"
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(token)


def test_the_rotation_command_moves_every_token_to_the_newest_key(settings):
    import io

    from django.core.management import CommandError, call_command

    from integrations.models import WebhookSubscription
    from outreach.models import SenderAccount
    from tests.factories import UserFactory

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    senders = [SenderAccountFactory(token=f"token-{n}") for n in range(3)]
    subscription = WebhookSubscription(owner=UserFactory(), url="https://hooks.example/crm", events=["message.sent"])
    subscription.set_secret("whsec-1")
    subscription.save()
    settings.ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "4 secret(s) now encrypted under the newest key." in out.getvalue()
    settings.ENCRYPTION_KEYS = [new]
    assert [SenderAccount.objects.get(pk=s.pk).access_token for s in senders] == ["token-0", "token-1", "token-2"]
    assert WebhookSubscription.objects.get().secret == "whsec-1"
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted with any configured key; nothing was changed"):
        call_command("rotate_encryption_keys")
