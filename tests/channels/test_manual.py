"""The manual channel and its deep links; FakeLinkedIn shows why LinkedIn is manual."""

import pytest
import requests

from outreach.channels import manual
from outreach.channels.base import Outbound, Outcome, SenderConfig
from outreach.sandbox.linkedin import FakeLinkedIn

LINKEDIN_PROFILE = "https://www.linkedin.com/in/alice-films"


def linkedin_config(**overrides) -> SenderConfig:
    return SenderConfig(**{"platform": "linkedin", "base_url": "", "account_id": "brand", **overrides})


def test_it_hands_every_message_to_a_person():
    channel = manual.build(linkedin_config())

    result = channel.send(Outbound(recipient_id="", text="Hi Alice", profile_url=LINKEDIN_PROFILE))

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert result.error_code == "manual"
    assert result.error_message == "This message is not sent automatically: it is sent by a person from the app."
    assert result.details == {"open_url": LINKEDIN_PROFILE}
    assert not result.sent


def test_it_leaves_out_the_link_when_nothing_is_known_of_the_creator():
    result = manual.build(linkedin_config(platform="manual")).send(Outbound(recipient_id="", text="Hi"))

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert result.details == {}


@pytest.mark.parametrize(
    ("platform", "fields", "link"),
    [
        ("instagram", {"handle": "@alice.films"}, "https://ig.me/m/alice.films"),
        ("messenger", {"handle": "alicefilms"}, "https://m.me/alicefilms"),
        ("messenger", {"platform_user_id": "104000000000009"}, "https://m.me/104000000000009"),
        ("x", {"handle": "alicefilms", "platform_user_id": "2002"}, "https://x.com/messages/compose?recipient_id=2002"),
        ("x", {"handle": "alicefilms"}, "https://x.com/alicefilms"),
        ("tiktok", {"handle": "alice.films"}, "https://www.tiktok.com/@alice.films"),
        ("linkedin", {"profile_url": LINKEDIN_PROFILE}, LINKEDIN_PROFILE),
        ("whatsapp", {"platform_user_id": "+1 (415) 555-0134"}, "https://wa.me/14155550134"),
        ("email", {"handle": "alice@creator.example"}, "mailto:alice@creator.example"),
        (
            "instagram",
            {"profile_url": "https://www.instagram.com/alice.films/"},
            "https://www.instagram.com/alice.films/",
        ),
        ("tiktok", {}, ""),
    ],
)
def test_it_links_to_the_chat_or_the_profile(platform, fields, link):
    assert manual.deep_link(platform, **fields) == link


def test_it_shows_linkedin_refusing_apps_without_the_partner_permission():
    with FakeLinkedIn() as fake:
        answer = requests.post(
            f"{fake.url}/v2/messages",
            json={"recipients": ["urn:li:person:abc"], "body": "Hi", "messageType": "MEMBER_TO_MEMBER"},
            timeout=5,
        )

    assert answer.status_code == 403
    assert answer.json() == {
        "serviceErrorCode": 100,
        "message": "Not enough permissions to access: POST /messages",
        "status": 403,
    }
