"""Settings come from the environment; production refuses to start half-configured."""

import os

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list
from tests.conftest import run_manage

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x" * 20 + "A-long-random-production-secret-key-0123456789",
    "ALLOWED_HOSTS": "crm.example.com",
    "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "PUBLIC_URL": "https://crm.example.com",
}


def without(*names):
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update({key: value for key, value in PRODUCTION.items() if key not in names})
    return env


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "ENCRYPTION_KEYS", "PUBLIC_URL"])
def test_production_refuses_to_start_without_each_required_variable(missing, monkeypatch):
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "ENCRYPTION_KEYS", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    result = run_manage("check", env={**without(missing), missing: ""})
    assert result.returncode != 0
    assert f"DJANGO_ENV=production needs these environment variables: {missing}." in result.stderr


@pytest.mark.slow(seconds=6)
def test_production_settings_pass_the_deploy_checks():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_encryption_key_is_named():
    result = run_manage("check", env={**PRODUCTION, "ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},nonsense"})
    assert result.returncode != 0
    assert "ENCRYPTION_KEYS: key 2 is not a Fernet key" in result.stderr


def test_debug_cannot_be_on_in_production():
    result = run_manage("check", env={**PRODUCTION, "DJANGO_DEBUG": "1"})
    assert "DJANGO_DEBUG must be off" in result.stderr


def test_debug_is_off_by_default():
    from django.conf import settings

    if "DJANGO_DEBUG" not in os.environ:
        assert settings.DEBUG is False


def test_env_helpers_read_and_refuse(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    monkeypatch.setenv("COUNT", "12")
    monkeypatch.setenv("HOSTS", "a.example.com, b.example.com,,")
    assert env_bool("FLAG") is True
    assert env_int("COUNT", 1) == 12
    assert env_list("HOSTS") == ["a.example.com", "b.example.com"]
    assert env_int("UNSET_NUMBER", 7) == 7
    monkeypatch.setenv("FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be one of"):
        env_bool("FLAG")
    monkeypatch.setenv("COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="COUNT must be a whole number"):
        env_int("COUNT", 1)
