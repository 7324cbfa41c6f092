"""Replies coming in: a verified delivery is stored once, then each of its messages is threaded onto
its creator and read for what it means.

| module | what it does |
|---|---|
| `deliveries` | store a delivery once, process it once, hand each message to its handler |
| `identity` | who wrote: a known creator (learning ids) or a new prospect |
| `replies` | thread a creator's message: window, sequences, stages, rules, automatic first answer |
| `consent` | what a reply means for consent: the rules' reading, or a person's |
| `echoes` | our own messages reported back, and read receipts |
"""

from outreach.inbound.consent import cancel_outreach, classify_by_person, correct_decision
from outreach.inbound.deliveries import accept_delivery, handle, parse_event, process_event, store_delivery
from outreach.inbound.identity import creator_of
from outreach.inbound.replies import acknowledge_automatically, creator_replied, log_reply_by_hand

__all__ = [
    "accept_delivery",
    "acknowledge_automatically",
    "cancel_outreach",
    "classify_by_person",
    "correct_decision",
    "creator_of",
    "creator_replied",
    "handle",
    "log_reply_by_hand",
    "parse_event",
    "process_event",
    "store_delivery",
]
