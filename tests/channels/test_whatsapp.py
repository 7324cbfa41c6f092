"""The WhatsApp Cloud API adapter against FakeMeta over real loopback HTTP."""

import requests

from outreach.channels import whatsapp
from outreach.channels.base import Outbound, Outcome
from tests.fakes.meta import (
    DAY,
    HOUR,
    QUICK_TIMEOUT,
    WA_NUMBER,
    WA_TOKEN,
    closed_port_url,
    whatsapp_config,
)

WA_ID = "15551230001"


def send(fake, text="Hi! Here is the brief: https://example.com/brief", **fields):
    fields.setdefault("recipient_id", WA_ID)
    return whatsapp.build(whatsapp_config(fake)).send(Outbound(text=text, **fields))


def template(**fields):
    return {"whatsapp_template": "collab_follow_up", "whatsapp_template_language": "en_US", **fields}


def test_it_sends_text_with_a_bearer_token(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID, at=fake_meta.clock() - 2 * HOUR)

    result = send(fake_meta)

    assert result.outcome == Outcome.SENT
    assert result.provider_message_id.startswith("wamid.")
    assert result.details["wa_id"] == WA_ID
    [request] = fake_meta.requests_to("/messages")
    assert request.path == f"/v25.0/{WA_NUMBER}/messages"
    assert request.header("Authorization") == f"Bearer {WA_TOKEN}"
    assert request.query == {}
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"body": "Hi! Here is the brief: https://example.com/brief", "preview_url": True},
    }
    [delivered] = fake_meta.sent(WA_NUMBER)
    assert (delivered["type"], delivered["recipient"]) == ("text", WA_ID)
    assert delivered["message_id"] == result.provider_message_id


def test_it_sends_digits_when_the_recipient_has_a_plus(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)

    result = send(fake_meta, recipient_id=f"+{WA_ID}")

    assert result.outcome == Outcome.SENT
    assert fake_meta.requests_to("/messages")[0].json["to"] == WA_ID


def test_it_sends_a_template_outside_the_window_to_an_opted_in_user(fake_meta):
    fake_meta.add_whatsapp_template("collab_follow_up")
    fake_meta.whatsapp_opt_in(WA_NUMBER, WA_ID)
    fake_meta.user_wrote(WA_NUMBER, WA_ID, at=fake_meta.clock() - 30 * DAY)

    result = send(fake_meta, **template(whatsapp_template_params=("Dana", "Spring launch")))

    assert result.outcome == Outcome.SENT
    assert fake_meta.requests_to("/messages")[0].json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "template",
        "template": {
            "name": "collab_follow_up",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Dana"}, {"type": "text", "text": "Spring launch"}],
                }
            ],
        },
    }
    assert fake_meta.sent()[0]["template"] == "collab_follow_up"


def test_it_leaves_out_components_for_a_template_without_parameters(fake_meta):
    fake_meta.add_whatsapp_template("collab_follow_up")
    fake_meta.whatsapp_opt_in(WA_NUMBER, WA_ID)

    result = send(fake_meta, **template())

    assert result.outcome == Outcome.SENT
    assert "components" not in fake_meta.requests_to("/messages")[0].json["template"]


def test_it_reports_the_window_closed_for_text_after_24_hours(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)
    fake_meta.clock.advance(DAY + 1)

    result = send(fake_meta)

    assert result.outcome == Outcome.WINDOW_CLOSED
    assert result.error_code == "131047"
    assert result.details["error_details"].startswith("Message failed to send because more than 24 hours")
    assert fake_meta.sent() == []


def test_it_reports_the_window_closed_for_text_to_a_user_who_never_wrote(fake_meta):
    fake_meta.whatsapp_opt_in(WA_NUMBER, WA_ID)  # opt-in allows templates, not free-form text

    assert send(fake_meta).outcome == Outcome.WINDOW_CLOSED


def test_it_cannot_send_a_template_to_a_user_who_did_not_opt_in(fake_meta):
    fake_meta.add_whatsapp_template("collab_follow_up")
    fake_meta.user_wrote(WA_NUMBER, WA_ID, at=fake_meta.clock() - 2 * DAY)

    result = send(fake_meta, **template())

    assert result.outcome == Outcome.RECIPIENT_UNAVAILABLE
    assert result.error_code == "131026"
    assert fake_meta.sent() == []


def test_it_rejects_an_unregistered_template(fake_meta):
    fake_meta.whatsapp_opt_in(WA_NUMBER, WA_ID)

    result = send(fake_meta, **template(whatsapp_template="not_approved"))

    assert result.outcome == Outcome.REJECTED
    assert result.error_code == "132001"


def test_it_retries_the_second_message_to_a_user_within_6_seconds(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)
    assert send(fake_meta).outcome == Outcome.SENT
    fake_meta.clock.advance(5)

    second = send(fake_meta)

    assert second.outcome == Outcome.RETRY
    assert second.error_code == "131056"
    assert second.details["http_status"] == 429
    assert second.retry_after == 6.0
    fake_meta.clock.advance(1)
    assert send(fake_meta).outcome == Outcome.SENT
    assert fake_meta.sent_count(WA_NUMBER) == 2


def test_it_applies_the_pair_limit_per_user(fake_meta):
    other = "15551230002"
    fake_meta.user_wrote(WA_NUMBER, WA_ID)
    fake_meta.user_wrote(WA_NUMBER, other)

    assert send(fake_meta).outcome == Outcome.SENT
    assert send(fake_meta, recipient_id=other).outcome == Outcome.SENT


def test_it_refuses_text_over_4096_characters_without_calling_the_platform(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)

    result = send(fake_meta, text="a" * 4097)

    assert result.outcome == Outcome.REJECTED
    assert result.error_code == "text_too_long"
    assert fake_meta.requests_to("/messages") == []


def test_it_is_refused_by_the_platform_over_4096_characters(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)
    body = {"messaging_product": "whatsapp", "to": WA_ID, "type": "text", "text": {"body": "a" * 4097}}

    response = requests.post(
        f"{fake_meta.url}/v25.0/{WA_NUMBER}/messages",
        headers={"Authorization": f"Bearer {WA_TOKEN}"},
        json=body,
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100
    assert "4096" in response.json()["error"]["error_data"]["details"]


def test_it_sends_exactly_4096_characters(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)

    assert send(fake_meta, text="é" * 4096).outcome == Outcome.SENT


def test_it_reports_a_wrong_token_as_auth_broken(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)

    result = whatsapp.build(whatsapp_config(fake_meta, access_token="EAAB-revoked")).send(Outbound(WA_ID, "hi"))

    assert result.outcome == Outcome.AUTH_BROKEN
    assert result.error_code == "190"


def test_it_is_refused_by_the_platform_when_the_token_comes_as_a_parameter(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)
    body = {"messaging_product": "whatsapp", "to": WA_ID, "type": "text", "text": {"body": "hi"}}

    response = requests.post(
        f"{fake_meta.url}/v25.0/{WA_NUMBER}/messages", params={"access_token": WA_TOKEN}, json=body, timeout=5
    )

    assert response.json()["error"]["code"] == 190


def test_it_is_refused_by_the_platform_without_messaging_product(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)

    response = requests.post(
        f"{fake_meta.url}/v25.0/{WA_NUMBER}/messages",
        headers={"Authorization": f"Bearer {WA_TOKEN}"},
        json={"to": WA_ID, "type": "text", "text": {"body": "hi"}},
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 100


def test_it_retries_the_throughput_limit_after_retry_after(fake_meta):
    fake_meta.fail_next(
        WA_NUMBER,
        status=400,
        code=130429,
        message="Rate limit hit",
        details="Cloud API message throughput has been reached.",
        headers={"Retry-After": "2"},
    )

    result = send(fake_meta)

    assert result.outcome == Outcome.RETRY
    assert result.retry_after == 2.0
    assert result.error_message == "Rate limit hit: Cloud API message throughput has been reached."


def test_it_retries_the_spam_rate_limit(fake_meta):
    fake_meta.fail_next(WA_NUMBER, status=400, code=131048, message="Spam rate limit hit")

    result = send(fake_meta)

    assert result.outcome == Outcome.RETRY
    assert result.retry_after is None


def test_it_retries_a_server_error(fake_meta):
    fake_meta.fail_next(WA_NUMBER, status=503, code=1, message="Service temporarily unavailable")

    assert send(fake_meta).outcome == Outcome.RETRY


def test_it_reports_uncertain_when_the_answer_comes_too_late(fake_meta):
    fake_meta.user_wrote(WA_NUMBER, WA_ID)
    fake_meta.delay_next(WA_NUMBER, 1.0)

    result = whatsapp.build(whatsapp_config(fake_meta, timeout=QUICK_TIMEOUT)).send(Outbound(WA_ID, "hi"))

    assert result.outcome == Outcome.UNCERTAIN
    assert fake_meta.sent_count(WA_NUMBER) == 1


def test_it_retries_when_the_connection_is_refused(fake_meta):
    result = whatsapp.build(whatsapp_config(fake_meta, base_url=closed_port_url())).send(Outbound(WA_ID, "hi"))

    assert result.outcome == Outcome.RETRY
    assert result.error_code == "ConnectionError"
