"""Launching in a real Chromium: a fallback launch (Instagram where a window is open, else email),
member by member with the policy's reasons, then a second launch on other channels for those not
reached; the campaign page keeps both launches and who was blocked and why. No console error."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from crm.models import Campaign, SocialAccount
from outreach.models import Conversation, OutreachMessage
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory
from tests.web.conftest import screenshot, sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def launchable(alice):
    campaign = CampaignFactory(owner=alice, name="Autumn Drop", brand="Acme", status=Campaign.Status.ACTIVE)
    ig = SenderAccountFactory(name="Acme IG", platform="instagram", owner=alice)
    mail = SenderAccountFactory(
        name="Acme mail", platform="email", variant="", account_id="partners@acme.example.com", owner=alice
    )
    dm = MessageTemplateFactory(name="First DM", subject="", body="Hi {{ creator.first_name }}!", platforms=[])
    letter = MessageTemplateFactory(name="First mail", subject="Acme x {{ creator.first_name }}", body="Hello!")
    wendy = CreatorFactory(name="Wendy Window", email="w@example.com")
    SocialAccount.objects.create(creator=wendy, platform="instagram", handle="wendy.w", platform_user_id="771")
    Conversation.objects.create(
        creator=wendy, platform="instagram", last_inbound_at=timezone.now() - datetime.timedelta(hours=3)
    )
    mia = CreatorFactory(name="Mia Mail", email="mia@example.com")
    SocialAccount.objects.create(creator=mia, platform="instagram", handle="mia.m")
    dan = CreatorFactory(name="Dan Dm", email="")
    SocialAccount.objects.create(creator=dan, platform="instagram", handle="dan.dm")
    noa = CreatorFactory(name="Noa Nowhere", email="")
    for creator in (wendy, mia, dan, noa):
        CampaignMemberFactory(campaign=campaign, creator=creator)
    return campaign, ig, mail, dm, letter


def _rows(page, table: str) -> dict[str, list[str]]:
    """The table's rows by their first cell, once the page that has them has arrived (after a click
    the old page may still be the one shown)."""
    page.locator(f"#{table} tbody tr").first.wait_for()
    rows = {}
    for row in page.locator(f"#{table} tbody tr").all():
        cells = [cell.inner_text().strip() for cell in row.locator("td").all()]
        rows[cells[0]] = cells[1:]
    return rows


def test_a_fallback_launch_then_a_second_launch_on_another_channel(browser_page, launchable):
    campaign, ig, mail, dm, letter = launchable
    page = browser_page
    sign_in(page, "alice")
    page.goto(f"/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Launch outreach").click()

    # Launch 1: Instagram where a window is open, else email; nobody to the manual queue.
    page.locator("#id_sender_account").select_option(str(ig.pk))
    page.locator("#id_template").select_option(str(dm.pk))
    page.locator("#id_sender_account_2").select_option(str(mail.pk))
    page.locator("#id_template_2").select_option(str(letter.pk))
    page.get_by_label("Do not send; list the member as blocked").check()
    page.get_by_role("button", name="Preview").click()
    choices = _rows(page, "choices")
    assert choices["Wendy Window"][:2] == ["Instagram (Acme IG)", "by API"]
    assert choices["Wendy Window"][2].startswith("Inside the 24 h window")
    assert choices["Mia Mail"] == ["Email (Acme mail)", "by API", "Email may be sent with an unsubscribe link."]
    assert choices["Dan Dm"][1] == "blocked"
    assert choices["Dan Dm"][2].startswith("Instagram: Instagram only lets a business answer")
    assert choices["Dan Dm"][2].endswith("Email: The creator has no email address.")
    assert _rows(page, "by-channel") == {"Instagram": ["1", "0", "2"], "Email": ["1", "0", "0"]}
    screenshot(page, "launch-plan")
    page.get_by_role("button", name="Launch: queue these messages").click()
    page.get_by_text("Launch 1: 2 by API, 0 to the manual queue, 2 blocked").wait_for()
    assert page.locator("#launch-1").get_by_text("Instagram (Acme IG) → Email (Acme mail)").is_visible()
    blocked = page.locator("#blocked")
    assert blocked.get_by_text("Dan Dm").is_visible() and blocked.get_by_text("Noa Nowhere").is_visible()
    assert blocked.get_by_text("Instagram: The creator has no instagram account on file.", exact=False).is_visible()

    # Launch 2, for those not reached: email first, then Instagram, else the manual queue.
    page.get_by_role("link", name="Launch outreach").click()
    page.locator("#id_sender_account").select_option(str(mail.pk))
    page.locator("#id_template").select_option(str(letter.pk))
    page.locator("#id_sender_account_2").select_option(str(ig.pk))
    page.locator("#id_template_2").select_option(str(dm.pk))
    page.get_by_label("Launch again for the members not reached").check()
    page.get_by_role("button", name="Preview").click()
    choices = _rows(page, "choices")
    assert set(choices) == {"Dan Dm", "Noa Nowhere"}  # Wendy and Mia were reached: left alone
    assert choices["Dan Dm"][:2] == ["Instagram (Acme IG)", "manual queue"]
    assert choices["Noa Nowhere"][1] == "blocked"
    page.get_by_role("button", name="Launch: queue these messages").click()
    page.get_by_text("Launch 2: 0 by API, 1 to the manual queue, 1 blocked; 2 were already queued.").wait_for()
    assert page.locator("#launch-2").get_by_text("again, for those not reached").is_visible()
    assert page.locator("#launch-2").get_by_text("Email (Acme mail) → Instagram (Acme IG) → manual queue").is_visible()
    # Who was blocked, and why, is still listed for both launches.
    launches = [row.locator("td").nth(1).inner_text() for row in page.locator("#blocked tbody tr").all()]
    assert sorted(launches) == ["#1", "#1", "#2"]
    screenshot(page, "launch-history")

    rows = OutreachMessage.objects.filter(campaign=campaign)
    assert rows.count() == 6
    assert rows.exclude(status__in=["blocked", "cancelled", "failed"]).values("creator").distinct().count() == 3
    with page.expect_download() as download:
        page.get_by_role("link", name="Download everyone not reached, and why (CSV)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert text.count("Noa Nowhere") == 2 and "Dan Dm" in text
