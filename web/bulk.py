""" "Select all matching" on the creators list, for sets too large to change inside the request: a
`BulkJob` is written and the queue runs it in batches while its page polls the progress.

The job keeps the list's filter as its query string; `run_bulk_job` runs that filter again with the
actor's visibility and checks again that the actor may still do it (a campaign they still work on,
not completed), then calls the domain's own bulk verbs (crm/services/bulk.py). A job is claimed by
one conditional UPDATE (queued → running, with a token every later write names), so a task
delivered twice, or taken by two workers at once, runs once; and the inserts skip rows that exist,
so running the work again changes nothing. A job left waiting or stalled (a lost task, a dead
worker) is queued again by `resume_stalled_jobs` after BULK_STALE_SECONDS.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Q
from django.http import QueryDict
from django.utils import timezone

from crm import access
from crm.errors import DomainError
from crm.filtersets import CreatorFilter
from crm.models import Campaign, Creator
from crm.services import bulk
from outreach.queue import enqueue, enqueue_now
from web.forms import error_text
from web.models import BulkJob

logger = logging.getLogger(__name__)


@dataclass
class _Caller:
    """What the creator filter reads of a request: who asks (campaign-scoped conditions look only at
    the campaigns this person sees). A task has no request, only the job's actor."""

    user: object


def matching(query: str, actor):
    """The creators the list's filter (its query string) matches now, as `actor` sees them; None when
    the filter is not valid. Nothing asked: every creator the actor sees."""
    creators = access.visible(Creator.objects.all(), actor)
    params = QueryDict(query or "")
    filterset = CreatorFilter(params or None, queryset=creators, request=_Caller(actor))
    if not filterset.is_bound:
        return creators
    return filterset.qs if filterset.is_valid() else None


def _ensure_allowed(action: str, *, actor, tag_name: str, campaign: Campaign | None) -> str:
    """The checks made when the job is asked for and again when it runs; returns the tag name as it
    will be stored."""
    if not access.can_write(actor):
        raise DomainError({"__all__": ["Your role cannot change creators."]})
    if action == BulkJob.Action.TAG:
        return bulk.clean_tag_name(tag_name)
    if campaign is None:
        raise DomainError({"campaign": ["The campaign no longer exists."]})
    bulk.ensure_campaign_open(campaign, actor)
    return ""


def start_bulk_job(action: str, *, actor, filter_query: str, tag_name: str = "", campaign=None) -> BulkJob:
    """Write the job and queue its run once the current transaction commits (what the confirmation
    does above BULK_INLINE_LIMIT). What is refused now (a tag without a name, a campaign the actor
    does not work on) is refused as a DomainError, before anything is queued."""
    if action not in BulkJob.Action.values:
        raise DomainError({"action": [f"Unknown action “{action}”: add a tag or add to a campaign."]})
    if matching(filter_query, actor) is None:
        raise DomainError({"filter": ["It is not valid any more; filter the list again."]})
    tag_name = _ensure_allowed(action, actor=actor, tag_name=tag_name, campaign=campaign)
    job = BulkJob.objects.create(
        created_by=actor,
        action=action,
        tag_name=tag_name,
        campaign=campaign if action == BulkJob.Action.CAMPAIGN else None,
        campaign_name=campaign.name if campaign is not None and action == BulkJob.Action.CAMPAIGN else "",
        filter_query=filter_query or "",
    )
    enqueue("web.bulk.run_bulk_job", job.pk, name=f"bulk-{job.pk}")
    return job


def runs_in_queue(matched: int) -> bool:
    """Whether an action on this many creators runs as a job in the queue (over BULK_INLINE_LIMIT)
    rather than inside the request: what the confirmation says and what confirming does."""
    return matched > settings.BULK_INLINE_LIMIT


@dataclass
class Applied:
    """What a confirmed "select all matching" did: `count` creators changed at once, or `job` queued."""

    count: int = 0
    job: BulkJob | None = None


def apply_to_matching(
    action: str, creators, *, actor, matched: int, filter_query: str, tag_name: str = "", campaign=None
) -> Applied:
    """The confirmed action on every creator of the filtered set `creators` (`matched` of them, as
    counted for the confirmation): inside the request up to BULK_INLINE_LIMIT, else as a job."""
    if runs_in_queue(matched):
        job = start_bulk_job(action, actor=actor, filter_query=filter_query, tag_name=tag_name, campaign=campaign)
        return Applied(job=job)
    if action == BulkJob.Action.TAG:
        return Applied(count=bulk.tag_matching(creators, tag_name, actor=actor))
    if action == BulkJob.Action.CAMPAIGN:
        return Applied(count=bulk.add_matching_to_campaign(campaign, creators, actor=actor))
    raise DomainError({"action": [f"Unknown action “{action}”: add a tag or add to a campaign."]})


class Superseded(Exception):
    """This run's claim was taken over (it was stalled longer than BULK_STALE_SECONDS): it stops."""


def _stale_before(now=None):
    return (now or timezone.now()) - datetime.timedelta(seconds=settings.BULK_STALE_SECONDS)


def claim(job_id: int) -> uuid.UUID | None:
    """Take the job for this run: one UPDATE … WHERE it is queued (or running with no sign of life
    for BULK_STALE_SECONDS: its worker died). Exactly one of any number of runs at once gets a token;
    the others (and any later run) get None and do nothing. Every later write of the run names the
    token, so a run that was taken over changes nothing more."""
    token, now = uuid.uuid4(), timezone.now()
    waiting = Q(status=BulkJob.Status.QUEUED) | Q(status=BulkJob.Status.RUNNING, heartbeat_at__lt=_stale_before(now))
    claimed = BulkJob.objects.filter(waiting, pk=job_id).update(
        status=BulkJob.Status.RUNNING, run_token=token, started_at=now, heartbeat_at=now, done=0
    )
    return token if claimed else None


def run_bulk_job(job_id: int, size: int = bulk.BATCH) -> dict:
    """The queue's task: claim the job, check again that the actor may do it, run the filter again
    and apply the action in batches of `size`, each batch adding to `done` and `added` in its own
    transaction (a job run again walks the set from the start: `done` starts again, `added` only
    grows by what was still missing)."""
    token = claim(job_id)
    if token is None:
        return {"skipped": True}  # delivered twice, or another worker has it: that run does the work
    job = BulkJob.objects.select_related("created_by", "campaign").get(pk=job_id)
    rows = BulkJob.objects.filter(pk=job_id, run_token=token)

    def on_batch(creators: int, added: int) -> None:
        now = timezone.now()
        if not rows.update(done=F("done") + creators, added=F("added") + added, heartbeat_at=now):
            raise Superseded  # inside the batch's transaction: this batch is not kept either

    try:
        actor = job.created_by
        _ensure_allowed(job.action, actor=actor, tag_name=job.tag_name, campaign=job.campaign)
        creators = matching(job.filter_query, actor)
        if creators is None:
            raise DomainError({"filter": ["It is not valid any more; filter the list again."]})
        rows.update(matched=bulk.count_matching(creators), heartbeat_at=timezone.now())
        if job.action == BulkJob.Action.TAG:
            bulk.tag_matching(creators, job.tag_name, actor=actor, size=size, on_batch=on_batch)
        else:
            bulk.add_matching_to_campaign(job.campaign, creators, actor=actor, size=size, on_batch=on_batch)
    except Superseded:
        return {"superseded": True}
    except DomainError as error:
        rows.update(status=BulkJob.Status.FAILED, error=error_text(error), finished_at=timezone.now())
        return {"refused": error_text(error)}
    except Exception:
        logger.exception("Bulk job %s stopped", job_id)
        rows.update(
            status=BulkJob.Status.FAILED,
            error="It stopped unexpectedly; the server log has the details. What was done before is kept.",
            finished_at=timezone.now(),
        )
        raise
    rows.update(status=BulkJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return {"matched": job.matched, "done": job.done, "added": job.added}


def resume_stalled_jobs(*, now=None, limit: int = 100) -> list[int]:
    """Queue again the jobs nobody is working on: queued for longer than BULK_STALE_SECONDS (their
    task was lost, say a Redis push that failed after the commit) or running with no batch for as
    long (their worker died). A job whose task was only late is then delivered twice, which the
    claim makes harmless. Run every 5 minutes by the queue (web migration 0007)."""
    cutoff = _stale_before(now)
    stalled = BulkJob.objects.filter(
        Q(status=BulkJob.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=BulkJob.Status.RUNNING, heartbeat_at__lt=cutoff)
    )
    ids = list(stalled.order_by("pk").values_list("pk", flat=True)[:limit])
    for pk in ids:
        enqueue_now("web.bulk.run_bulk_job", pk, name=f"bulk-{pk}")
    return ids
