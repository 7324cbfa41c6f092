"""The `fake_tiktok` fixture: FakeTikTok with our business account registered and a hand-moved clock.

Registered for every test by tests/conftest.py. One server runs for the whole test process;
each test gets fresh state and `fake_tiktok.now`, a Clock.
"""

import pytest

from outreach.channels.base import SenderConfig
from outreach.sandbox.tiktok import FakeTikTok
from tests.fakes import Clock, running

BRAND_BUSINESS_ID = "-000Brand0Business0Id"  # TikTok business ids are opaque strings
BRAND_TIKTOK_TOKEN = "act.brand-business-token"


@pytest.fixture
def fake_tiktok():
    """A running FakeTikTok with fresh state and BRAND_BUSINESS_ID registered."""
    fake = running(FakeTikTok)
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


@pytest.fixture
def fake_tiktok_comments():
    """A running FakeTikTokComments (the comment side of TikTok API for Business) with fresh state,
    BRAND_BUSINESS_ID registered and a clock at the real time. Import it into a test module:
    `from tests.fakes.tiktok import fake_tiktok_comments  # noqa: F401`."""
    import time

    from outreach.sandbox.tiktok_comments import FakeTikTokComments

    clock = Clock()
    fake = running(FakeTikTokComments)
    fake.reset(now=clock)
    fake.clock = clock
    fake.add_business(BRAND_BUSINESS_ID, BRAND_TIKTOK_TOKEN)
    yield fake
    fake.reset(now=time.time)
