"""TikTok Business Messaging API (PLATFORMS.md §4).

`POST {base_url}/open_api/v1.3/business/message/send/` with the `Access-Token` header (no Bearer
prefix) and `{business_id, recipient_type:"CONVERSATION", recipient, message_type:"TEXT", text{body}}`.
Conversations are user-initiated: a business may send up to 10 messages within 48 h of the user's
last message, so a refusal for the window or the quota sends the message to a person's queue.

TikTok reports errors in the body's `code` (any non-zero value is an error) and the HTTP status it
uses with them is [U], so the envelope decides whenever there is one. Only 0, 40064 (2nd) and the
API-for-Business token codes are known; the window, quota and conversation codes are [U] and shared
with the loopback fake (outreach/sandbox/tiktok.py): correct both when TikTok's real ones are seen.
"""

import requests

from outreach.channels.base import (
    Outbound,
    Outcome,
    SenderConfig,
    SendResult,
    new_session,
    retry_after_seconds,
    transport_failure,
)

SEND_PATH = "/open_api/v1.3/business/message/send/"

CODE_OUTCOMES = {
    40064: Outcome.RETRY,  # "You are sending messages too fast" (2nd)
    40100: Outcome.RETRY,  # too many requests (API for Business QPS limit)
    40001: Outcome.AUTH_BROKEN,  # no permission for this business account
    40102: Outcome.AUTH_BROKEN,  # access token expired [U] for this API
    40104: Outcome.AUTH_BROKEN,  # access token empty
    40105: Outcome.AUTH_BROKEN,  # access token incorrect or revoked
    40080: Outcome.WINDOW_CLOSED,  # [U] the 48 h window has closed
    40081: Outcome.WINDOW_CLOSED,  # [U] the 10 messages of this window are used
    40082: Outcome.INVALID_RECIPIENT,  # [U] no such conversation for this business
}
SERVER_ERROR_CODES = range(50000, 60000)  # TikTok's internal errors: try again


def build(config: SenderConfig, session: requests.Session | None = None) -> "TikTokChannel":
    return TikTokChannel(config, session or new_session())


class TikTokChannel:
    """Replies in a user-opened conversation as the business account `config.account_id`."""

    def __init__(self, config: SenderConfig, session: requests.Session):
        self.config = config
        self.session = session

    def send(self, message: Outbound) -> SendResult:
        payload = {
            "business_id": self.config.account_id,
            "recipient_type": "CONVERSATION",
            "recipient": message.recipient_id,
            "message_type": "TEXT",
            "text": {"body": message.text},
        }
        try:
            response = self.session.post(
                f"{self.config.base_url}{SEND_PATH}",
                json=payload,
                headers={"Access-Token": self.config.access_token},
                timeout=self.config.timeout,
            )
        except requests.RequestException as error:
            return transport_failure(error)
        return result_of(response)


def result_of(response: requests.Response) -> SendResult:
    """Map TikTok's `{code, message, request_id, data}` envelope, or the bare HTTP status without one."""
    envelope = _envelope(response)
    status = response.status_code
    if envelope is None:
        if status == 429 or status >= 500:
            return SendResult(Outcome.RETRY, retry_after=retry_after_seconds(response), error_code=f"http_{status}")
        if status in (401, 403):
            return SendResult(Outcome.AUTH_BROKEN, error_code=f"http_{status}", error_message=response.text[:500])
        if 200 <= status < 300:
            # Accepted or not, we cannot tell: never send it twice on a guess.
            return SendResult(Outcome.UNCERTAIN, error_code="unreadable_answer", error_message=response.text[:500])
        return SendResult(Outcome.REJECTED, error_code=f"http_{status}", error_message=response.text[:500])

    code = envelope["code"]
    details = {"request_id": str(envelope.get("request_id", ""))}
    if code == 0:
        data = envelope.get("data") or {}
        message_id = (data.get("message") or {}).get("message_id", "")
        return SendResult(Outcome.SENT, provider_message_id=str(message_id), details=details)
    if code in CODE_OUTCOMES:
        outcome = CODE_OUTCOMES[code]
    elif code in SERVER_ERROR_CODES or status >= 500:
        outcome = Outcome.RETRY
    else:
        outcome = Outcome.REJECTED
    return SendResult(
        outcome,
        retry_after=retry_after_seconds(response) if outcome == Outcome.RETRY else None,
        error_code=str(code),
        error_message=str(envelope.get("message", ""))[:500],
        details=details,
    )


def _envelope(response: requests.Response) -> dict | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("code"), int):
        return body
    return None
