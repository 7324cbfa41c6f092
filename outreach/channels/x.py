"""X (Twitter) API v2 Direct Messages (PLATFORMS.md §3).

One call per message: `POST /2/dm_conversations/with/{recipient_id}/messages`, which creates or
reuses the one-to-one conversation, with the sender's user-context Bearer token (scope `dm.write`).
X has no messaging window; it refuses with 403 when the recipient does not accept our DMs, and
limits each user to 200 requests per 15 minutes and 1000 per 24 hours (429, `x-rate-limit-*`).

X answers 403 both for a token without the DM scope and for a recipient who refuses our DMs, in
the same `{title:"Forbidden", type, status, detail}` problem shape (the second body is [U]). The
rule, from the body alone: a 403 whose detail or error message speaks of the recipient ("this user",
"recipient", "participant", "not following", "accept"), or that carries the legacy v1.1 codes 150 or
349, is RECIPIENT_UNAVAILABLE; any other 403 (detail "Forbidden", scope, client or token wording) is
AUTH_BROKEN, because a sender that cannot DM anyone must stop rather than fail every creator in turn.
"""

import re
from urllib.parse import quote

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

RATE_LIMIT_HEADERS = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
RECIPIENT_REFUSES_CODES = {150, 349}  # legacy v1.1: "not following you", "cannot send messages to this user"
RECIPIENT_WORDING = re.compile(r"this user|recipient|participant|not following|accept", re.IGNORECASE)
RECIPIENT_PARAMETERS = {"participant_id", "dm_conversation_id"}


def build(config: SenderConfig, session: requests.Session | None = None) -> "XChannel":
    return XChannel(config, session or new_session())


class XChannel:
    """Sends a DM as `config.account_id` (the X user id our token belongs to)."""

    def __init__(self, config: SenderConfig, session: requests.Session):
        self.config = config
        self.session = session

    def send(self, message: Outbound) -> SendResult:
        if not message.recipient_id.isdigit():
            return SendResult(
                Outcome.INVALID_RECIPIENT,
                error_code="invalid_user_id",
                error_message=f"X user ids are numeric, not {message.recipient_id!r}",
            )
        url = f"{self.config.base_url}/2/dm_conversations/with/{quote(message.recipient_id, safe='')}/messages"
        try:
            response = self.session.post(
                url,
                json={"text": message.text},
                headers={"Authorization": f"Bearer {self.config.access_token}"},
                timeout=self.config.timeout,
            )
        except requests.RequestException as error:
            return transport_failure(error)
        return result_of(response)


def result_of(response: requests.Response) -> SendResult:
    """Map X's answer to an Outcome, keeping the rate-limit headers in `details` whatever it was."""
    details = {name: response.headers[name] for name in RATE_LIMIT_HEADERS if name in response.headers}
    body = _json(response)
    status = response.status_code
    if status in (200, 201):
        data = body.get("data") or {}
        details["dm_conversation_id"] = data.get("dm_conversation_id", "")
        return SendResult(Outcome.SENT, provider_message_id=str(data.get("dm_event_id", "")), details=details)

    error_code, error_message = _error_of(body, status)
    if status == 429 or status >= 500:
        outcome = Outcome.RETRY
    elif status == 401:
        outcome = Outcome.AUTH_BROKEN
    elif status == 403:
        outcome = Outcome.RECIPIENT_UNAVAILABLE if _recipient_refuses(body) else Outcome.AUTH_BROKEN
    elif status == 404 or (status == 400 and _names_recipient_parameter(body)):
        outcome = Outcome.INVALID_RECIPIENT
    else:
        outcome = Outcome.REJECTED
    retry_after = retry_after_seconds(response) if outcome == Outcome.RETRY else None
    return SendResult(
        outcome,
        retry_after=retry_after,
        error_code=error_code,
        error_message=error_message,
        details=details,
    )


def _json(response: requests.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error_of(body: dict, status: int) -> tuple[str, str]:
    """X's errors come as a v2 problem (`title`/`detail`) or a v1.1-style `errors[{code, message}]`."""
    errors = [error for error in body.get("errors") or [] if isinstance(error, dict)]
    if errors and "code" in errors[0]:
        return str(errors[0]["code"]), str(errors[0].get("message", ""))
    message = body.get("detail") or (errors[0].get("message") if errors else "") or body.get("title") or ""
    return str(status), str(message)[:500]


def _recipient_refuses(body: dict) -> bool:
    errors = [error for error in body.get("errors") or [] if isinstance(error, dict)]
    if any(error.get("code") in RECIPIENT_REFUSES_CODES for error in errors):
        return True
    wording = " ".join([str(body.get("detail", "")), *(str(error.get("message", "")) for error in errors)])
    return bool(RECIPIENT_WORDING.search(wording))


def _names_recipient_parameter(body: dict) -> bool:
    for error in body.get("errors") or []:
        if isinstance(error, dict) and RECIPIENT_PARAMETERS & set(error.get("parameters") or {}):
            return True
    return False
