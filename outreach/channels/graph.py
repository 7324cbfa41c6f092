"""What the three Meta adapters share: one POST to a Graph `/{id}/messages` edge and one reading of
the answer, so Instagram, Messenger and WhatsApp map the Graph error codes the same way.

Errors are told apart by `code` / `error_subcode`, never by message text (PLATFORMS.md §2, §6).
"""

import json
from collections.abc import Callable
from dataclasses import replace

import requests

from outreach.channels.base import (
    Outbound,
    Outcome,
    SenderConfig,
    SendResult,
    retry_after_seconds,
    transport_failure,
)

WINDOW_CLOSED_SUBCODES = frozenset({2018278, 2534022})  # Messenger/Instagram; Instagram may use 2534022 [U]
WINDOW_CLOSED_CODES = frozenset({131047})  # WhatsApp re-engagement: more than 24 h since the user wrote
# 551: blocked / messages off. 131026 (WhatsApp "Message undeliverable"): not on WhatsApp, cannot receive,
# and what the fake answers for a template to a user who never opted in.
RECIPIENT_UNAVAILABLE_CODES = frozenset({551, 131026})
INVALID_RECIPIENT = (100, 2018001)
# 190 token expired/revoked, 102 session, 10 permission (unless the window subcode), 200-299 permissions.
AUTH_CODES = frozenset({10, 102, 190, *range(200, 300)})
# 4 app, 17 user, 32 page, 613 rate limit, 80001-80014 business use case, WhatsApp 130429 throughput,
# 131056 pair rate, 131048 spam rate.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015), 130429, 131056, 131048})
TRANSIENT_CODES = frozenset({1200})  # "Temporary send message failure"
UNEXPECTED_ERROR = 2  # "retry later", though Meta also answers it when the user blocked the business
WHATSAPP_PAIR_RATE_LIMIT = 131056
WHATSAPP_PAIR_INTERVAL = 6.0  # about one message every 6 s to the same user (§6)

# Reads the platform-specific success body: (message id, details worth keeping).
AcceptedReader = Callable[[dict], tuple[str, dict]]


def messages_url(config: SenderConfig) -> str:
    return f"{config.base_url}/{config.api_version}/{config.account_id}/messages"


def send_api_payload(message: Outbound) -> dict:
    """The Instagram/Messenger Send API body; HUMAN_AGENT for replies a person wrote (7-day window)."""
    payload: dict = {"recipient": {"id": message.recipient_id}}
    if message.human_agent:
        payload.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    else:
        payload["messaging_type"] = "RESPONSE"
    payload["message"] = {"text": message.text}
    return payload


def send_api_accepted(body: dict) -> tuple[str, dict]:
    """`{"recipient_id", "message_id"}`; recipient_id is absent when addressed by user_ref/phone."""
    details = {"recipient_id": body["recipient_id"]} if body.get("recipient_id") else {}
    return str(body.get("message_id") or ""), details


def post_message(
    session: requests.Session,
    config: SenderConfig,
    payload: dict,
    *,
    token_in_query: bool,
    read_accepted: AcceptedReader,
) -> SendResult:
    """POST the JSON payload with the token as `access_token` query parameter or Bearer header."""
    headers, params = {}, {}
    if token_in_query:
        params["access_token"] = config.access_token
    else:
        headers["Authorization"] = f"Bearer {config.access_token}"
    try:
        response = session.post(
            messages_url(config), json=payload, params=params or None, headers=headers, timeout=config.timeout
        )
    except requests.RequestException as error:
        result = transport_failure(error)
        # A query-string token would otherwise be stored with the error (the message quotes the URL).
        if config.access_token:
            result = replace(result, error_message=result.error_message.replace(config.access_token, "***"))
        return result
    return read_response(response, read_accepted)


def read_response(response: requests.Response, read_accepted: AcceptedReader) -> SendResult:
    """Map a Graph answer onto an Outcome."""
    details: dict = {"http_status": response.status_code}
    usage = _json_header(response, "X-Business-Use-Case-Usage")
    if usage is not None:
        details["business_use_case_usage"] = usage
    app_usage = _json_header(response, "X-App-Usage")
    if app_usage is not None:
        details["app_usage"] = app_usage
    try:
        body = response.json()
    except ValueError:
        body = None

    if 200 <= response.status_code < 300:
        message_id, accepted_details = read_accepted(body) if isinstance(body, dict) else ("", {})
        details.update(accepted_details)
        if message_id:
            return SendResult(Outcome.SENT, provider_message_id=message_id, details=details)
        return SendResult(
            Outcome.UNCERTAIN,
            error_code=f"http_{response.status_code}",
            error_message="The platform answered success without a message id.",
            details=details,
        )

    error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else {}
    code = _int_or_none(error.get("code"))
    subcode = _int_or_none(error.get("error_subcode"))
    error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    for name, value in (
        ("error_subcode", subcode),
        ("error_type", error.get("type")),
        ("fbtrace_id", error.get("fbtrace_id")),
        ("error_details", error_data.get("details")),
    ):
        if value is not None:
            details[name] = value
    message = str(error.get("message") or response.reason or "")
    if error_data.get("details"):
        message = f"{message}: {error_data['details']}"

    outcome = _outcome(response.status_code, code, subcode, error)
    retry_after = None
    if outcome == Outcome.RETRY:
        retry_after = retry_after_seconds(response) or _regain_access_seconds(usage)
        if retry_after is None and code == WHATSAPP_PAIR_RATE_LIMIT:
            retry_after = WHATSAPP_PAIR_INTERVAL
    if code is None:
        error_code = f"http_{response.status_code}"
    else:
        error_code = f"{code}/{subcode}" if subcode is not None else str(code)
    return SendResult(
        outcome, retry_after=retry_after, error_code=error_code, error_message=message[:500], details=details
    )


def _outcome(status: int, code: int | None, subcode: int | None, error: dict) -> Outcome:
    if subcode in WINDOW_CLOSED_SUBCODES or code in WINDOW_CLOSED_CODES:
        return Outcome.WINDOW_CLOSED
    if code in RECIPIENT_UNAVAILABLE_CODES:
        return Outcome.RECIPIENT_UNAVAILABLE
    if code == UNEXPECTED_ERROR:
        # Code 2 is the "retry later" error, but Meta also gives it when the user blocked the business;
        # only an explicit is_transient:false tells the two apart by a field rather than by text.
        return Outcome.RECIPIENT_UNAVAILABLE if error.get("is_transient") is False else Outcome.RETRY
    if (code, subcode) == INVALID_RECIPIENT:
        return Outcome.INVALID_RECIPIENT
    if code in AUTH_CODES:
        return Outcome.AUTH_BROKEN
    if code in RATE_LIMIT_CODES or code in TRANSIENT_CODES or status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.REJECTED


def _regain_access_seconds(usage: object) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in a usage header, in seconds."""
    if not isinstance(usage, dict):
        return None
    minutes = [
        entry.get("estimated_time_to_regain_access")
        for entries in usage.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    longest = max((m for m in minutes if isinstance(m, int | float)), default=0)
    return float(longest) * 60 if longest > 0 else None


def _json_header(response: requests.Response, name: str) -> object:
    value = response.headers.get(name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
