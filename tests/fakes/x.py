"""The `fake_x` fixture: FakeX with our sender account registered and a clock moved by hand.

Registered for every test by tests/conftest.py. One server runs for the whole test process; each
test gets fresh state,
small rate limits (5 per 15 min, 8 per 24 h) and `fake_x.now`, a `Clock` starting at a whole second.
"""

import pytest

from outreach.channels.base import SenderConfig
from outreach.sandbox.x import FakeX
from tests.fakes import Clock, running

BRAND_X_ID = "1001"  # our sender account's X user id
BRAND_X_TOKEN = "brand-user-context-token"
TEST_LIMIT_15_MINUTES = 5
TEST_LIMIT_24_HOURS = 8


@pytest.fixture
def fake_x():
    """A running FakeX with fresh state and BRAND_X_ID registered with every DM scope."""
    fake = running(FakeX)
    fake.reset(now=Clock(), requests_per_15_minutes=TEST_LIMIT_15_MINUTES, requests_per_24_hours=TEST_LIMIT_24_HOURS)
    fake.add_user(BRAND_X_ID, BRAND_X_TOKEN)
    yield fake
    fake.reset()


def x_config(fake: FakeX, **overrides) -> SenderConfig:
    values = {"platform": "x", "base_url": fake.url, "account_id": BRAND_X_ID, "access_token": BRAND_X_TOKEN}
    return SenderConfig(**{**values, **overrides})
