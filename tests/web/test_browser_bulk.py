"""A bulk tag over BULK_INLINE_LIMIT in a real Chromium: select all matching, confirm the count, land
on the job's page while it waits for the queue, and see the result appear once the task has run (no
worker here: the test runs the task as `manage.py qcluster` would; the page polls with htmx).
WEB_SCREENSHOTS=1 writes bulk-job.png under docs/screenshots/."""

import pytest

from crm.models import Tag
from tests.factories import CreatorFactory
from tests.web.conftest import screenshot, sign_in
from web.bulk import run_bulk_job
from web.models import BulkJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium(module_chromium):
    return module_chromium


def test_a_large_bulk_tag_runs_in_the_queue_and_its_page_shows_the_result(browser_page, alice, settings):
    settings.BULK_INLINE_LIMIT = 5  # twelve creators are "many" here
    for n in range(12):
        CreatorFactory(name=f"Greta {n:02d}", country="DE")
    CreatorFactory(name="Pierre", country="FR")
    page = browser_page
    sign_in(page, "alice")
    page.goto("/creators/?country=DE")
    page.get_by_label("Action").select_option("tag")
    page.locator("#bulk_tag").fill("dach")
    page.get_by_label("Select all 12 matching").check()
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("heading", name="Tag 12 creators “dach”?").wait_for()
    assert "runs in the background" in page.locator("#bulk-queued").inner_text()
    page.get_by_role("button", name="Yes, tag 12 creators").click()

    page.wait_for_url("**/creators/bulk/*/")
    page.get_by_text("Waiting for the queue worker").wait_for()
    assert "follow its progress" in page.locator(".flash").inner_text()
    assert not Tag.objects.filter(name="dach").exists()
    run_bulk_job(BulkJob.objects.get().pk, size=5)  # what `manage.py qcluster` does
    page.locator("#bulk-result").get_by_text("Tagged 12 creators “dach”, of 12 matching.").wait_for(timeout=5_000)
    assert page.locator("#bulk-status progress").get_attribute("value") == "100"
    screenshot(page, "bulk-job")
    page.get_by_role("link", name="See them").click()
    page.get_by_text("12 creators match.").wait_for()
    assert Tag.objects.get(name="dach").creators.count() == 12
