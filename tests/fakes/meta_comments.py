"""The `fake_meta_comments` fixture: FakeMetaComments (the Graph API's comment side) with the brand's
Instagram Login account registered as @acme, on a clock at the real time (comments' 7-day rule is
checked by the CRM against its own clock). Import it into a test module:
`from tests.fakes.meta_comments import fake_meta_comments  # noqa: F401`."""

import time

import pytest

from outreach.sandbox.meta_comments import FakeMetaComments
from tests.fakes import Clock, running
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN

BRAND_USERNAME = "acme"


@pytest.fixture
def fake_meta_comments():
    clock = Clock()
    fake = running(FakeMetaComments)
    fake.reset(now=clock)
    fake.clock = clock
    fake.add_instagram_account(IG_ACCOUNT, IG_TOKEN)
    fake.set_username(IG_ACCOUNT, BRAND_USERNAME)
    yield fake
    fake.reset(now=time.time)
