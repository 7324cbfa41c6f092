"""Outreach verbs, one module per subject. Views, the API, tasks and commands call these; they take
objects and an actor, never a request, and raise `crm.errors.DomainError` by field.

| module | subject |
|---|---|
| `rendering` | a template rendered for one creator; the first template of a launch |
| `launch` | a campaign's first messages on a channel plan, each launch recorded, with the policy's reasons |
| `sequences` | follow-ups, stopping them on a reply, saving a sequence by its rules |
| `manual_queue` | mark sent by hand, cancel, approve, retry |
| `inbox` | answering a creator from a conversation |
| `rights` | asking for the rights to a post through the outbox |
| `templates` | archiving a template, deleting one nothing used, which templates pickers offer |
| `senders` | connecting, changing, pausing and resuming sender accounts |
| `erasure` | the right to erasure across the CRM and the outbox |

New code imports the subject module; the names below are the package's public surface.
"""

from outreach.services.erasure import erase_creator
from outreach.services.inbox import complete_follow_up, open_follow_ups, reply_in_conversation, reply_window
from outreach.services.launch import Channel, LaunchSummary, launch_campaign
from outreach.services.manual_queue import (
    approve_message,
    cancel_message,
    mark_many_sent,
    mark_sent_manually,
    requeue_cancelled,
    retry_message,
)
from outreach.services.rendering import first_template, handle_on, render_for
from outreach.services.rights import RightsOutcome, ask_for_permission, ask_for_permissions, send_permission_request
from outreach.services.senders import (
    connect_sender,
    mailbox_problems,
    pause_sender,
    replace_token,
    resume_sender,
    sender_settings_problems,
    update_sender,
)
from outreach.services.sequences import create_due_follow_ups, save_sequence, stop_sequences
from outreach.services.templates import (
    archive_template,
    delete_template,
    ensure_usable,
    template_uses,
    unarchive_template,
    usable_templates,
)

__all__ = [
    "Channel",
    "LaunchSummary",
    "RightsOutcome",
    "approve_message",
    "archive_template",
    "ask_for_permission",
    "ask_for_permissions",
    "cancel_message",
    "complete_follow_up",
    "connect_sender",
    "create_due_follow_ups",
    "delete_template",
    "ensure_usable",
    "erase_creator",
    "first_template",
    "handle_on",
    "launch_campaign",
    "mailbox_problems",
    "mark_many_sent",
    "mark_sent_manually",
    "open_follow_ups",
    "pause_sender",
    "render_for",
    "replace_token",
    "reply_in_conversation",
    "reply_window",
    "requeue_cancelled",
    "resume_sender",
    "retry_message",
    "save_sequence",
    "send_permission_request",
    "sender_settings_problems",
    "stop_sequences",
    "template_uses",
    "unarchive_template",
    "update_sender",
    "usable_templates",
]
