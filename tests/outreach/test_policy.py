"""One test per rule of the delivery policy (pure: no database, no network)."""

import datetime

import pytest
from django.utils import timezone

from crm.models import Creator, SocialAccount
from outreach.models import Conversation
from outreach.policy import API, BLOCKED, MANUAL, Contact, Facts, decide

NOW = timezone.now()
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def facts(platform="instagram", *, creator=None, account=True, inbound=None, outbound=None, **kwargs) -> Facts:
    creator = creator or Creator(name="Maya Hart", email="maya@example.com", country="US")
    recipient_platform = {"messenger": "facebook"}.get(platform, platform)
    social = None
    if account:
        social = SocialAccount(platform=recipient_platform, handle="maya", platform_user_id="1789")
        if isinstance(account, dict):
            for name, value in account.items():
                setattr(social, name, value)
    conversation = None
    if inbound is not None or outbound is not None:
        conversation = Conversation(
            platform=platform,
            last_inbound_at=NOW - inbound if inbound is not None else None,
            last_outbound_at=NOW - outbound if outbound is not None else None,
            platform_conversation_id="conv-1" if platform == "tiktok" else "",
        )
    return Facts(now=NOW, platform=platform, creator=creator, account=social, conversation=conversation, **kwargs)


def test_opted_out_creators_are_blocked_everywhere():
    creator = Creator(name="x", opted_out_at=NOW - DAY)
    decision = decide(facts("email", creator=creator))
    assert (decision.mode, decision.reason) == (BLOCKED, f"The creator opted out on {(NOW - DAY):%Y-%m-%d}.")


def test_do_not_contact_and_erased_creators_are_blocked():
    assert decide(facts(creator=Creator(name="x", status="do_not_contact"))).mode == BLOCKED
    assert "erased" in decide(facts(creator=Creator(name="x", erased_at=NOW))).reason


def test_creators_in_consent_countries_need_consent_first(settings):
    settings.OUTREACH_REQUIRE_CONTACT_CONSENT_COUNTRIES = ["DE"]
    german = Creator(name="x", email="a@example.com", country="DE")
    assert "must agree to be contacted first" in decide(facts("email", creator=german)).reason
    german.contact_allowed_at = NOW - DAY
    assert decide(facts("email", creator=german)).mode == API


def test_a_creator_contacted_by_another_campaign_rests(settings):
    settings.OUTREACH_COOLDOWN_DAYS = 14
    recent = [Contact(campaign_id=2, created_by_id=1, sent_at=NOW - 3 * DAY)]
    decision = decide(facts("email", campaign_id=1, created_by_id=1, recent_contacts=recent))
    assert decision.mode == BLOCKED
    assert decision.reason.startswith("Contacted by another campaign 3 days ago")
    old = [Contact(campaign_id=2, created_by_id=1, sent_at=NOW - 20 * DAY)]
    assert decide(facts("email", campaign_id=1, recent_contacts=old)).mode == API


def test_a_creator_contacted_by_a_teammate_rests():
    recent = [Contact(campaign_id=None, created_by_id=7, sent_at=NOW - DAY)]
    assert "by a teammate" in decide(facts("email", created_by_id=8, recent_contacts=recent)).reason


def test_a_weekly_cap_per_creator(settings):
    settings.OUTREACH_CREATOR_WEEKLY_CAP = 2
    same_campaign = [Contact(1, 1, NOW - DAY), Contact(1, 1, NOW - 2 * DAY)]
    decision = decide(facts("email", campaign_id=1, created_by_id=1, recent_contacts=same_campaign))
    assert "Already 2 messages to this creator in 7 days (cap 2)" in decision.reason


def test_answering_a_creator_who_wrote_skips_the_contact_limits(settings):
    settings.OUTREACH_CREATOR_WEEKLY_CAP = 1
    recent = [Contact(2, 9, NOW - 2 * HOUR)]
    decision = decide(facts(inbound=HOUR, outbound=2 * HOUR, campaign_id=1, recent_contacts=recent))
    assert decision.mode == API


def test_email_needs_an_address():
    assert decide(facts("email", creator=Creator(name="x"))).reason == "The creator has no email address."
    decision = decide(facts("email"))
    assert (decision.mode, decision.recipient_id) == (API, "maya@example.com")


def test_no_account_on_the_platform_is_blocked():
    assert decide(facts("tiktok", account=False)).reason == "The creator has no tiktok account on file."


def test_linkedin_is_always_manual():
    assert decide(facts("linkedin", inbound=HOUR)).mode == MANUAL


@pytest.mark.parametrize("platform", ["instagram", "messenger", "whatsapp"])
def test_meta_platforms_need_the_creator_to_write_first(platform):
    decision = decide(facts(platform))
    assert decision.mode == MANUAL
    assert "only lets a business answer" in decision.reason


@pytest.mark.parametrize("platform", ["instagram", "messenger", "whatsapp"])
def test_meta_platforms_send_inside_24_hours(platform):
    decision = decide(facts(platform, inbound=23 * HOUR))
    assert (decision.mode, decision.recipient_id, decision.human_agent) == (API, "1789", False)


def test_outside_24_hours_instagram_goes_to_a_person():
    decision = decide(facts("instagram", inbound=25 * HOUR))
    assert decision.mode == MANUAL
    assert decision.reason == "The Instagram window is closed: the creator last wrote 25 h ago."


def test_a_human_reply_may_use_the_7_day_human_agent_window():
    decision = decide(facts("messenger", inbound=3 * DAY, human_agent=True))
    assert (decision.mode, decision.human_agent) == (API, True)
    assert decide(facts("messenger", inbound=8 * DAY, human_agent=True)).mode == MANUAL


def test_whatsapp_outside_the_window_uses_an_approved_template_for_opted_in_creators():
    opted_in = Creator(name="x", contact_allowed_at=NOW - DAY)
    decision = decide(facts("whatsapp", creator=opted_in, inbound=3 * DAY, whatsapp_template_name="intro"))
    assert (decision.mode, decision.whatsapp_template) == (API, True)
    stranger = Creator(name="x")
    assert decide(facts("whatsapp", creator=stranger, inbound=3 * DAY, whatsapp_template_name="intro")).mode == MANUAL


def test_an_unknown_platform_id_goes_to_a_person():
    decision = decide(facts("instagram", account={"platform_user_id": None}, inbound=HOUR))
    assert (decision.mode, decision.reason) == (
        MANUAL,
        "We do not have the creator's Instagram id yet; send it from the app.",
    )


def test_tiktok_allows_48_hours_and_10_messages():
    assert decide(facts("tiktok", inbound=47 * HOUR)).mode == API
    assert decide(facts("tiktok", inbound=47 * HOUR)).recipient_id == "conv-1"
    assert "48 h window is closed" in decide(facts("tiktok", inbound=49 * HOUR)).reason
    used = facts("tiktok", inbound=HOUR)
    used.conversation.outbound_since_inbound = 10
    assert "10 messages per window" in decide(used).reason


def test_x_never_sends_a_first_dm_automatically():
    assert "bans unsolicited" in decide(facts("x", account={"accepts_dms": True})).reason
    assert "bans unsolicited" in decide(facts("x", inbound=DAY)).reason  # DM acceptance unknown
    assert "does not accept DMs" in decide(facts("x", account={"accepts_dms": False}, inbound=DAY)).reason
    decision = decide(facts("x", account={"accepts_dms": True}, inbound=10 * DAY))
    assert (decision.mode, decision.recipient_id) == (API, "1789")
