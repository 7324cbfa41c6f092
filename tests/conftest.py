"""Personas and shared fixtures.

alice owns campaigns and creators, bob is her teammate on them, charlie is another user of the
same instance who works on other things.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import CampaignFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent

# Fixtures that start the loopback fake platforms, available to every test.
pytest_plugins = [
    "tests.fakes.meta",
    "tests.fakes.smtp",
    "tests.fakes.x",
    "tests.fakes.tiktok",
    "tests.fakes.imap",
    "tests.fakes.dkim",
]


def pytest_configure(config):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.API_RATE_LIMIT = ""  # throttling has its own test; elsewhere it would only make tests flaky


def pytest_report_header(config):
    vendor = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    skipped = "" if vendor == "PostgreSQL" else " (tests marked 'postgres' are skipped; set DATABASE_URL to run them)"
    return f"database: {vendor}{skipped}"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie", first_name="Charlie")


@pytest.fixture
def admin_user_persona(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def campaign(alice, bob):
    campaign = CampaignFactory(owner=alice)
    campaign.team.add(bob)
    return campaign


def run_manage(*args, env=None, timeout=120):
    """Run manage.py in a fresh process, as an operator would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def is_postgres():
    return connection.vendor == "postgresql"


def test_database_url() -> str:
    """The URL of the database this test runs in, for worker processes started by the test."""
    settings_dict = connection.settings_dict
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgresql://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"


test_database_url.__test__ = False  # a helper, not a test
