"""The `fake_x` fixture: FakeX with our sender account registered and a clock moved by hand.

Import it into a test module (`from tests.fakes.x import fake_x  # noqa: F401`). One server runs
for the whole test process (stopping one costs up to half a second); each test gets fresh state,
small rate limits (5 per 15 min, 8 per 24 h) and `fake_x.now`, a `Clock` starting at a whole second.
"""

import atexit
import time

import pytest

from outreach.channels.base import SenderConfig
from outreach.sandbox.x import FakeX

BRAND_X_ID = "1001"  # our sender account's X user id
BRAND_X_TOKEN = "brand-user-context-token"
TEST_LIMIT_15_MINUTES = 5
TEST_LIMIT_24_HOURS = 8


class Clock:
    """A time.time stand-in that tests move forward by hand. It starts at the real time (to the
    whole second) so reset times in headers stay meaningful to code that compares them with now."""

    def __init__(self, start: float | None = None):
        self.current = float(int(time.time())) if start is None else start

    def __call__(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


_server: FakeX | None = None


def _running_server() -> FakeX:
    global _server
    if _server is None:
        _server = FakeX().start()
        atexit.register(_server.stop)
    return _server


@pytest.fixture
def fake_x():
    """A running FakeX with fresh state and BRAND_X_ID registered with every DM scope."""
    fake = _running_server()
    fake.reset(now=Clock(), requests_per_15_minutes=TEST_LIMIT_15_MINUTES, requests_per_24_hours=TEST_LIMIT_24_HOURS)
    fake.add_user(BRAND_X_ID, BRAND_X_TOKEN)
    yield fake
    fake.reset()


def x_config(fake: FakeX, **overrides) -> SenderConfig:
    values = {"platform": "x", "base_url": fake.url, "account_id": BRAND_X_ID, "access_token": BRAND_X_TOKEN}
    return SenderConfig(**{**values, **overrides})
