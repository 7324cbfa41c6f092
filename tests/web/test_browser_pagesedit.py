"""The edit-and-bulk flows in a real Chromium against a live server: select all matching creators and
tag them after the count is confirmed, mark several queue cards sent after a confirmation with the
count, archive and unarchive a template, edit a creator's handles with an error on the field, and
choose a time zone that every date then shows in; no duplicate id and no console error on the way."""

import datetime

import pytest

from crm.models import CampaignMember, SocialAccount, Tag
from outreach.models import Conversation, ConversationMessage, MessageTemplate, OutreachMessage
from tests.factories import CampaignFactory, CreatorFactory, SocialAccountFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory
from tests.web.conftest import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

DUPLICATE_IDS = """() => { const seen = {}, twice = [];
    document.querySelectorAll('[id]').forEach(e => { if (seen[e.id]) twice.push(e.id); seen[e.id] = 1; });
    return twice; }"""


@pytest.fixture(scope="module")
def chromium(module_chromium):
    return module_chromium


def unique_ids(page):
    assert page.evaluate(DUPLICATE_IDS) == [], page.url


def test_select_all_matching_tags_the_whole_filtered_set(browser_page, alice):
    for n in range(60):  # more than a page of 50
        CreatorFactory(name=f"Greta {n:02d}", country="DE")
    CreatorFactory(name="Pierre", country="FR")
    page = browser_page
    sign_in(page, "alice")
    page.goto("/creators/")
    page.get_by_label("Country").fill("DE")
    page.get_by_role("button", name="Show").click()
    page.get_by_text("60 creators match.").wait_for()
    unique_ids(page)
    page.get_by_label("Action").select_option("tag")
    page.locator("#bulk_tag").fill("dach")
    page.get_by_label("Select all 60 matching").check()
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("heading", name="Tag 60 creators “dach”?").wait_for()
    assert "Country: DE" in page.locator("#bulk-count").inner_text()
    unique_ids(page)
    page.get_by_role("button", name="Yes, tag 60 creators").click()
    page.get_by_text("Tagged 60 creator(s) “dach”.").wait_for()
    assert Tag.objects.get(name="dach").creators.count() == 60
    assert "country=DE" in page.url  # back on the same filtered list


def test_bulk_mark_sent_asks_with_the_count(browser_page, alice):
    campaign = CampaignFactory(owner=alice, name="Summer Glow")
    sender = SenderAccountFactory(owner=alice, name="Acme Instagram")
    messages = []
    for name in ("Maya Hart", "Liam Stone", "Zoe Reed"):
        creator = CreatorFactory(name=name)
        SocialAccountFactory(creator=creator, platform="instagram", handle=name.lower().replace(" ", "."))
        CampaignMember.objects.create(campaign=campaign, creator=creator)
        messages.append(OutreachMessage.objects.create(
            campaign=campaign, creator=creator, sender_account=sender, platform="instagram",
            rendered_text=f"Hi {name}", status="manual", delivery_mode="manual",
        ))  # fmt: skip
    page = browser_page
    sign_in(page, "alice")
    page.goto("/manual-queue/")
    unique_ids(page)
    page.get_by_label("Tick the message to Maya Hart").check()
    page.get_by_label("Tick the message to Liam Stone").check()
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))  # "no": nothing happens
    page.get_by_role("button", name="Mark the ticked as sent").click()
    assert questions and questions[0].startswith("Mark 2 ticked message(s) as sent?")
    assert OutreachMessage.objects.filter(status="sent").count() == 0
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Mark the ticked as sent").click()
    page.get_by_text("Marked 2 messages as sent: Maya Hart, Liam Stone.").wait_for()
    assert sorted(OutreachMessage.objects.filter(status="sent").values_list("creator__name", flat=True)) == [
        "Liam Stone", "Maya Hart"
    ]  # fmt: skip
    assert page.get_by_text("1 message waiting.").is_visible()


def test_archive_and_unarchive_a_template(browser_page, alice):
    used = MessageTemplateFactory(name="Spring intro")
    OutreachMessage.objects.create(
        campaign=CampaignFactory(owner=alice), creator=CreatorFactory(), sender_account=SenderAccountFactory(),
        platform="instagram", template=used, rendered_text="Hi", status="sent",
    )  # fmt: skip
    MessageTemplateFactory(name="Never used")
    page = browser_page
    sign_in(page, "alice")
    page.goto("/templates/")
    unique_ids(page)
    row = page.locator(f"#template-row-{used.pk}")
    assert row.get_by_text("used, so kept").is_visible()
    assert row.get_by_role("button", name="Delete").count() == 0
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Archive “Spring intro”").click()
    page.get_by_text("Archived “Spring intro”").wait_for()
    assert page.locator(f"#template-row-{used.pk}").count() == 0
    page.get_by_role("link", name="Archived").click()
    page.get_by_role("button", name="Unarchive “Spring intro”").click()
    page.get_by_text("“Spring intro” is offered again.").wait_for()
    assert MessageTemplate.objects.get(pk=used.pk).archived_at is None


def test_edit_a_creators_handles(browser_page, alice):
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="maya.old")
    SocialAccountFactory(creator=CreatorFactory(name="Liam Stone"), platform="tiktok", handle="liam")
    page = browser_page
    sign_in(page, "alice")
    page.goto(f"/creators/{maya.pk}/edit/")
    unique_ids(page)
    page.locator("#id_accounts-0-handle").fill("https://www.instagram.com/Maya.Hart/")
    page.locator("#id_accounts-1-platform").select_option("tiktok")
    page.locator("#id_accounts-1-handle").fill("@liam")
    page.get_by_role("button", name="Save").click()
    page.locator("#id_accounts-1-handle_error").get_by_text("tiktok @liam already belongs to creator").wait_for()
    unique_ids(page)
    page.locator("#id_accounts-1-handle").fill("@maya.makes")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved Maya Hart.").wait_for()
    assert sorted(SocialAccount.objects.filter(creator=maya).values_list("handle", flat=True)) == [
        "maya.hart", "maya.makes"
    ]  # fmt: skip


def test_a_chosen_time_zone_shows_on_the_pages(browser_page, alice):
    conversation = Conversation.objects.create(
        creator=CreatorFactory(name="Maya Hart"), platform="instagram", sender_account=SenderAccountFactory()
    )
    ConversationMessage.objects.create(
        conversation=conversation, platform="instagram", direction="in", text="Hello!", platform_message_id="m.1",
        at=datetime.datetime(2027, 5, 30, 16, 47, tzinfo=datetime.UTC),
    )  # fmt: skip
    page = browser_page
    sign_in(page, "alice")
    page.get_by_role("link", name="Settings").click()
    unique_ids(page)
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved: dates are shown in Europe/Berlin.").wait_for()
    assert "(Europe/Berlin)" in page.locator("#local-now").inner_text()
    page.goto(f"/inbox/{conversation.pk}/")
    page.get_by_text("30 May 2027, 18:47").wait_for()
