"""The TikTok adapter against FakeTikTok over real loopback HTTP."""

import requests

from outreach.channels import tiktok
from outreach.channels.base import Outbound, Outcome
from outreach.sandbox import tiktok as tiktok_codes
from tests.fakes.tiktok import (
    BRAND_BUSINESS_ID,
    BRAND_TIKTOK_TOKEN,
    tiktok_config,
)

CONVERSATION_ID = "conv-7301-alice"
HOUR = 3600
QUICK_TIMEOUT = (1.0, 0.3)


def send(config, text="Thanks for writing! Here is our creator brief.", conversation_id=CONVERSATION_ID):
    return tiktok.build(config).send(Outbound(recipient_id=conversation_id, text=text))


def test_it_replies_in_the_conversation_the_user_opened(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)

    result = send(tiktok_config(fake_tiktok))

    assert result.outcome == Outcome.SENT
    [message] = fake_tiktok.sent()
    assert result.provider_message_id == message.message_id
    assert result.details["request_id"]
    [request] = fake_tiktok.received
    assert request.path == "/open_api/v1.3/business/message/send/"
    assert request.header("Access-Token") == BRAND_TIKTOK_TOKEN
    assert request.header("Authorization") == ""
    assert request.json == {
        "business_id": BRAND_BUSINESS_ID,
        "recipient_type": "CONVERSATION",
        "recipient": CONVERSATION_ID,
        "message_type": "TEXT",
        "text": {"body": "Thanks for writing! Here is our creator brief."},
    }


def test_it_sends_until_48_hours_after_the_users_last_message(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    config = tiktok_config(fake_tiktok)

    fake_tiktok.now.advance(47 * HOUR)
    inside = send(config)
    fake_tiktok.now.advance(2 * HOUR)
    outside = send(config)

    assert inside.outcome == Outcome.SENT
    assert outside.outcome == Outcome.WINDOW_CLOSED
    assert outside.error_code == str(tiktok_codes.WINDOW_CLOSED)
    assert len(fake_tiktok.sent()) == 1


def test_it_stops_at_10_messages_until_the_user_writes_again(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    config = tiktok_config(fake_tiktok)

    outcomes = [send(config).outcome for _ in range(10)]
    eleventh = send(config)
    fake_tiktok.now.advance(HOUR)
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    after_reply = send(config)

    assert outcomes == [Outcome.SENT] * 10
    assert eleventh.outcome == Outcome.WINDOW_CLOSED
    assert eleventh.error_code == str(tiktok_codes.QUOTA_USED)
    assert after_reply.outcome == Outcome.SENT
    assert len(fake_tiktok.sent()) == 11


def test_it_reopens_a_closed_window_when_the_user_writes_again(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    fake_tiktok.now.advance(72 * HOUR)
    config = tiktok_config(fake_tiktok)
    assert send(config).outcome == Outcome.WINDOW_CLOSED

    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)

    assert send(config).outcome == Outcome.SENT


def test_it_retries_when_told_it_sends_too_fast(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    fake_tiktok.fail_next(BRAND_BUSINESS_ID)

    result = send(tiktok_config(fake_tiktok))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "40064"
    assert result.error_message == "You are sending messages too fast"
    assert fake_tiktok.sent() == []


def test_it_reports_a_revoked_token_as_auth_broken(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)

    result = send(tiktok_config(fake_tiktok, access_token="act.revoked"))

    assert result.outcome == Outcome.AUTH_BROKEN
    assert result.error_code == "40105"


def test_it_reports_a_token_for_another_business_as_auth_broken(fake_tiktok):
    fake_tiktok.add_business("-000Other0Business", "act.other-token")
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)

    result = send(tiktok_config(fake_tiktok, access_token="act.other-token"))

    assert result.outcome == Outcome.AUTH_BROKEN
    assert result.error_code == "40001"


def test_it_reports_an_unknown_conversation_as_an_invalid_recipient(fake_tiktok):
    result = send(tiktok_config(fake_tiktok), conversation_id="conv-never-opened")

    assert result.outcome == Outcome.INVALID_RECIPIENT
    assert result.error_code == str(tiktok_codes.UNKNOWN_CONVERSATION)


def test_it_rejects_text_over_6000_characters(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    config = tiktok_config(fake_tiktok)

    too_long = send(config, text="a" * 6001)
    at_the_limit = send(config, text="a" * 6000)

    assert too_long.outcome == Outcome.REJECTED
    assert too_long.error_code == "40002"
    assert at_the_limit.outcome == Outcome.SENT


def test_it_answers_errors_with_http_200_and_the_code_envelope(fake_tiktok):
    answer = requests.post(
        f"{fake_tiktok.url}/open_api/v1.3/business/message/send/",
        json={"business_id": BRAND_BUSINESS_ID},
        headers={"Access-Token": "act.revoked"},
        timeout=5,
    )

    assert answer.status_code == 200
    body = answer.json()
    assert body["code"] == 40105
    assert body["message"] == "Access token is incorrect or has been revoked."
    assert body["data"] == {}
    assert len(body["request_id"]) == len("20250101120000") + 18


def test_it_retries_a_server_error(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    fake_tiktok.fail_next(BRAND_BUSINESS_ID, status=502, body="Bad Gateway")

    result = send(tiktok_config(fake_tiktok))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "http_502"


def test_it_is_uncertain_when_the_answer_comes_after_the_read_timeout(fake_tiktok):
    fake_tiktok.user_wrote(BRAND_BUSINESS_ID, CONVERSATION_ID)
    fake_tiktok.delay_next(BRAND_BUSINESS_ID, 1.0)

    result = send(tiktok_config(fake_tiktok, timeout=QUICK_TIMEOUT))

    assert result.outcome == Outcome.UNCERTAIN
    assert result.error_code == "ReadTimeout"
    assert len(fake_tiktok.sent()) == 1


def test_it_retries_when_the_connection_is_refused(fake_tiktok):
    result = send(tiktok_config(fake_tiktok, base_url="http://127.0.0.1:1", timeout=QUICK_TIMEOUT))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "ConnectionError"
