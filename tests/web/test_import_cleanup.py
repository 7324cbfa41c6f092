"""Uploads nobody imported are deleted after IMPORT_UPLOAD_TTL_HOURS, file and job; imports that ran
keep their report (web.imports.clean_abandoned_uploads, `manage.py clean_imports`, hourly)."""

import datetime
import io
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from crm.errors import DomainError
from web import imports
from web.models import ImportJob

pytestmark = pytest.mark.django_db
CSV = b"Name,IG\nMaya,@maya\n"


@pytest.fixture
def stored(settings, tmp_path):
    """The imports storage in a directory of the test's own; the names of the files in it."""
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.IMPORT_UPLOAD_TTL_HOURS = 24
    return lambda: sorted(path.name for path in tmp_path.iterdir())


def uploaded(actor, *, hours_ago: float, name="export.csv") -> ImportJob:
    """An upload whose columns are still to be matched, made `hours_ago` (its file as old)."""
    job = imports.prepare_import(SimpleUploadedFile(name, CSV), actor=actor)
    return aged(job, hours_ago)


def aged(job: ImportJob, hours_ago: float) -> ImportJob:
    then = timezone.now() - datetime.timedelta(hours=hours_ago)
    ImportJob.objects.filter(pk=job.pk).update(created_at=then)
    path = imports.import_storage().path(job.stored_path)
    if os.path.exists(path):
        os.utime(path, (then.timestamp(), then.timestamp()))
    job.refresh_from_db()
    return job


def test_an_old_unstarted_upload_goes_with_its_file_and_a_fresh_or_finished_one_stays(stored, alice):
    old = uploaded(alice, hours_ago=25, name="forgotten.csv")
    fresh = uploaded(alice, hours_ago=23)
    finished = imports.start_import(SimpleUploadedFile("done.csv", CSV), actor=alice)
    imports.run_import(finished.pk)  # what the queue does after the commit
    finished = aged(ImportJob.objects.get(pk=finished.pk), 48)
    queued = aged(imports.confirm_import(uploaded(alice, hours_ago=0)), 30)  # waiting for a busy queue
    assert finished.status == ImportJob.Status.DONE and finished.created == 1
    assert stored() == sorted([old.stored_path, fresh.stored_path, queued.stored_path])

    cleanup = imports.clean_abandoned_uploads()

    assert [(pk, name) for pk, name, _by, _at in cleanup.jobs] == [(old.pk, "forgotten.csv")]
    assert not ImportJob.objects.filter(pk=old.pk).exists()
    assert stored() == sorted([fresh.stored_path, queued.stored_path])  # the old upload's file is gone
    kept = ImportJob.objects.filter(pk__in=[fresh.pk, finished.pk, queued.pk])
    assert sorted(kept.values_list("pk", flat=True)) == sorted([fresh.pk, finished.pk, queued.pk])
    assert ImportJob.objects.get(pk=finished.pk).created == 1  # the report of what ran is kept
    assert imports.clean_abandoned_uploads().jobs == []  # nothing left to do


def test_a_dry_run_prints_what_would_go_and_deletes_nothing(stored, alice):
    old = uploaded(alice, hours_ago=30, name="agency.csv")
    out = io.StringIO()
    call_command("clean_imports", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"Would delete import {old.pk}: agency.csv, uploaded by alice" in text
    assert "Would delete 1 unconfirmed upload(s) and 0 leftover file(s)" in text
    assert ImportJob.objects.filter(pk=old.pk).exists() and stored() == [old.stored_path]

    out = io.StringIO()
    call_command("clean_imports", stdout=out)
    assert f"Deleted import {old.pk}: agency.csv" in out.getvalue()
    assert not ImportJob.objects.exists() and stored() == []


def test_files_no_waiting_or_running_import_needs_go_once_as_old(stored, alice, tmp_path):
    storage = imports.import_storage()
    orphan = storage.save("orphan.csv", io.BytesIO(CSV))  # an upload whose job was never written
    young_orphan = storage.save("young.csv", io.BytesIO(CSV))

    def job(name, status):
        return ImportJob.objects.create(
            created_by=alice, file_name=name, stored_path=storage.save(name, io.BytesIO(CSV)), status=status
        )

    done = job("d.csv", ImportJob.Status.DONE)  # its file left behind by a failed delete
    running = job("r.csv", ImportJob.Status.RUNNING)
    old = (timezone.now() - datetime.timedelta(hours=25)).timestamp()
    for name in (orphan, done.stored_path, running.stored_path):
        os.utime(tmp_path / name, (old, old))

    cleanup = imports.clean_abandoned_uploads(dry_run=True)
    assert cleanup.files == sorted([orphan, done.stored_path]) and len(stored()) == 4

    assert imports.clean_abandoned_uploads().files == sorted([orphan, done.stored_path])
    assert stored() == sorted([young_orphan, running.stored_path])  # a running import's file stays
    assert ImportJob.objects.filter(pk=done.pk).exists()  # its row (the report) stays


def test_an_upload_confirmed_as_the_cleanup_runs_is_kept_and_a_deleted_one_says_so(stored, alice):
    job = uploaded(alice, hours_ago=25)
    imports.set_mapping(job, ["name", "instagram"], actor=alice)
    gone = imports.clean_abandoned_uploads()
    assert [pk for pk, *_ in gone.jobs] == [job.pk]
    with pytest.raises(DomainError, match="waited too long and was deleted"):
        imports.confirm_import(job)  # a tab left open: the row is gone

    confirmed = imports.confirm_import(uploaded(alice, hours_ago=25))  # Import pressed first
    assert confirmed.status == ImportJob.Status.QUEUED
    assert imports.clean_abandoned_uploads().jobs == [] and ImportJob.objects.filter(pk=confirmed.pk).exists()


def test_the_queue_runs_the_cleanup_every_hour():
    schedule = Schedule.objects.get(name="web: clean abandoned import uploads")
    assert (schedule.func, schedule.schedule_type, schedule.minutes, schedule.repeats) == (
        "web.imports.clean_abandoned_uploads", Schedule.MINUTES, 60, -1,
    )  # fmt: skip


def test_the_command_says_what_it_does(capsys):
    with pytest.raises(SystemExit):
        call_command("clean_imports", "--help")
    text = capsys.readouterr().out
    assert "IMPORT_UPLOAD_TTL_HOURS" in text and "--dry-run" in text
