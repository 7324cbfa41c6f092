"""Secrets at rest (platform access tokens) encrypted with MultiFernet under ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so a new key is added in front and old tokens are
re-encrypted with `rotate` (manage.py rotate_encryption_keys) before the old key is dropped.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted with any configured key (a key was removed too early)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return _current().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretUnreadable("No configured ENCRYPTION_KEYS key decrypts this secret.") from None


def rotate(token: str) -> str:
    """The same secret, encrypted under the newest key."""
    try:
        return _current().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("No configured ENCRYPTION_KEYS key decrypts this secret.") from None
