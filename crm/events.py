"""Domain events: what happened, told to whoever listens, without the CRM knowing who that is.

Services call `publish(...)` inside their transaction; a listener (the `integrations` app's
outbound webhooks) connects to `domain_event` and writes what it needs in the same transaction, so
an event is kept exactly when the change it describes is committed. Payloads are plain JSON: ids
and the facts another tool acts on, never personal data such as names or message texts (those stay
behind the API, where erasure reaches them).
"""

import datetime
import json
import uuid
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.dispatch import Signal
from django.utils import timezone

CONSENT_GRANTED = "consent.granted"
CONSENT_DECLINED = "consent.declined"
CONSENT_REVOKED = "consent.revoked"
CONSENT_CORRECTED = "consent.corrected"
RIGHTS_EXPIRING = "rights.expiring"
MESSAGE_SENT = "message.sent"
MESSAGE_FAILED = "message.failed"
REPLY_RECEIVED = "reply.received"
CREATOR_OPTED_OUT = "creator.opted_out"

EVENT_TYPES = {
    CONSENT_GRANTED: "A creator granted rights to reuse a post (hashtag reply, or recorded by a person).",
    CONSENT_DECLINED: "A creator declined a permission request.",
    CONSENT_REVOKED: "A creator withdrew rights they had granted: stop using the post.",
    CONSENT_CORRECTED: "A person found a decision recorded in error; the request's status is derived again.",
    RIGHTS_EXPIRING: "Granted rights end within the coming days (once per request and end date).",
    MESSAGE_SENT: "An outreach message went out (by API, or marked sent by a person or the platform's echo).",
    MESSAGE_FAILED: "An outreach message could not be sent and will not be retried.",
    REPLY_RECEIVED: "A creator wrote to us; the reply is threaded and classified.",
    CREATOR_OPTED_OUT: "A creator asked not to be contacted again, on any channel.",
}
# What a consent ledger entry is called when it leaves the CRM (expiry is not published).
CONSENT_EVENT_TYPE = {
    "rights_granted": CONSENT_GRANTED,
    "rights_declined": CONSENT_DECLINED,
    "rights_revoked": CONSENT_REVOKED,
}

# Listeners receive `event=DomainEvent`; they run inside the publisher's transaction.
domain_event = Signal()


@dataclass(frozen=True)
class DomainEvent:
    """One thing that happened: a stable id (receivers de-duplicate on it), a type and plain data."""

    id: uuid.UUID
    type: str
    created_at: datetime.datetime
    data: dict

    def envelope(self) -> dict:
        """The JSON document other tools receive."""
        return {"id": str(self.id), "type": self.type, "created_at": iso(self.created_at), "data": self.data}


def iso(moment: datetime.datetime) -> str:
    """ISO 8601 to the microsecond, UTC as `Z`: as the REST API writes times."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            return iso(o)
        return super().default(o)


def publish(event_type: str, data: dict, *, event_id: uuid.UUID | None = None) -> DomainEvent:
    """Tell the listeners; call it inside the transaction that makes the change. Pass a deterministic
    `event_id` for an event that may be noticed more than once (it is then delivered once)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}; known: {', '.join(EVENT_TYPES)}.")
    plain = json.loads(json.dumps(data, cls=_Encoder))  # plain JSON: times as ISO 8601 strings
    event = DomainEvent(id=event_id or uuid.uuid4(), type=event_type, created_at=timezone.now(), data=plain)
    domain_event.send(sender=DomainEvent, event=event)
    return event


def stable_id(*parts) -> uuid.UUID:
    """The same id whenever the same thing is noticed again (e.g. one expiry alert per end date)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "crm-event:" + ":".join(str(part) for part in parts))


# --- Payloads: one function per subject, so every publisher of an event sends the same shape ----


def permission_request_data(request, consent_event=None) -> dict:
    """A permission request's decision: where the post may run, until when, and the ledger entry."""
    return {
        "permission_request_id": request.pk,
        "creator_id": request.creator_id,
        "campaign_id": request.campaign_id,
        "content_id": request.content_id,
        "content_url": request.content.url,
        "status": request.status,
        "scope": request.scope,
        "decided_at": request.decided_at,
        "rights_expire_at": request.rights_expire_at,
        "consent_event_id": consent_event.pk if consent_event else None,
        "recorded_by": consent_event.recorded_by_label if consent_event else None,
        "rule": consent_event.rule if consent_event else None,
        "channel": consent_event.channel if consent_event else None,
    }


def creator_opted_out_data(creator, consent_event) -> dict:
    return {
        "creator_id": creator.pk,
        "opted_out_at": consent_event.occurred_at,
        "consent_event_id": consent_event.pk,
        "recorded_by": consent_event.recorded_by_label,
        "rule": consent_event.rule,
        "channel": consent_event.channel,
    }


def outreach_message_data(message) -> dict:
    """An outreach message's outcome (any object with the outbox row's fields)."""
    return {
        "message_id": message.pk,
        "creator_id": message.creator_id,
        "campaign_id": message.campaign_id,
        "permission_request_id": message.permission_request_id,
        "step": message.step,
        "channel": message.platform,
        "status": message.status,
        "delivery_mode": message.delivery_mode,
        "provider_message_id": message.provider_message_id,
        "sent_at": message.sent_at,
        "reason": message.reason,
        "error_code": message.error_code,
    }


def reply_data(recorded, creator) -> dict:
    """A threaded inbound message (its text stays behind the API)."""
    return {
        "conversation_message_id": recorded.pk,
        "conversation_id": recorded.conversation_id,
        "creator_id": creator.pk,
        "channel": recorded.platform,
        "platform_message_id": recorded.platform_message_id,
        "received_at": recorded.at,
        "classification": recorded.classification,
        "classification_rule": recorded.classification_rule,
    }
