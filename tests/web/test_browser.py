"""The pages in a real Chromium against a live server: a partnership manager's day, end to end,
with no console error on any page, on a laptop and on a phone screen.

Set WEB_SCREENSHOTS=1 to (re)write the README's screenshots under docs/screenshots/.
"""

import json
import time

import pytest
import requests
from django.utils import timezone
from django_q.conf import Conf

from crm import services
from crm.models import CampaignMember, Creator
from outreach.models import ConversationMessage, OutreachMessage
from outreach.webhooks import meta
from tests.factories import CreatorFactory, PermissionRequestFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory
from tests.web.conftest import finish_live_requests, screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow(seconds=7)]
SECRET = "meta-app-secret"
CSV = (
    "name,instagram,instagram_followers,tags,country\n"
    "Maya Hart,@mayahart,12.5k,beauty;skincare,GB\n"
    "Liam Stone,https://www.instagram.com/liam.stone/,8200,fitness,US\n"
    "Bad Country,@badcountry,100,,Britain\n"
)


@pytest.fixture(scope="module")
def chromium(module_chromium):
    """Every test here drives a browser: they share one Chromium (tests/web/conftest.py)."""
    return module_chromium


IMPORTED = "2 new creators, 0 already known and updated, 0 the same person as an earlier row (merged), 1 not imported"


@pytest.fixture
def day(settings, monkeypatch, tmp_path, fake_meta, alice):
    """Alice's world before she signs in: a sender on the fake Instagram, a template, rights about to end."""
    settings.META_APP_SECRET = SECRET
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(Conf, "SYNC", True)  # the queue runs each task at once, in the live server
    sender = SenderAccountFactory(
        name="Acme Instagram",
        platform="instagram",
        variant="instagram_login",
        account_id=IG_ACCOUNT,
        token=IG_TOKEN,
        api_base_url=fake_meta.url,
    )
    template = MessageTemplateFactory(
        name="Intro DM", subject="", body='Hi {{ creator.first_name|default:"there" }}! {{ campaign.brand }} here.'
    )
    request = PermissionRequestFactory(
        content__creator=CreatorFactory(name="Zoe Reed"), requested=True, duration_days=7
    )
    services.grant_rights(
        request,
        actor=alice,
        evidence=services.Evidence(
            channel="instagram", text="#YesAcme", rule="exact hashtag", occurred_at=timezone.now()
        ),
    )
    return {"sender": sender, "template": template, "request": request}


def creator_writes_first(live_server, fake_meta, igsid: str, text: str) -> None:
    """The platform's side: the creator's DM reaches the fake, and its signed webhook reaches us."""
    fake_meta.user_wrote(IG_ACCOUNT, igsid)
    now = int(time.time() * 1000)
    event = {
        "sender": {"id": igsid},
        "recipient": {"id": IG_ACCOUNT},
        "timestamp": now,
        "message": {"mid": f"mid-{igsid}", "text": text},
    }
    body = json.dumps(
        {"object": "instagram", "entry": [{"id": IG_ACCOUNT, "time": now, "messaging": [event]}]}
    ).encode()
    response = requests.post(
        f"{live_server.url}/webhooks/meta/",
        data=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": meta.sign(body, SECRET)},
        timeout=10,
    )
    assert response.status_code == 200


@pytest.mark.slow(seconds=15)  # measured under `-n 2`: it should start first among these
def test_it_runs_a_managers_day_in_chromium(browser_page, live_server, fake_meta, day):
    page = browser_page
    creator_writes_first(live_server, fake_meta, "982340000000001", "Hi! Love your serums")
    sign_in(page, "alice")

    # Import creators: progress, then the rejected row with its line number.
    page.get_by_role("link", name="Creators", exact=True).click()
    page.get_by_role("link", name="Import a CSV file").click()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "creators.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload and match the columns").click()
    page.get_by_role("button", name="Preview the first rows").click()  # our own column names: all guessed
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/creators/import/*/")
    page.locator("#import-status").get_by_text(IMPORTED).wait_for()
    assert page.locator("#rejections td[data-label=Line]").inner_text() == "4"
    screenshot(page, "import")

    # Create a campaign; a bad hashtag is named next to its field first.
    page.get_by_role("link", name="Campaigns", exact=True).click()
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name", exact=True).fill("Summer Glow")
    page.get_by_label("Brand").fill("Acme")
    page.get_by_label("Status").select_option("active")
    page.get_by_label("Approval hashtag").fill("# nope")
    page.get_by_role("button", name="Create the campaign").click()
    assert "An approval hashtag is" in page.locator("#id_approval_hashtag_error").inner_text()
    page.get_by_label("Approval hashtag").fill("#YesAcme")
    page.get_by_role("button", name="Create the campaign").click()
    page.get_by_role("heading", name="Summer Glow").wait_for()
    campaign_url = page.url

    # Add the Instagram creators to it with a bulk action.
    page.goto("/creators/?platform=instagram&sort=name")
    boxes = page.locator("input[name=creator]")
    assert boxes.count() == 3
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.get_by_label("Action").select_option("campaign")
    page.get_by_label("Campaign", exact=True).select_option(label="Summer Glow (Acme)")
    screenshot(page, "creators")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Added 3 creator(s) to Summer Glow.").wait_for()
    page.get_by_role("link", name="Maya Hart").click()
    page.get_by_role("heading", name="Timeline").wait_for()

    # Move a member on the board with one action (htmx swaps the board in place).
    page.goto(campaign_url)
    page.get_by_label("Move Liam Stone to").select_option("negotiating")
    page.locator(
        "form:has(#move-" + page.get_by_label("Move Liam Stone to").get_attribute("id").split("-")[1] + ") button"
    ).click()
    page.locator("#stage-negotiating .badge").get_by_text("1", exact=True).wait_for()
    screenshot(page, "campaign")

    # Launch: preview for a real member, the counts before sending, then send.
    page.get_by_role("link", name="Launch outreach").click()
    page.get_by_label("1st channel: send from").select_option(label="Acme Instagram (Instagram)")
    page.locator("#id_template").select_option(label=str(day["template"]))
    page.get_by_label("Preview for").select_option(label="Maya Hart (@mayahart)")
    page.get_by_role("button", name="Preview").click()
    assert page.locator("pre.preview").inner_text() == "Hi Maya! Acme here."
    assert (page.locator("#count-api").inner_text(), page.locator("#count-manual").inner_text()) == ("1", "2")
    screenshot(page, "launch")
    page.get_by_role("button", name="Launch: queue these messages").click()
    page.get_by_text("Launch 1: 1 by API, 2 to the manual queue, 0 blocked").wait_for()
    assert [m["text"] for m in fake_meta.sent(IG_ACCOUNT)] == ["Hi New! Acme here."]  # to "New instagram contact …"

    # Send one message from the manual queue.
    page.get_by_role("link", name="Manual queue").click()
    page.get_by_role("button", name="Mark as sent").first.click()
    page.get_by_text("1 message waiting.").wait_for()
    assert OutreachMessage.objects.filter(status="sent").count() == 2

    # The dashboard shows the funnel and the rights about to end; their proof opens.
    page.get_by_role("link", name="Dashboard").click()
    chart = page.locator("svg[aria-label^='Members:']").first
    contacted = CampaignMember.objects.exclude(stage="prospect").count()  # Liam, and whoever got a message
    assert chart.get_attribute("aria-label") == f"Members: Members 3, Contacted {contacted}, Replied 1, Confirmed 0"
    assert contacted >= 2
    screenshot(page, "dashboard")

    # Classify the reply that needed a person, from the dashboard's list to the conversation.
    page.locator("section[aria-labelledby=review-heading]").get_by_role("link", name="New instagram contact").click()
    page.get_by_role("button", name="Just a reply").click()
    page.get_by_text("Just a reply").first.wait_for()
    assert ConversationMessage.objects.get(text="Hi! Love your serums").classification == "reply"

    # Open the proof of the rights about to end.
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="Zoe Reed").click()
    page.get_by_role("heading", name="Proof of permission").wait_for()
    assert Creator.objects.count() == 4


PHONE = {"width": 390, "height": 844}


def test_it_fits_a_phone_screen_and_is_keyboard_reachable(chromium, live_server, alice, day):
    creator = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=creator, follower_count=12_500)
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # Keyboard only: the username field has the focus, Tab moves on, Enter signs in; on the next
        # page the first Tab reaches "Skip to content".
        page.goto("/login/")
        assert page.evaluate("document.activeElement.id") == "id_username"
        page.keyboard.type("alice")
        page.keyboard.press("Tab")
        page.keyboard.type("password")
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/login/" not in url)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        pages = [("/", "dashboard-phone"), ("/creators/", "creators-phone"), (f"/creators/{creator.pk}/", None)]
        pages += [("/campaigns/", None), ("/campaigns/new/", None), ("/creators/import/", None)]
        for url, name in pages:
            started = time.perf_counter()
            page.goto(url)
            assert time.perf_counter() - started < 2, url
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{url} is {overflow}px wider than a phone screen"
            if name:
                screenshot(page, name)
    finally:
        context.close()
        finish_live_requests(live_server)
    assert not errors, errors


def test_it_shows_an_imports_progress_while_the_queue_works(browser_page, alice, settings, tmp_path):
    """No worker here: the page waits, polls with htmx, and shows the result once the task has run."""
    from web.imports import run_import
    from web.models import ImportJob

    settings.VAR_DIR = tmp_path
    page = browser_page
    sign_in(page, "alice")
    page.goto("/creators/import/")
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "creators.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload and match the columns").click()
    page.get_by_role("button", name="Preview the first rows").click()
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Waiting for the queue worker").wait_for()
    run_import(ImportJob.objects.get().pk)  # what `manage.py qcluster` does
    page.locator("#import-status").get_by_text(IMPORTED).wait_for(timeout=5_000)
    assert page.locator("#rejections td[data-label=Column]").inner_text() == "country"
    assert "two-letter code" in page.locator("#rejections td[data-label=Reason]").inner_text()
