"""The importer in a real Chromium: upload a file with another tool's column names, match its
columns (a required field explained, a column ignored, the matching saved), preview the first rows
with their problems on the cells, go back, import, read the result; then the saved mapping is
offered again for a file with the same headers, renamed and deleted."""

import pytest
from django_q.conf import Conf

from crm.models import ColumnMapping, Creator
from tests.web.conftest import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

EXPORT = (
    "Who,IG,Followers,E-mail,Shoe size\n"
    "Maya Hart,https://instagram.com/mayahart/,23.4k,Maya@Example.com,38\n"  # line 2: new
    "Liam Stone,@liam.stone,3.2,liam@example.com,44\n"  # line 3: a count we cannot read for sure
    "Maya H.,,,maya@example.com,38\n"  # line 4: repeats line 2 (the same email)
)


@pytest.fixture(scope="module")
def chromium(module_chromium):
    return module_chromium


def upload(page, name="agency.csv", text=EXPORT):
    page.goto("/creators/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}]
    )
    page.get_by_role("button", name="Upload and match the columns").click()
    page.wait_for_url("**/columns/")


def test_upload_match_preview_import_and_the_saved_mapping(browser_page, alice, settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(Conf, "SYNC", True)  # the queue runs the import at once, in the live server
    page = browser_page
    sign_in(page, "alice")
    upload(page)

    # The guesses: IG, Followers and E-mail are recognised; "Who" and "Shoe size" are not.
    assert page.get_by_label("IG", exact=True).input_value() == "instagram"
    assert page.get_by_label("Followers", exact=True).input_value() == "instagram_followers"
    assert page.get_by_label("E-mail", exact=True).input_value() == "email"
    assert page.get_by_label("Shoe size", exact=True).input_value() == ""
    assert "Which column holds the creator's name?" in page.locator("#mapping-hints").inner_text()
    assert "Maya Hart" in page.locator("#columns tr", has_text="Who").inner_text()  # first values shown

    # Pressing on without a name is refused, in words.
    page.get_by_role("button", name="Preview the first rows").click()
    page.get_by_text("Which column holds the creator's name?").wait_for()
    assert "/columns/" in page.url

    page.get_by_label("Who", exact=True).select_option(label="Name")
    page.get_by_label("Save this matching as").fill("Agency export")
    page.get_by_role("button", name="Preview the first rows").click()
    page.wait_for_url("**/preview/")

    rows = page.locator("#preview tbody tr")
    assert rows.count() == 3
    maya = page.locator("#preview tr[data-line='2']")
    assert maya.get_attribute("data-outcome") == "new"
    assert maya.locator("td[data-label=Followers]").inner_text() == "23,400"
    assert maya.locator("td[data-label=E-mail]").inner_text() == "maya@example.com"
    assert maya.locator("td[data-label=IG]").inner_text() == "@mayahart"
    liam = page.locator("#preview tr[data-line='3']")
    assert liam.get_attribute("data-outcome") == "rejected"
    flagged = liam.locator("td.errorlist")
    assert flagged.count() == 1 and "cannot be read as a follower count for sure" in flagged.inner_text()
    repeat = page.locator("#preview tr[data-line='4']")
    assert "Repeats line 2" in repeat.locator("td[data-label='What happens']").inner_text()
    assert page.locator("#file-repeats").inner_text().startswith("1 row of the file repeats an earlier row")
    assert "Shoe size" in page.get_by_text("Ignored columns").inner_text()
    assert not Creator.objects.exists()  # nothing written by the preview

    # Back keeps the choices; on again, then Import.
    page.get_by_role("link", name="Back", exact=True).click()
    page.wait_for_url("**/columns/")
    assert page.get_by_label("Who", exact=True).input_value() == "name"
    page.get_by_role("button", name="Preview the first rows").click()
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/creators/import/*/")
    counts = page.locator("#import-counts")
    counts.get_by_text("1 new creators").wait_for()
    assert "1 the same person as an earlier row (merged), 1 not imported" in counts.inner_text()
    assert page.locator("#duplicates").inner_text() == "Line 4 repeats line 2 (Maya H.)."
    assert page.locator("#rejections td[data-label=Column]").inner_text() == "Followers"
    maya_stored = Creator.objects.get()
    assert (maya_stored.email, maya_stored.accounts.get().follower_count) == ("maya@example.com", 23_400)

    # A file with the same headers (in another order) is matched by the saved mapping at once.
    upload(page, "next-month.csv", "E-mail,Who,IG,Followers,Shoe size\nzoe@example.com,Zoë,@zoe,1.2k,37\n")
    assert "Agency export" in page.locator("#offered-mapping").inner_text()
    assert page.get_by_label("Who", exact=True).input_value() == "name"
    assert page.locator("#mapping-hints").count() == 0

    # Rename and delete it.
    page.goto("/creators/import/mappings/")
    page.get_by_label("New name for Agency export").fill("Agency (monthly)")
    page.get_by_role("button", name="Rename").click()
    page.get_by_text("Renamed to “Agency (monthly)”.").wait_for()
    assert ColumnMapping.objects.get().name == "Agency (monthly)"
    page.get_by_role("button", name="Delete").click()
    page.get_by_text("Deleted the mapping").wait_for()
    assert not ColumnMapping.objects.exists()
