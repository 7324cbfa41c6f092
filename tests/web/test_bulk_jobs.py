"""Select all matching over BULK_INLINE_LIMIT: the confirmation queues a BulkJob (the filter as its
query string) and its page follows the progress; the task claims the job once, checks the actor's
rights again when it runs, re-runs the filter as the actor sees it, and keeps a refusal in words."""

import datetime
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf

from crm.models import Campaign, Creator, Tag
from crm.services import tag_named
from tests.conftest import ROOT, test_database_url
from tests.factories import CampaignFactory, CreatorFactory
from tests.queue_process import start_queue, stop_queue
from web import bulk
from web.models import BulkJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def german(settings):
    settings.BULK_INLINE_LIMIT = 3  # a few creators are "many" here
    return [CreatorFactory(name=f"Anna {n}", country="DE") for n in range(8)]


def confirm(client, **fields):
    body = {"scope": "all", "filter": "country=DE", "back": "/creators/?country=DE", "confirmed": "on", **fields}
    return client.post("/creators/bulk/", body)


def test_over_the_limit_the_confirmation_queues_a_job_and_goes_to_its_page(alice_client, alice, german):
    CreatorFactory(name="Pierre", country="FR")
    asked = alice_client.post(
        "/creators/bulk/", {"action": "tag", "tag": "dach", "scope": "all", "filter": "country=DE"}
    )
    assert "runs in the background" in asked.content.decode()
    response = confirm(alice_client, action="tag", tag=" dach ")
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/creators/bulk/{job.pk}/"
    assert (job.created_by, job.action, job.tag_name, job.filter_query, job.status) == (
        alice,
        "tag",
        "dach",
        "country=DE",
        "queued",
    )
    assert not Tag.objects.filter(name="dach").exists()  # nothing done in the request
    page = alice_client.get(response["Location"]).content.decode()
    assert "Waiting for the queue worker" in page and "Country: DE" in page
    assert f'href="/creators/bulk/{job.pk}/">follow its progress</a>' in page  # the flash links to it

    german[0].tags.add(tag_named("dach"))
    CreatorFactory(name="Late", country="DE")  # the filter runs again when the job does
    assert bulk.run_bulk_job(job.pk, size=4) == {"matched": 9, "done": 9, "added": 8}
    job.refresh_from_db()
    assert job.status == "done" and job.finished_at and job.percent == 100
    assert Tag.objects.get(name="dach").creators.count() == 9
    assert not Creator.objects.get(name="Pierre").tags.exists()
    fragment = alice_client.get(f"/creators/bulk/{job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="bulk-status"') and "hx-get" not in fragment  # finished: no more polling
    assert "Tagged 8 creators “dach”, of 9 matching; the others had the tag already." in fragment


def test_at_or_under_the_limit_it_runs_in_the_request_as_before(alice_client, german, settings):
    settings.BULK_INLINE_LIMIT = 8
    done = confirm(alice_client, action="tag", tag="dach")
    assert done["Location"] == "/creators/?country=DE" and not BulkJob.objects.exists()
    assert Tag.objects.get(name="dach").creators.count() == 8


def test_a_job_runs_once_and_running_it_again_changes_nothing(alice, german, campaign):
    job = bulk.start_bulk_job("campaign", actor=alice, filter_query="country=DE", campaign=campaign)
    assert bulk.run_bulk_job(job.pk, size=3) == {"matched": 8, "done": 8, "added": 8}
    assert bulk.run_bulk_job(job.pk) == {"skipped": True}  # delivered twice
    BulkJob.objects.filter(pk=job.pk).update(status="queued")  # queued again by hand: the work is repeated
    assert bulk.run_bulk_job(job.pk, size=5) == {"matched": 8, "done": 8, "added": 8}  # nothing more added
    assert campaign.members.count() == 8


def test_the_second_claim_gets_nothing(alice, german):
    job = bulk.start_bulk_job("tag", actor=alice, filter_query="", tag_name="all")
    assert bulk.claim(job.pk) is not None
    assert bulk.claim(job.pk) is None
    assert bulk.run_bulk_job(job.pk) == {"skipped": True}
    assert not Tag.objects.filter(name="all").exists()  # the claimed run does the work, not this one


def test_a_stalled_run_is_taken_over_and_the_old_run_changes_nothing(alice, german, settings):
    job = bulk.start_bulk_job("tag", actor=alice, filter_query="country=DE", tag_name="late")
    dead = bulk.claim(job.pk)  # a worker took it and died
    assert bulk.claim(job.pk) is None  # still alive, as far as anyone knows
    stalled = timezone.now() - datetime.timedelta(seconds=settings.BULK_STALE_SECONDS + 1)
    BulkJob.objects.filter(pk=job.pk).update(heartbeat_at=stalled)
    assert bulk.run_bulk_job(job.pk, size=3) == {"matched": 8, "done": 8, "added": 8}
    assert not BulkJob.objects.filter(pk=job.pk, run_token=dead).update(done=0)  # the dead run's writes miss


def test_a_run_taken_over_midway_stops_and_keeps_nothing_of_its_batch(alice, german):
    job = bulk.start_bulk_job("tag", actor=alice, filter_query="country=DE", tag_name="overtaken")
    taken = []

    def another_worker_claims_after_the_first_insert(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith('INSERT INTO "crm_creator_tags"') and not taken:
            taken.append(True)
            BulkJob.objects.filter(pk=job.pk).update(run_token=uuid.uuid4())
        return result

    with connection.execute_wrapper(another_worker_claims_after_the_first_insert):
        assert bulk.run_bulk_job(job.pk, size=3) == {"superseded": True}
    assert taken and not Tag.objects.get(name="overtaken").creators.exists()  # its batch was rolled back
    assert BulkJob.objects.get(pk=job.pk).done == 0


def test_jobs_nobody_works_on_are_queued_again(alice, german, settings, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)  # the queue runs the task at once
    waiting = bulk.start_bulk_job("tag", actor=alice, filter_query="country=DE", tag_name="lost")
    fresh = bulk.start_bulk_job("tag", actor=alice, filter_query="country=DE", tag_name="fresh")
    old = timezone.now() - datetime.timedelta(seconds=settings.BULK_STALE_SECONDS + 1)
    BulkJob.objects.filter(pk=waiting.pk).update(created_at=old)  # its task was lost
    assert bulk.resume_stalled_jobs() == [waiting.pk]
    assert BulkJob.objects.get(pk=waiting.pk).status == "done"
    assert BulkJob.objects.get(pk=fresh.pk).status == "queued"  # may still be on its way
    assert Tag.objects.get(name="lost").creators.count() == 8
    assert bulk.resume_stalled_jobs() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_run_it_once(alice, german):
    """Two threads, each on its own database connection, start the same job at the same moment. On
    PostgreSQL, as in production: SQLite's shared in-memory test database refuses a second connection's
    write at once ("database table is locked": a shared cache ignores the busy timeout)."""
    job = bulk.start_bulk_job("tag", actor=alice, filter_query="country=DE", tag_name="race")
    start, results = threading.Barrier(2), []

    def worker():
        try:
            start.wait()
            results.append(bulk.run_bulk_job(job.pk, size=2))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results, key=len) == [{"skipped": True}, {"matched": 8, "done": 8, "added": 8}]
    assert Tag.objects.get(name="race").creators.count() == 8


def test_the_campaign_is_checked_again_when_the_job_runs(alice, bob, german, campaign):
    job = bulk.start_bulk_job("campaign", actor=bob, filter_query="country=DE", campaign=campaign)
    campaign.team.remove(bob)  # bob is no longer on the team when the queue gets to it
    assert bulk.run_bulk_job(job.pk) == {"refused": "campaign: No campaign you work on has this id."}
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "campaign: No campaign you work on has this id."
    assert not campaign.members.exists()
    later = bulk.start_bulk_job("campaign", actor=alice, filter_query="country=DE", campaign=campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status="completed")
    bulk.run_bulk_job(later.pk)
    later.refresh_from_db()
    assert later.error == "campaign: The campaign is completed; reopen it to add creators."
    other = CampaignFactory(owner=alice)
    gone = bulk.start_bulk_job("campaign", actor=alice, filter_query="country=DE", campaign=other)
    Campaign.objects.filter(pk=gone.campaign_id).delete()
    bulk.run_bulk_job(gone.pk)
    gone.refresh_from_db()
    assert (gone.status, gone.error) == ("failed", "campaign: The campaign no longer exists.")


def test_the_filter_runs_as_the_actor_sees_it(alice, charlie, german, campaign):
    for creator in german[:2]:
        campaign.members.create(creator=creator)
    theirs = bulk.start_bulk_job("tag", actor=charlie, filter_query=f"campaign={campaign.pk}", tag_name="peek")
    ours = bulk.start_bulk_job("tag", actor=alice, filter_query=f"campaign={campaign.pk}", tag_name="ours")
    assert bulk.run_bulk_job(theirs.pk) == {"matched": 0, "done": 0, "added": 0}  # another team's campaign
    assert bulk.run_bulk_job(ours.pk) == {"matched": 2, "done": 2, "added": 2}


def test_a_refusal_is_shown_in_words_on_the_page_and_others_cannot_see_it(client, alice, charlie, campaign):
    job = BulkJob.objects.create(created_by=alice, action="campaign", campaign=campaign, campaign_name=campaign.name)
    Campaign.objects.filter(pk=campaign.pk).update(status="completed")
    bulk.run_bulk_job(job.pk)
    client.force_login(alice)
    page = client.get(f"/creators/bulk/{job.pk}/").content.decode()
    assert "It stopped: campaign: The campaign is completed; reopen it to add creators." in page
    assert "Traceback" not in page
    client.force_login(charlie)
    assert client.get(f"/creators/bulk/{job.pk}/").status_code == 404


def test_what_is_wrong_at_once_is_refused_before_anything_is_queued(alice_client, alice, charlie, german):
    theirs = CampaignFactory(owner=charlie)
    response = confirm(alice_client, action="campaign", campaign=theirs.pk)  # not in alice's choices
    assert response.status_code == 302 and not BulkJob.objects.exists()
    with pytest.raises(Exception, match="No campaign you work on has this id"):
        bulk.start_bulk_job("campaign", actor=alice, filter_query="", campaign=theirs)
    with pytest.raises(Exception, match="Give the tag a name"):
        bulk.start_bulk_job("tag", actor=charlie, filter_query="", tag_name="  ")
    with pytest.raises(Exception, match="not valid any more"):
        bulk.start_bulk_job("tag", actor=charlie, filter_query="followers_min=-5", tag_name="x")
    assert not BulkJob.objects.exists()


def test_the_admin_lists_and_shows_jobs_read_only(client, admin_user_persona, alice):
    job = BulkJob.objects.create(created_by=alice, action="tag", tag_name="dach", filter_query="country=DE")
    client.force_login(admin_user_persona)
    assert client.get("/admin/web/bulkjob/", {"q": "dach"}).status_code == 200
    change = client.get(f"/admin/web/bulkjob/{job.pk}/change/")
    assert change.status_code == 200 and "country=DE" in change.content.decode()
    assert client.get("/admin/web/bulkjob/add/").status_code == 403


TWO_PROCESS_RUN = """
import json, time
from web.bulk import run_bulk_job
time.sleep(max(0.0, {start} - time.time()))
print(json.dumps(run_bulk_job({job}, size=2)))
"""


@pytest.mark.postgres
@pytest.mark.slow(seconds=10)
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_at_once_run_it_once(alice, german):
    """Two `manage.py shell` processes on the test's PostgreSQL database run the same job at the
    same instant: one claims it and does the work, the other does nothing."""
    job = bulk.start_bulk_job("tag", actor=alice, filter_query="country=DE", tag_name="two")
    env = {**os.environ, "DATABASE_URL": test_database_url(), "LOG_LEVEL": "WARNING"}
    code = TWO_PROCESS_RUN.format(start=time.time() + 4, job=job.pk)  # both are up by then
    command = [sys.executable, "manage.py", "shell", "-c", code]
    runs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]  # fmt: skip
    outputs = [run.communicate(timeout=60) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err for _, err in outputs]
    results = sorted((json.loads(out.strip().splitlines()[-1]) for out, _ in outputs), key=len)
    assert results == [{"skipped": True}, {"matched": 8, "done": 8, "added": 8}]
    assert Tag.objects.get(name="two").creators.count() == 8


@pytest.mark.postgres
@pytest.mark.slow(seconds=25)
@pytest.mark.django_db(transaction=True)
def test_a_real_qcluster_runs_what_the_confirmation_queued(alice_client, german, tmp_path):
    """The whole way: the confirmation queues the task on django-q2's database broker, and a real
    `manage.py qcluster` process runs it."""
    env = {**os.environ, "DATABASE_URL": test_database_url(), "REDIS_URL": "", "Q_WORKERS": "1", "LOG_LEVEL": "WARNING"}
    cluster = start_queue("qcluster", env, tmp_path / "cluster.log")
    try:
        assert confirm(alice_client, action="tag", tag="queued").status_code == 302
        job = BulkJob.objects.get()
        deadline = time.monotonic() + 60
        while not job.finished and time.monotonic() < deadline:
            time.sleep(0.2)
            job.refresh_from_db()
    finally:
        stop_queue(cluster)
    said = (tmp_path / "cluster.log").read_text()[-2000:]
    assert (job.status, job.matched, job.done, job.added) == ("done", 8, 8, 8), said
    assert Tag.objects.get(name="queued").creators.count() == 8
