"""Content and rights in a real Chromium: add a post by its pasted link on the creator's page, ask
for the rights to two posts with the policy's preview, send, then ask "may we use it?"; no console
error, and no horizontal scrolling on a phone.

Set WEB_SCREENSHOTS=1 to (re)write the README's screenshots under docs/screenshots/.
"""

import pytest

from crm import services
from crm.models import PermissionRequest
from outreach.models import OutreachMessage
from tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ContentFactory,
    CreatorFactory,
    SocialAccountFactory,
)
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory
from tests.web import world
from tests.web.conftest import duplicate_ids, screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PHONE = {"width": 390, "height": 844}
ASK = "Hi {{ creator.first_name }}, may we repost your post? Reply {{ permission_request.approval_hashtag }}."


@pytest.mark.slow(seconds=10)
def test_content_and_rights_in_chromium(browser_page, alice):
    campaign = CampaignFactory(owner=alice, name="Summer Glow", approval_hashtag="#YesAcme")
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="maya.hart", follower_count=23_400)
    ContentFactory(creator=maya, campaign=campaign, url="https://www.instagram.com/p/First1/")
    SenderAccountFactory(name="Acme Instagram", platform="instagram", owner=alice)
    MessageTemplateFactory(name="Ask for rights", body=ASK)
    page = browser_page
    sign_in(page, "alice")

    page.goto(f"/creators/{maya.pk}/")
    page.get_by_text("23.4k").wait_for()
    page.get_by_text("Add a post by its link").click()
    page.get_by_label("Post link", exact=True).fill("https://www.instagram.com/reel/Second2/?igsh=MTc4")
    page.get_by_label("Campaign", exact=True).select_option(label=campaign.name)
    page.get_by_role("button", name="Add the post").click()
    page.get_by_text("Added the Instagram post.").wait_for()
    assert page.locator("[data-status=none]").count() == 2

    page.get_by_text("Ask for the rights to posts").click()
    form = page.locator("#ask-rights")
    for box in form.locator("input[name=rights-content]").all():
        box.check()
    form.get_by_label("Paid ads").check()
    form.get_by_label("Territory").fill("Germany, Austria, Switzerland")
    form.get_by_label("Terms URL").fill("https://acme.example.com/terms")
    form.get_by_label("Terms the creator agrees to").fill("You grant Acme a licence to repost the post.")
    form.get_by_label("Template").select_option(label="Ask for rights")
    form.get_by_label("Sender").select_option(label="Acme Instagram (Instagram)")
    form.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Before sending").wait_for()
    assert page.locator("tr.mode-manual").count() == 2
    assert not PermissionRequest.objects.exists()
    screenshot(page, "rights-preview")
    page.get_by_role("button", name="Send: ask for the rights").click()
    page.get_by_text("Asked for the rights to 2 post(s)").wait_for()
    assert page.locator("[data-status=draft]").count() == 2
    page.get_by_text("Organic social, paid ads; Germany, Austria, Switzerland; for 365 days").first.wait_for()
    request = PermissionRequest.objects.order_by("id").first()
    assert request.territory == "DE, AT, CH"

    services.mark_permission_requested(request, request_text="Hi Maya")
    services.grant_rights(request, actor=alice, evidence=services.Evidence(text="#YesAcme", rule="a person read it"))
    page.get_by_role("link", name="Content", exact=True).click()
    page.get_by_role("link", name="May we use a post? Ask by its link →").click()
    page.get_by_label("Post link", exact=True).fill(request.content.url + "?utm_source=ig_web_copy_link")
    page.get_by_label("Used for").select_option(label="Paid ads")
    page.get_by_label("In", exact=True).fill("France")
    page.get_by_role("button", name="Ask").click()
    page.get_by_text(f"No: France is outside DE, AT, CH (request #{request.pk}).").wait_for()
    page.get_by_label("In", exact=True).fill("AT")
    page.get_by_role("button", name="Ask").click()
    page.locator("#answer-reason").get_by_text("Yes: Organic social, paid ads; Germany, Austria").wait_for()
    screenshot(page, "may-use")

    page.set_viewport_size(PHONE)
    for url in ["/content/", f"/creators/{maya.pk}/", "/content/may-use/"]:
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url


def test_edit_and_undo_in_chromium(browser_page, alice):
    campaign = CampaignFactory(owner=alice, name="Summer Glow")
    maya = CreatorFactory(name="Maya Hart")
    CampaignMemberFactory(campaign=campaign, creator=maya)
    message = OutreachMessage.objects.create(
        campaign=campaign, creator=maya, sender_account=SenderAccountFactory(owner=alice), platform="instagram",
        rendered_text="Hi Maya", status="manual",
    )  # fmt: skip
    page = browser_page
    sign_in(page, "alice")

    page.goto(f"/creators/{maya.pk}/")
    page.get_by_role("link", name="Edit Maya Hart").click()
    page.get_by_label("Name").fill("Maya Hart-Lee")
    page.get_by_label("Tags").fill("beauty, skincare")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved Maya Hart-Lee.").wait_for()

    page.goto("/manual-queue/")
    page.once("dialog", lambda dialog: dialog.dismiss())  # "no": nothing happens
    page.get_by_role("button", name="Cancel the message to Maya Hart-Lee").click()
    message.refresh_from_db()
    assert message.status == "manual"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel the message to Maya Hart-Lee").click()
    page.get_by_role("button", name="Undo: put it back in the queue").click()
    page.get_by_text("The message to Maya Hart-Lee is back in the queue.").wait_for()
    message.refresh_from_db()
    assert message.status == "pending"


@pytest.mark.slow(seconds=11)
def test_layout_fits_1366_and_a_phone_with_unique_ids(browser_page, alice):
    campaign = world.build(alice, members=14)[0]
    creator = campaign.members.first().creator
    page = browser_page
    sign_in(page, "alice")
    urls = ["/", "/creators/", f"/creators/{creator.pk}/", f"/campaigns/{campaign.pk}/",
            f"/campaigns/{campaign.pk}/report/", "/content/", "/manual-queue/", "/permission-requests/"]  # fmt: skip
    for size in [{"width": 1366, "height": 768}, PHONE]:
        page.set_viewport_size(size)
        for url in urls:
            page.goto(url)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (url, size)
            assert duplicate_ids(page) == [], url
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"/campaigns/{campaign.pk}/")
    board = page.locator("#board")
    assert board.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), "the board fits 1366 px"
    assert page.locator("#board .handle").first.is_visible()
    screenshot(page, "campaign")
