"""The X adapter against FakeX over real loopback HTTP."""

import time

import requests

from outreach.channels import x
from outreach.channels.base import Outbound, Outcome
from tests.fakes.x import (
    BRAND_X_ID,
    BRAND_X_TOKEN,
    TEST_LIMIT_15_MINUTES,
    TEST_LIMIT_24_HOURS,
    x_config,
)

CREATOR_X_ID = "2002"
QUICK_TIMEOUT = (1.0, 0.3)


def send(config, text="Loved your thread on film cameras. Open to a paid collab?", recipient_id=CREATOR_X_ID):
    return x.build(config).send(Outbound(recipient_id=recipient_id, text=text))


def test_it_sends_a_dm_and_keeps_the_event_and_conversation_ids(fake_x):
    result = send(x_config(fake_x))

    assert result.outcome == Outcome.SENT
    [dm] = fake_x.sent()
    assert result.provider_message_id == dm.dm_event_id
    assert result.details["dm_conversation_id"] == "1001-2002"
    assert dm.sender_id == BRAND_X_ID
    assert dm.recipient_id == CREATOR_X_ID
    [request] = fake_x.received
    assert request.method == "POST"
    assert request.path == "/2/dm_conversations/with/2002/messages"
    assert request.header("Authorization") == f"Bearer {BRAND_X_TOKEN}"
    assert request.header("Content-Type") == "application/json"
    assert request.json == {"text": "Loved your thread on film cameras. Open to a paid collab?"}


def test_it_records_the_rate_limit_headers(fake_x):
    result = send(x_config(fake_x))

    assert result.details["x-rate-limit-limit"] == str(TEST_LIMIT_15_MINUTES)
    assert result.details["x-rate-limit-remaining"] == str(TEST_LIMIT_15_MINUTES - 1)
    assert result.details["x-rate-limit-reset"] == str(int(fake_x.now() + 15 * 60))


def test_it_names_the_conversation_smaller_id_first(fake_x):
    result = send(x_config(fake_x), recipient_id="999")

    assert result.details["dm_conversation_id"] == "999-1001"


def test_it_retries_after_the_15_minute_reset_when_rate_limited(fake_x):
    config = x_config(fake_x)
    for _ in range(TEST_LIMIT_15_MINUTES):
        assert send(config).outcome == Outcome.SENT

    limited = send(config)

    assert limited.outcome == Outcome.RETRY
    assert limited.error_code == "88"
    assert limited.error_message == "Rate limit exceeded"
    assert limited.details["x-rate-limit-remaining"] == "0"
    assert 15 * 60 - 5 < limited.retry_after <= 15 * 60
    assert len(fake_x.sent()) == TEST_LIMIT_15_MINUTES

    fake_x.now.advance(15 * 60)
    assert send(config).outcome == Outcome.SENT


def test_it_waits_for_the_24_hour_reset_once_the_daily_budget_is_spent(fake_x):
    config = x_config(fake_x)
    day_started = fake_x.now()
    for _ in range(TEST_LIMIT_15_MINUTES):
        assert send(config).outcome == Outcome.SENT
    fake_x.now.advance(15 * 60)
    for _ in range(TEST_LIMIT_24_HOURS - TEST_LIMIT_15_MINUTES):
        assert send(config).outcome == Outcome.SENT

    limited = send(config)

    assert limited.outcome == Outcome.RETRY
    assert limited.details["x-rate-limit-limit"] == str(TEST_LIMIT_24_HOURS)
    assert limited.details["x-rate-limit-reset"] == str(int(day_started + 24 * 3600))
    assert limited.retry_after > 23 * 3600

    fake_x.now.advance(15 * 60)  # a new 15-minute window does not help
    assert send(config).outcome == Outcome.RETRY
    fake_x.now.advance(24 * 3600 - 30 * 60)
    assert send(config).outcome == Outcome.SENT


def test_it_reports_a_recipient_who_does_not_accept_dms_as_unavailable(fake_x):
    fake_x.accepts_dms(BRAND_X_ID, CREATOR_X_ID, False)

    result = send(x_config(fake_x))

    assert result.outcome == Outcome.RECIPIENT_UNAVAILABLE
    assert result.error_code == "403"
    assert "do not accept" in result.error_message
    assert fake_x.sent() == []


def test_it_reads_legacy_not_following_codes_as_recipient_unavailable(fake_x):
    fake_x.fail_next(
        BRAND_X_ID, status=403, body={"errors": [{"code": 349, "message": "You cannot send messages to this user."}]}
    )

    result = send(x_config(fake_x))

    assert result.outcome == Outcome.RECIPIENT_UNAVAILABLE
    assert result.error_code == "349"


def test_it_reports_a_bad_token_as_auth_broken(fake_x):
    result = send(x_config(fake_x, access_token="revoked-token"))

    assert result.outcome == Outcome.AUTH_BROKEN
    assert result.error_code == "401"
    assert fake_x.sent() == []


def test_it_reports_a_token_without_the_dm_scope_as_auth_broken(fake_x):
    fake_x.add_user("1003", "tweet-only-token", scopes=("tweet.read", "tweet.write", "users.read"))

    result = send(x_config(fake_x, account_id="1003", access_token="tweet-only-token"))

    assert result.outcome == Outcome.AUTH_BROKEN
    assert result.error_code == "403"
    assert result.error_message == "Forbidden"


def test_it_rejects_text_over_10000_characters(fake_x):
    config = x_config(fake_x)

    too_long = send(config, text="a" * 10_001)
    at_the_limit = send(config, text="a" * 10_000)

    assert too_long.outcome == Outcome.REJECTED
    assert too_long.error_code == "400"
    assert at_the_limit.outcome == Outcome.SENT


def test_it_reports_a_missing_user_as_an_invalid_recipient(fake_x):
    fake_x.deactivate(CREATOR_X_ID)

    result = send(x_config(fake_x))

    assert result.outcome == Outcome.INVALID_RECIPIENT
    assert result.error_code == "404"


def test_it_refuses_a_handle_in_place_of_a_user_id_without_calling_x(fake_x):
    result = send(x_config(fake_x), recipient_id="@filmcreator")

    assert result.outcome == Outcome.INVALID_RECIPIENT
    assert fake_x.received == []


def test_it_retries_a_server_error_after_the_time_x_asks_for(fake_x):
    fake_x.fail_next(BRAND_X_ID, status=503, headers={"Retry-After": "30"})

    result = send(x_config(fake_x))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "503"
    assert result.retry_after == 30.0


def test_it_is_uncertain_when_the_answer_comes_after_the_read_timeout(fake_x):
    fake_x.delay_next(BRAND_X_ID, 1.0)

    result = send(x_config(fake_x, timeout=QUICK_TIMEOUT))

    assert result.outcome == Outcome.UNCERTAIN
    assert result.error_code == "ReadTimeout"
    assert len(fake_x.sent()) == 1  # X did send it: the reason never to resend blindly


def test_it_retries_when_the_connection_is_refused(fake_x):
    result = send(x_config(fake_x, base_url="http://127.0.0.1:1", timeout=QUICK_TIMEOUT))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "ConnectionError"


def test_it_lets_the_fake_send_into_an_existing_conversation(fake_x):
    url = f"{fake_x.url}/2/dm_conversations/1001-2002/messages"
    headers = {"Authorization": f"Bearer {BRAND_X_TOKEN}"}

    answer = requests.post(url, json={"text": "Following up"}, headers=headers, timeout=5)
    outsider = requests.post(
        f"{fake_x.url}/2/dm_conversations/2002-3003/messages", json={"text": "Hi"}, headers=headers, timeout=5
    )

    assert answer.status_code == 201
    assert answer.json()["data"]["dm_conversation_id"] == "1001-2002"
    assert fake_x.sent()[0].recipient_id == CREATOR_X_ID
    assert outsider.status_code == 403
    assert int(answer.headers["x-rate-limit-reset"]) > time.time()
