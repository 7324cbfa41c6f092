"""Each connected mailbox's state for /healthz: read recently or not, and the kind of its last error
(login, unreachable, folder). The error's words can name hosts and users: they stay on the senders
page, for people signed in."""

import datetime

from django.utils import timezone

from outreach.models import SenderAccount, SenderPlatform

STALE_AFTER = datetime.timedelta(minutes=10)  # the fetch runs every minute


def mailbox_states(now=None) -> list[dict]:
    now = now or timezone.now()
    states = []
    for sender in SenderAccount.objects.filter(platform=SenderPlatform.EMAIL).exclude(imap_host="").order_by("id"):
        failing = bool(
            sender.mailbox_error_at
            and (not sender.mailbox_checked_at or sender.mailbox_error_at > sender.mailbox_checked_at)
        )
        fresh = bool(sender.mailbox_checked_at and now - sender.mailbox_checked_at < STALE_AFTER)
        states.append(
            {
                "sender_account": sender.pk,
                "ok": fresh and not failing,
                "last_fetch_at": sender.mailbox_checked_at.isoformat() if sender.mailbox_checked_at else None,
                "error": sender.mailbox_error.partition(":")[0] if failing else None,
            }
        )
    return states
