"""The `smtp_sink` fixture: a fresh SmtpSink on a free loopback port for each test.

Import it into a test module (`from tests.fakes.smtp import smtp_sink  # noqa: F401`). Starting and
stopping aiosmtpd takes milliseconds, so every test gets its own server and nothing leaks between them.
"""

import pytest

from outreach.channels.base import SenderConfig
from outreach.sandbox.smtp import SmtpSink

BRAND_FROM = "outreach@brand.example"


@pytest.fixture
def smtp_sink():
    with SmtpSink() as sink:
        yield sink


def email_config(sink: SmtpSink, **overrides) -> SenderConfig:
    values = {"platform": "email", "base_url": sink.url, "account_id": BRAND_FROM, "timeout": (1.0, 1.0)}
    return SenderConfig(**{**values, **overrides})
