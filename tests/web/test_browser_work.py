"""The work pages in a real Chromium against a live server: send a message from the manual queue,
classify a reply, open a permission's proof, resume a sender, create an API token, and write a
template with its live preview and length counter; no console error, on a laptop and a phone.

Set WEB_SCREENSHOTS=1 to (re)write the README's screenshots under docs/screenshots/.
"""

import datetime
import time

import pytest
from django.utils import timezone

from crm import services
from crm.models import ApiToken, PermissionRequest
from outreach.models import Conversation, ConversationMessage, MessageTemplate, OutreachMessage, SenderAccount
from tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ContentFactory,
    CreatorFactory,
    PermissionRequestFactory,
    SocialAccountFactory,
)
from tests.outreach.factories import SenderAccountFactory
from tests.web.conftest import finish_live_requests, htmx_settled, screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow(seconds=9)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def chromium(module_chromium):
    """Every test here drives a browser: they share one Chromium (tests/web/conftest.py)."""
    return module_chromium


@pytest.fixture
def work(alice):
    """Alice's waiting work: a message to send by hand, a reply to read, rights granted, a broken sender."""
    campaign = CampaignFactory(owner=alice, name="Summer Glow")
    sender = SenderAccountFactory(name="Acme Instagram", platform="instagram", owner=alice)
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="maya.hart")
    CampaignMemberFactory(campaign=campaign, creator=maya)
    manual = OutreachMessage.objects.create(
        campaign=campaign,
        creator=maya,
        sender_account=sender,
        platform="instagram",
        rendered_text="Hi Maya! Acme here: may we share your reel?",
        status="manual",
        delivery_mode="manual",
        reason="The Instagram window is closed: the creator last wrote 9 days ago.",
    )
    liam = CreatorFactory(name="Liam Stone")
    SocialAccountFactory(creator=liam, platform="instagram", handle="liam.stone", platform_user_id="igsid-liam")
    asked = PermissionRequestFactory(
        content=ContentFactory(creator=liam, campaign=campaign), campaign=campaign, requested=True, created_by=alice
    )
    conversation = Conversation.objects.create(
        creator=liam, platform="instagram", sender_account=sender, last_inbound_at=timezone.now()
    )
    reply = ConversationMessage.objects.create(
        conversation=conversation,
        platform="instagram",
        direction="in",
        text="Sure, go ahead and use it!",
        at=timezone.now(),
        classification="needs_review",
        platform_message_id="mid.liam.1",
    )
    zoe = CreatorFactory(name="Zoe Reed")
    granted = PermissionRequestFactory(
        content=ContentFactory(creator=zoe, campaign=campaign), campaign=campaign, requested=True, duration_days=7
    )
    services.grant_rights(
        granted,
        actor=None,
        evidence=services.Evidence(
            channel="instagram",
            message_id="mid.zoe.1",
            text="Yes! #YesAcme",
            rule="approval hashtag #YesAcme as its own word",
        ),
    )
    broken = SenderAccountFactory(
        name="Acme X",
        platform="x",
        owner=alice,
        breaker_state="open",
        consecutive_failures=5,
        breaker_reason="401 from the platform: the token was revoked.",
        breaker_opened_at=timezone.now(),
    )
    for number in range(2):
        OutreachMessage.objects.create(
            campaign=campaign,
            creator=CreatorFactory(),
            sender_account=broken,
            platform="x",
            rendered_text="Hi",
            status="failed",
            error_code="89",
            error_message=f"Invalid or expired token ({number + 1})",
        )
    OutreachMessage.objects.create(
        campaign=campaign,
        creator=CreatorFactory(),
        sender_account=broken,
        platform="x",
        rendered_text="Hi",
        status="sent",
        sent_at=timezone.now() - datetime.timedelta(hours=2),
    )
    return {
        "campaign": campaign,
        "manual": manual,
        "asked": asked,
        "reply": reply,
        "granted": granted,
        "conversation": conversation,
        "broken": broken,
    }


def test_it_does_the_days_work_in_chromium(browser_page, work):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, "alice")

    # The manual queue: copy the text, the chat link, then mark it sent.
    page.get_by_role("link", name="Manual queue", exact=True).click()
    page.get_by_role("heading", name="Manual queue").wait_for()
    assert page.get_by_role("link", name="Open the chat on Instagram").get_attribute("href") == (
        "https://ig.me/m/maya.hart"
    )
    screenshot(page, "manual-queue")
    page.get_by_role("button", name="Copy the text").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == "Hi Maya! Acme here: may we share your reel?"
    page.get_by_role("button", name="Mark as sent").click()
    page.get_by_text("Marked as sent to Maya Hart.").wait_for()
    page.get_by_text("Nothing to send by hand.").wait_for()
    work["manual"].refresh_from_db()
    assert work["manual"].status == "sent" and work["manual"].sent_by.username == "alice"

    # The inbox: one click says the reply grants the rights asked for.
    page.get_by_role("link", name="Inbox", exact=True).click()
    page.locator("blockquote").get_by_text("Sure, go ahead and use it!").wait_for()
    screenshot(page, "inbox")
    page.get_by_role("button", name="Granted for the reply of Liam Stone").click()
    page.get_by_text("Liam Stone's reply: granted.").wait_for()
    work["asked"].refresh_from_db()
    assert work["asked"].status == PermissionRequest.Status.GRANTED

    # Answer Liam inside the window from his conversation.
    page.get_by_role("link", name="Liam Stone").first.click()
    page.get_by_text("Your answer goes out by API now.", exact=False).wait_for()
    page.get_by_label("Your answer").fill("Thank you Liam, we will credit you!")
    page.get_by_role("button", name="Send the answer").click()
    page.get_by_text("Answer queued").wait_for()
    assert OutreachMessage.objects.filter(
        rendered_text="Thank you Liam, we will credit you!", human_agent=True
    ).exists()

    # Permission requests: rights ending soon, the request's proof, the printable proof.
    page.get_by_role("link", name="Permission requests", exact=True).click()
    page.get_by_role("link", name="Expiring in 14 days").click()
    page.get_by_role("link", name=f"#{work['granted'].pk}").click()
    page.get_by_text("The creator's consent ledger is intact").wait_for()
    assert "Yes! #YesAcme" in page.locator("#main").inner_text()
    screenshot(page, "permission-request")
    page.get_by_role("link", name="Printable proof").click()
    page.get_by_role("heading", name=f"Proof of permission #{work['granted'].pk}: granted").wait_for()
    page.go_back()

    # Sender accounts: today's use, the breaker's reason and last errors; resume after a new token.
    page.get_by_role("link", name="Sender accounts", exact=True).click()
    page.get_by_text("401 from the platform: the token was revoked.").wait_for()
    assert page.get_by_text("Invalid or expired token (2)").is_visible()
    assert page.get_by_label("Acme X: 1 of 1000 sent in 24 h").is_visible()
    screenshot(page, "sender-accounts")
    card = page.locator("article", has=page.get_by_role("heading", name="Acme X"))
    card.get_by_text("Replace the token").click()
    card.get_by_label("New access token").fill("a-new-token")
    card.get_by_role("button", name="Store it").click()
    page.get_by_text("New token stored for Acme X.").wait_for()
    page.get_by_role("button", name="Resume Acme X").click()
    page.get_by_text("Acme X sends again.").wait_for()
    broken = SenderAccount.objects.get(pk=work["broken"].pk)
    assert broken.breaker_state == "closed" and broken.access_token == "a-new-token"

    # API tokens: the key is shown once.
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("Zapier")
    page.get_by_role("button", name="Create the token").click()
    key = page.get_by_label("Key", exact=True).input_value()
    assert ApiToken.objects.get().key_sha256 == ApiToken.digest(key)
    page.goto("/api-tokens/")
    assert key not in page.content()

    # A template: the counter as you type, the live preview for a chosen creator, errors by field.
    page.get_by_role("link", name="Templates", exact=True).click()
    page.get_by_role("link", name="New template").click()
    page.get_by_label("Name", exact=True).fill("Ask for a reel")
    page.get_by_label("Instagram", exact=True).check()
    body = page.get_by_label("Body", exact=True)
    body.fill("Hi {{ creator.first_name }}! {{ campaign.brand }} loves your reel — à bientôt")
    page.locator("#length-counter").get_by_text("Instagram: 81 of 1000 bytes").wait_for()
    page.get_by_label("X", exact=True).check()  # X counts characters, Instagram UTF-8 bytes
    page.locator("#length-counter").get_by_text("X: 77 of 10000 chars").wait_for()
    page.get_by_label("Creator", exact=True).select_option(label="Maya Hart (@maya.hart)")  # the handle beside the name
    page.locator("#preview-text").get_by_text("Hi Maya! Acme Skin loves your reel — à bientôt").wait_for()
    screenshot(page, "template-editor")
    page.get_by_label("Body", exact=True).fill("Hi {{ creator.shoe_size }}")
    page.locator("#preview").get_by_text("Body: Unknown variable 'creator.shoe_size'", exact=False).wait_for()
    page.get_by_role("button", name="Save the template").click()
    assert "Unknown variable" in page.locator("#id_body_error").inner_text()
    page.get_by_label("Body", exact=True).fill("Hi {{ creator.first_name }}!")
    page.get_by_role("button", name="Save the template").click()
    page.get_by_text("Saved “Ask for a reel”.").wait_for()
    assert MessageTemplate.objects.get().variables == ["creator.first_name"]


@pytest.mark.slow(seconds=11)
def test_it_fits_a_phone_and_reaches_every_action_by_keyboard(chromium, live_server, work):
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        sign_in(page, "alice")
        urls = [
            ("/manual-queue/", "manual-queue-phone"),
            ("/inbox/", "inbox-phone"),
            (f"/inbox/{work['conversation'].pk}/", None),
            ("/permission-requests/", None),
            (f"/permission-requests/{work['granted'].pk}/", None),
            ("/sender-accounts/", None),
            ("/sender-accounts/connect/", None),
            ("/api-tokens/", None),
            ("/templates/", None),
            ("/templates/new/", None),
            ("/sequences/new/", None),
        ]
        for url, name in urls:
            started = time.perf_counter()
            page.goto(url)
            htmx_settled(page)  # the template editor's preview loads as the page does
            assert time.perf_counter() - started < 2, url
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{url} is {overflow}px wider than a phone screen"
            unlabelled = page.evaluate(
                """[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                   .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).length"""
            )
            assert unlabelled == 0, f"{url} has {unlabelled} form field(s) without a label"
            if name:
                screenshot(page, name)

        # Keyboard only: Tab from the top of the queue reaches "Mark as sent", and Enter presses it.
        page.goto("/manual-queue/")
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent").startswith("Mark as sent"):
                break
        else:
            pytest.fail("Tab never reached the Mark as sent button")
        page.keyboard.press("Enter")
        page.get_by_text("Marked as sent to Maya Hart.").wait_for()
    finally:
        context.close()
        finish_live_requests(live_server)
    assert not errors, errors
