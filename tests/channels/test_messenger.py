"""The Messenger adapter against FakeMeta over real loopback HTTP."""

import threading

import pytest
import requests

from outreach.channels import messenger
from outreach.channels.base import Outbound, Outcome
from outreach.sandbox.base import Reply
from tests.fakes.meta import (
    DAY,
    HOUR,
    PAGE,
    PAGE_TOKEN,
    QUICK_TIMEOUT,
    closed_port_url,
    messenger_config,
)

PSID = "24000000000000001"


def send(fake, text="Hi Dana, thanks for writing back!", recipient_id=PSID, **fields):
    channel = messenger.build(messenger_config(fake))
    return channel.send(Outbound(recipient_id=recipient_id, text=text, **fields))


def test_it_sends_as_the_page_with_the_token_as_a_query_parameter(fake_meta):
    fake_meta.user_wrote(PAGE, PSID, at=fake_meta.clock() - 23 * HOUR)

    result = send(fake_meta)

    assert result.outcome == Outcome.SENT
    assert result.provider_message_id.startswith("m_")
    assert result.details["recipient_id"] == PSID
    [request] = fake_meta.requests_to("/messages")
    assert request.method == "POST"
    assert request.path == f"/v25.0/{PAGE}/messages"
    assert request.query == {"access_token": [PAGE_TOKEN]}
    assert request.header("Authorization") == ""
    assert request.json == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi Dana, thanks for writing back!"},
    }
    assert fake_meta.sent(PAGE) == [
        {
            "account": PAGE,
            "recipient": PSID,
            "kind": "page",
            "type": "text",
            "text": "Hi Dana, thanks for writing back!",
            "template": "",
            "messaging_type": "RESPONSE",
            "tag": "",
            "message_id": result.provider_message_id,
            "at": fake_meta.clock(),
        }
    ]


def test_it_gives_every_message_its_own_id(fake_meta):
    fake_meta.user_wrote(PAGE, PSID)

    first, second = send(fake_meta), send(fake_meta)

    assert first.provider_message_id != second.provider_message_id


def test_it_sends_the_api_version_from_the_config(fake_meta):
    fake_meta.user_wrote(PAGE, PSID)

    result = messenger.build(messenger_config(fake_meta, api_version="v24.0")).send(Outbound(PSID, "hello"))

    assert result.outcome == Outcome.SENT
    assert fake_meta.requests_to("/messages")[0].path == f"/v24.0/{PAGE}/messages"


def test_it_reports_the_window_closed_after_24_hours(fake_meta):
    fake_meta.user_wrote(PAGE, PSID, at=fake_meta.clock() - 25 * HOUR)

    result = send(fake_meta)

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert result.error_code == "10/2018278"
    assert result.details["error_subcode"] == 2018278
    assert fake_meta.sent() == []


def test_it_sends_a_human_agent_reply_three_days_later(fake_meta):
    fake_meta.user_wrote(PAGE, PSID, at=fake_meta.clock() - 3 * DAY)

    result = send(fake_meta, human_agent=True)

    assert result.outcome == Outcome.SENT
    body = fake_meta.requests_to("/messages")[0].json
    assert (body["messaging_type"], body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_it_refuses_a_human_agent_reply_eight_days_later(fake_meta):
    fake_meta.user_wrote(PAGE, PSID, at=fake_meta.clock() - 8 * DAY)

    result = send(fake_meta, human_agent=True)

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert fake_meta.sent() == []


def test_it_does_not_stretch_the_window_without_the_human_agent_tag(fake_meta):
    fake_meta.user_wrote(PAGE, PSID, at=fake_meta.clock() - 3 * DAY)

    assert send(fake_meta).outcome == Outcome.WINDOW_CLOSED


def test_it_reports_a_blocked_recipient_as_unavailable(fake_meta):
    fake_meta.user_wrote(PAGE, PSID)
    fake_meta.block(PAGE, PSID)

    result = send(fake_meta)

    assert result.outcome == Outcome.RECIPIENT_UNAVAILABLE
    assert result.error_code == "551"


def test_it_reports_code_2_marked_not_transient_as_unavailable(fake_meta):
    fake_meta.fail_next(PAGE, status=400, code=2, extra={"is_transient": False})

    assert send(fake_meta).outcome == Outcome.RECIPIENT_UNAVAILABLE


def test_it_retries_code_2_when_transient(fake_meta):
    fake_meta.fail_next(PAGE, status=500, code=2, extra={"is_transient": True})

    result = send(fake_meta)

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "2"


def test_it_reports_an_unknown_psid_as_invalid(fake_meta):
    result = send(fake_meta, recipient_id="1234")

    assert result.outcome == Outcome.INVALID_RECIPIENT
    assert result.error_code == "100/2018001"
    assert result.error_message == "No matching user found"


def test_it_reports_a_wrong_token_as_auth_broken(fake_meta):
    fake_meta.user_wrote(PAGE, PSID)

    result = messenger.build(messenger_config(fake_meta, access_token="EAAB-expired")).send(Outbound(PSID, "hi"))

    assert result.outcome == Outcome.AUTH_BROKEN
    assert result.error_code == "190"


@pytest.mark.parametrize(
    ("code", "subcode"),
    [(200, None), (10, None), (10, 2018065), (102, None), (230, None)],
)
def test_it_reports_permission_errors_as_auth_broken(fake_meta, code, subcode):
    fake_meta.fail_next(PAGE, code=code, subcode=subcode, message="(#200) Requires pages_messaging permission")

    assert send(fake_meta).outcome == Outcome.AUTH_BROKEN


def test_it_is_refused_by_the_platform_when_the_token_comes_as_bearer(fake_meta):
    fake_meta.user_wrote(PAGE, PSID)
    body = {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}

    response = requests.post(
        f"{fake_meta.url}/v25.0/{PAGE}/messages",
        headers={"Authorization": f"Bearer {PAGE_TOKEN}"},
        json=body,
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 190


def test_it_is_refused_by_the_platform_without_messaging_type(fake_meta):
    fake_meta.user_wrote(PAGE, PSID)

    response = requests.post(
        f"{fake_meta.url}/v25.0/{PAGE}/messages",
        params={"access_token": PAGE_TOKEN},
        json={"recipient": {"id": PSID}, "message": {"text": "hi"}},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


def test_it_lets_the_platform_take_a_utility_tag_outside_the_window(fake_meta):
    fake_meta.add_user(PAGE, PSID)
    body = {
        "recipient": {"id": PSID},
        "messaging_type": "MESSAGE_TAG",
        "tag": "ACCOUNT_UPDATE",
        "message": {"text": "x"},
    }

    response = requests.post(
        f"{fake_meta.url}/v25.0/{PAGE}/messages", params={"access_token": PAGE_TOKEN}, json=body, timeout=5
    )

    assert response.status_code == 200
    assert fake_meta.sent()[0]["tag"] == "ACCOUNT_UPDATE"


def test_it_answers_an_unknown_page_with_the_graph_method_error(fake_meta):
    result = messenger.build(messenger_config(fake_meta, account_id="999")).send(Outbound(PSID, "hi"))

    assert result.outcome == Outcome.REJECTED
    assert result.error_code == "100/33"


@pytest.mark.parametrize(
    ("status", "code", "headers", "retry_after"),
    [
        (400, 4, {"Retry-After": "12"}, 12.0),
        (429, 613, {}, None),
        (400, 32, {}, None),
        (400, 80006, {"Retry-After": "60"}, 60.0),
    ],
)
def test_it_retries_rate_limits(fake_meta, status, code, headers, retry_after):
    fake_meta.fail_next(PAGE, status=status, code=code, message="rate limited", headers=headers)

    result = send(fake_meta)

    assert result.outcome == Outcome.RETRY
    assert result.retry_after == retry_after
    assert result.error_code == str(code)


def test_it_prefers_retry_after_to_the_usage_estimate(fake_meta):
    fake_meta.fail_next(PAGE, status=429, code=613, headers={"Retry-After": "20"}, regain_minutes=2)

    assert send(fake_meta).retry_after == 20.0


def test_it_retries_a_temporary_send_failure(fake_meta):
    fake_meta.fail_next(PAGE, status=503, code=1200, message="Temporary send message failure")

    result = send(fake_meta)

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "1200"


def test_it_retries_a_bare_bad_gateway(fake_meta):
    fake_meta.answer_next(PAGE, Reply(502, "<html>Bad Gateway</html>"))

    result = send(fake_meta)

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "http_502"


def test_it_rejects_other_client_errors(fake_meta):
    fake_meta.fail_next(PAGE, status=400, code=100, message="(#100) Invalid parameter")

    result = send(fake_meta)

    assert result.outcome == Outcome.REJECTED
    assert result.error_message == "(#100) Invalid parameter"


def test_it_is_uncertain_about_a_success_without_a_message_id(fake_meta):
    fake_meta.answer_next(PAGE, Reply(200, {"recipient_id": PSID}))

    result = send(fake_meta)

    assert result.outcome == Outcome.UNCERTAIN
    assert result.provider_message_id == ""


def test_it_reports_uncertain_when_the_answer_comes_too_late(fake_meta):
    fake_meta.user_wrote(PAGE, PSID)
    fake_meta.delay_next(PAGE, 1.0)

    channel = messenger.build(messenger_config(fake_meta, timeout=QUICK_TIMEOUT))
    result = channel.send(Outbound(PSID, "hello"))

    assert result.outcome == Outcome.UNCERTAIN
    assert result.error_code == "ReadTimeout"


def test_it_retries_when_the_connection_is_refused(fake_meta):
    channel = messenger.build(messenger_config(fake_meta, base_url=closed_port_url()))

    result = channel.send(Outbound(PSID, "hello"))

    assert result.outcome == Outcome.RETRY
    assert PAGE_TOKEN not in result.error_message
    assert "access_token=***" in result.error_message


def test_it_counts_every_delivery_under_concurrent_sends(fake_meta):
    recipients = [f"2400000000{n:04d}" for n in range(200)]
    for recipient in recipients:
        fake_meta.user_wrote(PAGE, recipient)
    results = []

    def send_one(recipient):
        results.append(send(fake_meta, recipient_id=recipient))

    threads = [threading.Thread(target=send_one, args=(recipient,)) for recipient in recipients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [result.outcome for result in results] == [Outcome.SENT] * 200
    assert fake_meta.sent_count(PAGE) == 200
    assert len({message["message_id"] for message in fake_meta.sent(PAGE)}) == 200
    assert sorted(message["recipient"] for message in fake_meta.sent()) == recipients
