import pytest
from cryptography.fernet import Fernet
from django.db import connection

from outreach import crypto
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
