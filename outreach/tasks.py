"""django-q2 task functions: plain functions that take ids, enqueued after the transaction commits.

Periodic ones (dispatch, stale leases, follow-ups, expiries) are django-q2 schedules created by
migration outreach/0002, so no one has to add them by hand.
"""

import datetime
import logging

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from core.backoff import backoff_seconds
from crm.services import rights
from outreach import identity_lookup, worker
from outreach.inbound import deliveries, identity
from outreach.models import OutreachMessage, SenderAccount
from outreach.queue import enqueue_now
from outreach.services import comments, sequences, tiktok_comments, ugc

logger = logging.getLogger(__name__)

IDENTITY_ATTEMPTS = 5


def send_due_messages(sender_id: int) -> dict:
    """Send what is due for one account; if time ran out with more due, queue another run."""
    report = worker.send_due(sender_id)
    if report.more_due:
        enqueue_now("outreach.tasks.send_due_messages", sender_id, name=f"send-{sender_id}")
    return {"claimed": report.claimed, **report.outcomes}


def dispatch_due_messages() -> int:
    """Every minute: one sending task per account that has due messages (retries, follow-ups)."""
    sender_ids = set(OutreachMessage.objects.due().order_by().values_list("sender_account_id", flat=True).distinct())
    for sender in SenderAccount.objects.filter(pk__in=sender_ids):
        if sender.is_sending():
            enqueue_now("outreach.tasks.send_due_messages", sender.pk, name=f"send-{sender.pk}")
    return len(sender_ids)


def reap_stale_leases() -> int:
    count = worker.reap_stale_leases()
    if count:
        logger.warning("%s message(s) left mid-send by a stopped worker moved to needs_review", count)
    return count


def create_follow_ups() -> int:
    return sequences.create_due_follow_ups()


def expire_permission_requests() -> int:
    return rights.expire_due_permissions(unanswered_after_days=settings.PERMISSION_REQUEST_EXPIRY_DAYS)


def process_inbound_event(event_id: int) -> int:
    """Thread a stored webhook delivery onto its creators (idempotent: once per event)."""
    return deliveries.process_event(event_id)


def requeue_stranded_deliveries() -> int:
    """Stored deliveries whose task was lost are queued again (every 5 minutes)."""
    return deliveries.requeue_stranded()


def process_inbound_delivery(provider: str, event_id: str) -> int:
    """The same, for a delivery named by its provider id (the receivers enqueue it in the statement
    that stores it, before its row id is known)."""
    return deliveries.process_delivery(provider, event_id)


# Comments, mentions and UGC (outreach/services/comments.py, ugc.py).


def deliver_private_reply(reply_id: int) -> str:
    return comments.deliver_private_reply(reply_id)


def fetch_mentioned_media(discovered_id: int) -> bool:
    return ugc.fetch_mentioned_media(discovered_id)


def read_comment_mention(comment_id: int) -> bool:
    return ugc.comment_mentioned(comment_id) is not None


def send_due_comment_requests() -> int:
    """Every minute (and when a request is due at once): post the paced rights-request comments."""
    return ugc.send_due_comment_requests()


def poll_tags_and_hashtags() -> int:
    """Hourly: media we were tagged in (no webhook) and recent media of followed hashtags (24 h window)."""
    found = 0
    for sender in SenderAccount.objects.filter(platform="instagram", paused=False):
        try:
            found += ugc.poll_tagged(sender)
            for search in sender.hashtag_searches.filter(active=True).exclude(hashtag_id=""):
                found += ugc.poll_hashtag(search)
        except Exception:  # one account's failure must not stop the others
            logger.exception("polling tags and hashtags failed for sender %s", sender.pk)
    return found


def poll_tiktok_comments() -> int:
    """Every 10 minutes: comments on the brand's TikTok videos (polled: the webhooks' fields are [U])."""
    new = 0
    for sender in SenderAccount.objects.filter(platform="tiktok", paused=False):
        try:
            new += tiktok_comments.poll_comments(sender)
        except Exception:  # one account's failure must not stop the others
            logger.exception("polling TikTok comments failed for sender %s", sender.pk)
    return new


def poll_rights_request_replies() -> int:
    """Every 15 minutes: the authors' answers under our request comments that came by no webhook."""
    answered = 0
    for sender in SenderAccount.objects.filter(platform="instagram", paused=False):
        try:
            answered += ugc.poll_request_replies(sender)
        except Exception:
            logger.exception("polling rights-request replies failed for sender %s", sender.pk)
    return answered


def reconcile_identity(account_id: int, attempt: int = 1) -> str:
    """Ask the platform again who a provisional contact is (a lookup that timed out or was rate
    limited); retried with backoff, at most IDENTITY_ATTEMPTS times."""
    try:
        return identity.reconcile(account_id)
    except identity_lookup.Unavailable as error:
        if attempt >= IDENTITY_ATTEMPTS:
            return f"gave up: {error}"
        Schedule.objects.create(
            func="outreach.tasks.reconcile_identity",
            args=f"{account_id},{attempt + 1}",
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + datetime.timedelta(seconds=backoff_seconds(attempt)),
            name=f"identity-{account_id}-{attempt + 1}",
        )
        return f"retry {attempt + 1} scheduled: {error}"
