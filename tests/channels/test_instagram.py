"""The Instagram adapter against FakeMeta over real loopback HTTP, in both API variants."""

import json

import pytest
import requests

from outreach.channels import instagram
from outreach.channels.base import Outbound, Outcome
from tests.fakes.meta import (
    DAY,
    HOUR,
    IG_ACCOUNT,
    IG_PAGE,
    IG_PAGE_TOKEN,
    IG_TOKEN,
    QUICK_TIMEOUT,
    closed_port_url,
    instagram_login_config,
    instagram_page_config,
)

IGSID = "987650000000001"


def send(config, text="Loved your reel, can we talk?", **fields):
    return instagram.build(config).send(Outbound(recipient_id=IGSID, text=text, **fields))


def test_it_sends_with_an_instagram_login_bearer_token(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID, at=fake_meta.clock() - HOUR)

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.SENT
    assert result.provider_message_id.startswith("m_")
    assert result.details["recipient_id"] == IGSID
    [request] = fake_meta.requests_to("/messages")
    assert request.path == f"/v25.0/{IG_ACCOUNT}/messages"
    assert request.header("Authorization") == f"Bearer {IG_TOKEN}"
    assert "access_token" not in request.query
    assert request.header("Content-Type") == "application/json"
    assert request.json == {
        "recipient": {"id": IGSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Loved your reel, can we talk?"},
    }
    [delivered] = fake_meta.sent(IG_ACCOUNT)
    assert delivered["recipient"] == IGSID
    assert delivered["message_id"] == result.provider_message_id


def test_it_sends_through_the_page_with_the_token_as_a_query_parameter(fake_meta):
    fake_meta.user_wrote(IG_PAGE, IGSID)

    result = send(instagram_page_config(fake_meta))

    assert result.outcome == Outcome.SENT
    [request] = fake_meta.requests_to("/messages")
    assert request.path == f"/v25.0/{IG_PAGE}/messages"
    assert request.query == {"access_token": [IG_PAGE_TOKEN]}
    assert request.header("Authorization") == ""
    assert request.json["recipient"] == {"id": IGSID}


def test_it_treats_an_empty_variant_as_instagram_login(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)

    result = send(instagram_login_config(fake_meta, variant=""))

    assert result.outcome == Outcome.SENT
    assert fake_meta.requests_to("/messages")[0].header("Authorization") == f"Bearer {IG_TOKEN}"


def test_it_refuses_an_unknown_variant(fake_meta):
    with pytest.raises(ValueError, match="variant"):
        instagram.build(instagram_login_config(fake_meta, variant="basic_display"))


def test_it_records_the_usage_header_in_details(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)

    result = send(instagram_login_config(fake_meta))

    usage = result.details["business_use_case_usage"]
    assert usage[IG_ACCOUNT][0]["type"] == "instagram"
    assert usage[IG_ACCOUNT][0]["call_count"] == 1


def test_it_reports_the_window_closed_after_24_hours(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)
    fake_meta.clock.advance(DAY + 1)

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert result.error_code == "10/2018278"
    assert fake_meta.sent() == []


def test_it_reports_the_window_closed_when_the_user_never_wrote(fake_meta):
    fake_meta.add_user(IG_ACCOUNT, IGSID)

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.WINDOW_CLOSED


def test_it_sends_a_human_agent_reply_three_days_later(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID, at=fake_meta.clock() - 3 * DAY)

    result = send(instagram_login_config(fake_meta), human_agent=True)

    assert result.outcome == Outcome.SENT
    body = fake_meta.requests_to("/messages")[0].json
    assert body["messaging_type"] == "MESSAGE_TAG"
    assert body["tag"] == "HUMAN_AGENT"
    assert fake_meta.sent()[0]["tag"] == "HUMAN_AGENT"


def test_it_refuses_a_human_agent_reply_eight_days_later(fake_meta):
    fake_meta.user_wrote(IG_PAGE, IGSID, at=fake_meta.clock() - 8 * DAY)

    result = send(instagram_page_config(fake_meta), human_agent=True)

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert fake_meta.sent() == []


def test_it_maps_the_instagram_window_subcode_2534022(fake_meta):
    fake_meta.fail_next(IG_ACCOUNT, code=10, subcode=2534022, message="outside of allowed window")

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert result.error_code == "10/2534022"


def test_it_reports_a_blocked_recipient_as_unavailable(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)
    fake_meta.block(IG_ACCOUNT, IGSID)

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.RECIPIENT_UNAVAILABLE
    assert result.error_code == "551"
    assert result.error_message == "This person isn't available right now"


def test_it_reports_an_unknown_igsid_as_invalid(fake_meta):
    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.INVALID_RECIPIENT
    assert result.error_code == "100/2018001"


def test_it_reports_a_wrong_token_as_auth_broken(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)

    result = send(instagram_login_config(fake_meta, access_token="IGAA-revoked"))

    assert result.outcome == Outcome.AUTH_BROKEN
    assert result.error_code == "190"
    assert result.details["error_type"] == "OAuthException"
    assert fake_meta.sent() == []


def test_it_refuses_text_over_1000_bytes_without_calling_the_platform(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)
    text = "é" * 501  # 501 characters, 1002 bytes

    result = send(instagram_login_config(fake_meta), text=text)

    assert result.outcome == Outcome.REJECTED
    assert result.error_code == "text_too_long"
    assert result.details == {"text_bytes": 1002}
    assert fake_meta.requests_to("/messages") == []


def test_it_sends_text_of_exactly_1000_bytes(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)

    result = send(instagram_login_config(fake_meta), text="😀" * 250)

    assert result.outcome == Outcome.SENT
    assert fake_meta.sent()[0]["text"] == "😀" * 250


@pytest.mark.parametrize("account_id", [IG_ACCOUNT, IG_PAGE])
def test_it_is_refused_by_the_platform_over_1000_bytes(fake_meta, account_id):
    fake_meta.user_wrote(account_id, IGSID)
    token = IG_TOKEN if account_id == IG_ACCOUNT else IG_PAGE_TOKEN
    body = {"recipient": {"id": IGSID}, "messaging_type": "RESPONSE", "message": {"text": "é" * 501}}

    response = requests.post(
        f"{fake_meta.url}/v25.0/{account_id}/messages", params={"access_token": token}, json=body, timeout=5
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert fake_meta.sent() == []


def test_it_is_refused_a_utility_tag_on_instagram(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)
    body = {
        "recipient": {"id": IGSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "ACCOUNT_UPDATE",
        "message": {"text": "x"},
    }

    response = requests.post(
        f"{fake_meta.url}/v25.0/{IG_ACCOUNT}/messages",
        headers={"Authorization": f"Bearer {IG_TOKEN}"},
        json=body,
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


def test_it_accepts_me_as_the_account_id(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)

    result = send(instagram_login_config(fake_meta, account_id="me"))

    assert result.outcome == Outcome.SENT
    assert fake_meta.sent()[0]["account"] == IG_ACCOUNT


def test_it_retries_a_rate_limit_after_retry_after(fake_meta):
    fake_meta.fail_next(
        IG_ACCOUNT,
        status=429,
        code=613,
        message="Calls to this API have exceeded the rate limit.",
        headers={"Retry-After": "30"},
    )

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.RETRY
    assert result.retry_after == 30.0
    assert result.error_code == "613"


def test_it_reads_the_wait_from_the_usage_header(fake_meta):
    fake_meta.fail_next(IG_ACCOUNT, status=400, code=4, message="Application request limit reached", regain_minutes=5)

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.RETRY
    assert result.retry_after == 300.0
    assert result.details["business_use_case_usage"][IG_ACCOUNT][0]["estimated_time_to_regain_access"] == 5


def test_it_retries_a_server_error(fake_meta):
    fake_meta.fail_next(IG_ACCOUNT, status=500, code=1, message="An unknown error has occurred.")

    result = send(instagram_login_config(fake_meta))

    assert result.outcome == Outcome.RETRY
    assert result.retry_after is None
    assert result.details["http_status"] == 500


def test_it_reports_uncertain_when_the_answer_comes_too_late(fake_meta):
    fake_meta.user_wrote(IG_ACCOUNT, IGSID)
    fake_meta.delay_next(IG_ACCOUNT, 1.0)

    result = send(instagram_login_config(fake_meta, timeout=QUICK_TIMEOUT))

    assert result.outcome == Outcome.UNCERTAIN
    assert result.error_code == "ReadTimeout"
    assert len(fake_meta.sent()) == 1  # it did go out: the reason it must not be resent blindly


def test_it_retries_when_the_connection_is_refused(fake_meta):
    result = send(instagram_page_config(fake_meta, base_url=closed_port_url()))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "ConnectionError"
    assert IG_PAGE_TOKEN not in result.error_message  # the query-string token is not kept


def test_it_puts_the_usage_header_on_error_replies_too(fake_meta):
    response = requests.post(f"{fake_meta.url}/v25.0/{IG_ACCOUNT}/messages", json={}, timeout=5)

    assert response.json()["error"]["code"] == 190
    usage = json.loads(response.headers["X-Business-Use-Case-Usage"])
    assert set(usage) == {IG_ACCOUNT}
