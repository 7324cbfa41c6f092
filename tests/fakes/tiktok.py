"""The `fake_tiktok` fixture: FakeTikTok with our business account registered and a hand-moved clock.

Import it into a test module (`from tests.fakes.tiktok import fake_tiktok  # noqa: F401`). One
server runs for the whole test process; each test gets fresh state and `fake_tiktok.now`, a Clock.
"""

import atexit

import pytest

from outreach.channels.base import SenderConfig
from outreach.sandbox.tiktok import FakeTikTok
from tests.fakes.x import Clock

BRAND_BUSINESS_ID = "-000Brand0Business0Id"  # TikTok business ids are opaque strings
BRAND_TIKTOK_TOKEN = "act.brand-business-token"

_server: FakeTikTok | None = None


def _running_server() -> FakeTikTok:
    global _server
    if _server is None:
        _server = FakeTikTok().start()
        atexit.register(_server.stop)
    return _server


@pytest.fixture
def fake_tiktok():
    """A running FakeTikTok with fresh state and BRAND_BUSINESS_ID registered."""
    fake = _running_server()
    fake.reset(now=Clock())
    fake.add_business(BRAND_BUSINESS_ID, BRAND_TIKTOK_TOKEN)
    yield fake
    fake.reset()


def tiktok_config(fake: FakeTikTok, **overrides) -> SenderConfig:
    values = {
        "platform": "tiktok",
        "base_url": fake.url,
        "account_id": BRAND_BUSINESS_ID,
        "access_token": BRAND_TIKTOK_TOKEN,
    }
    return SenderConfig(**{**values, **overrides})
