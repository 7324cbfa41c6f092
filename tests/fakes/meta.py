"""The `fake_meta` fixture and SenderConfig builders for each Meta channel pointing at it.

Registered for every test by tests/conftest.py. The fake comes with one account of each kind
registered and a clock that only moves when told.
One server runs for the whole test process; the fixture resets its state around each test.
"""

import socket
import time

import pytest

from outreach.channels.base import SenderConfig
from outreach.sandbox.meta import FakeMeta
from tests.fakes import Clock, running

IG_ACCOUNT = "17841400000000001"  # Instagram Login account
IG_TOKEN = "IGAA-instagram-user-token"
IG_PAGE = "104000000000002"  # Page fronting an Instagram account (Facebook Login)
IG_PAGE_TOKEN = "EAAB-ig-page-token"
PAGE = "104000000000001"  # Messenger Page
PAGE_TOKEN = "EAAB-page-token"
WA_NUMBER = "106000000000001"  # WhatsApp phone number id
WA_TOKEN = "EAAB-whatsapp-system-user-token"

HOUR = 3600
DAY = 24 * HOUR
QUICK_TIMEOUT = (1.0, 0.3)  # (connect, read) for tests that make the fake answer late


@pytest.fixture
def fake_meta():
    """A running FakeMeta with fresh state, a hand-moved clock (`fake_meta.clock`) and one account
    of each kind: IG_ACCOUNT (Instagram Login), IG_PAGE (Instagram via its Page), PAGE, WA_NUMBER."""
    clock = Clock(start=1_750_000_000.0)
    fake = running(FakeMeta)
    fake.reset(now=clock)
    fake.clock = clock
    fake.add_instagram_account(IG_ACCOUNT, IG_TOKEN)
    fake.add_page(IG_PAGE, IG_PAGE_TOKEN, instagram=True)
    fake.add_page(PAGE, PAGE_TOKEN)
    fake.add_whatsapp_number(WA_NUMBER, WA_TOKEN)
    yield fake
    fake.reset(now=time.time)


def instagram_login_config(fake: FakeMeta, **overrides) -> SenderConfig:
    values = {
        "platform": "instagram",
        "base_url": fake.url,
        "account_id": IG_ACCOUNT,
        "access_token": IG_TOKEN,
        "variant": "instagram_login",
    }
    return SenderConfig(**{**values, **overrides})


def instagram_page_config(fake: FakeMeta, **overrides) -> SenderConfig:
    values = {
        "platform": "instagram",
        "base_url": fake.url,
        "account_id": IG_PAGE,
        "access_token": IG_PAGE_TOKEN,
        "variant": "messenger_platform",
    }
    return SenderConfig(**{**values, **overrides})


def messenger_config(fake: FakeMeta, **overrides) -> SenderConfig:
    values = {"platform": "messenger", "base_url": fake.url, "account_id": PAGE, "access_token": PAGE_TOKEN}
    return SenderConfig(**{**values, **overrides})


def whatsapp_config(fake: FakeMeta, **overrides) -> SenderConfig:
    values = {"platform": "whatsapp", "base_url": fake.url, "account_id": WA_NUMBER, "access_token": WA_TOKEN}
    return SenderConfig(**{**values, **overrides})


def closed_port_url() -> str:
    """A loopback URL nothing listens on, for "connection refused"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
