"""The `fake_meta` fixture and SenderConfig builders for each Meta channel pointing at it.

Import the fixture into a test module (`from tests.fakes.meta import fake_meta  # noqa: F401`) and
put `# ruff: noqa: F811` at its top, since each test then takes an argument of the same name.
The fake comes with one account of each kind registered and a clock that only moves when told.
One server runs for the whole test process; the fixture resets its state around each test.
"""

import atexit
import socket
import time

import pytest

from outreach.channels.base import SenderConfig
from outreach.sandbox.meta import FakeMeta

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


class Clock:
    """A time.time stand-in that tests move forward by hand."""

    def __init__(self, start: float = 1_750_000_000.0):
        self.current = start

    def __call__(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


_server: FakeMeta | None = None


def _running_server() -> FakeMeta:
    """One FakeMeta per test process, started on first use: stopping a server costs up to 0.5 s."""
    global _server
    if _server is None:
        _server = FakeMeta().start()
        atexit.register(_server.stop)
    return _server


@pytest.fixture
def fake_meta():
    """A running FakeMeta with fresh state, a hand-moved clock (`fake_meta.clock`) and one account
    of each kind: IG_ACCOUNT (Instagram Login), IG_PAGE (Instagram via its Page), PAGE, WA_NUMBER."""
    clock = Clock()
    fake = _running_server()
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
