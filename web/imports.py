"""Creator imports from the pages: store the upload, match its columns, preview its first rows, then
run `crm.importer` in the queue and record progress.

The steps: `prepare_import` keeps the upload and guesses its columns (or applies the saved mapping
for the same headers); `set_mapping` checks and keeps the person's choice (saving it under a name if
asked); `preview_job` reads the first rows as they will be stored and `repeats_in_job` the whole
file's repeated rows; `confirm_import` queues it. An upload never confirmed is deleted after
IMPORT_UPLOAD_TTL_HOURS by `clean_abandoned_uploads` (hourly, and `manage.py clean_imports`).
The upload goes to the `imports` storage (settings.STORAGES), not to the web machine's disk, so a
queue worker on any machine can read it; it is written and read in chunks (memory stays flat)."""

import contextlib
import datetime
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm import importer
from crm.errors import DomainError
from crm.services.column_mappings import offered_mapping, save_mapping
from outreach.queue import enqueue
from web.models import ImportJob

logger = logging.getLogger(__name__)
MAX_REJECTIONS_KEPT = 10_000  # enough for any report a person reads; the count is always exact


def import_storage() -> Storage:
    return storages["imports"]


def start_import(upload, *, actor, encoding: str = "utf-8", mapping: list[str] | None = None) -> ImportJob:
    """Keep the uploaded file and queue its import at once, its columns as guessed (or as given)."""
    job = prepare_import(upload, actor=actor, encoding=encoding)
    if mapping is not None:
        job = set_mapping(job, mapping, actor=actor)
    return confirm_import(job)


def prepare_import(upload, *, actor, encoding: str = "utf-8") -> ImportJob:
    """Keep the upload and read its first line: a file that is not CSV is refused now, by the form;
    the columns are matched as a saved mapping for the same headers says, else guessed."""
    name = import_storage().save(f"{uuid.uuid4().hex}.csv", upload)  # streamed in chunks by the storage
    try:
        with import_storage().open(name, "rb") as source:
            headers, _ = importer.read_headers(source, encoding=encoding)
    except importer.ImportFileError as error:
        import_storage().delete(name)
        raise DomainError({"file": [str(error)]}) from None
    saved = offered_mapping(headers, actor)
    mapping = importer.apply_saved_mapping(headers, saved.columns) if saved else importer.guess_mapping(headers)
    return ImportJob.objects.create(
        created_by=actor,
        file_name=Path(upload.name).name[:255],
        stored_path=name,
        encoding=encoding,
        status=ImportJob.Status.MAPPING,
        headers=headers,
        mapping=mapping,
    )


def set_mapping(job: ImportJob, mapping: list[str], *, actor, save_as: str = "", for_team: bool = False) -> ImportJob:
    """Keep the person's choice of a field for each column, once it can import (else a DomainError
    per column, `column_<n>`, and for the whole); with `save_as`, also save it under that name."""
    if job.status != ImportJob.Status.MAPPING:
        raise DomainError(
            {"__all__": ["This import has already started; upload the file again to change its columns."]}
        )
    mapping = [target or "" for target in mapping]
    problems = importer.mapping_problems(job.headers, mapping)
    if problems:
        raise DomainError({key if key == "__all__" else f"column_{key}": value for key, value in problems.items()})
    save_as = " ".join(save_as.split())
    with transaction.atomic():
        if save_as:
            save_mapping(save_as, job.headers, mapping, actor=actor, for_team=for_team)
        ImportJob.objects.filter(pk=job.pk).update(mapping=mapping)
    job.mapping = mapping
    return job


def column_samples(job: ImportJob, rows: int = 3) -> list[list[str]]:
    """The first values of each of the file's columns, shown beside it while the columns are matched.
    A file the preview cannot read gives none: the preview step says why, and matching still works."""
    samples: list[list[str]] = [[] for _ in job.headers]
    with contextlib.suppress(importer.ImportFileError):
        for row in preview_job(job, rows=rows):
            for position, cell in enumerate(row.cells):
                if cell.original:
                    samples[position].append(cell.original)
    return samples


def preview_job(job: ImportJob, rows: int = importer.PREVIEW_ROWS) -> list[importer.PreviewRow]:
    """The first rows of the upload as the import would store them, with their problems."""
    with import_storage().open(job.stored_path, "rb") as source:
        return importer.preview(source, encoding=job.encoding, mapping=job.mapping, rows=rows)


def repeats_in_job(job: ImportJob) -> importer.RepeatScan:
    """The rows of the whole upload that repeat an earlier row (by email or handle), read in one
    bounded pass before anything is imported, for the preview to say beside its first rows."""
    with import_storage().open(job.stored_path, "rb") as source:
        return importer.find_repeats(source, encoding=job.encoding, mapping=job.mapping)


def confirm_import(job: ImportJob) -> ImportJob:
    """Queue the import (once: a second click finds it already queued)."""
    if job.mapping and importer.mapping_problems(job.headers, job.mapping):
        raise DomainError({"__all__": ["Match the columns first."]})
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.MAPPING).update(
        status=ImportJob.Status.QUEUED
    )
    if claimed:
        enqueue("web.imports.run_import", job.pk, name=f"import-{job.pk}")
    try:
        job.refresh_from_db()
    except ImportJob.DoesNotExist:  # left unconfirmed too long: `clean_abandoned_uploads` deleted it
        raise DomainError({"__all__": ["This upload waited too long and was deleted; upload it again."]}) from None
    return job


def run_import(job_id: int) -> dict:
    """The queue's task: import the file as the uploader, keep progress and rejected rows, delete the file."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    )
    if not claimed:
        return {"skipped": True}  # delivered twice: the first delivery does the work
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    storage = import_storage()
    rejections: list[list] = []

    def on_rejection(rejection: importer.Rejection) -> None:
        if len(rejections) < MAX_REJECTIONS_KEPT:
            # The row's cells as in the file (the job keeps its headers), for the rejected-rows file.
            rejections.append([rejection.line, rejection.column, rejection.value, rejection.reason, rejection.cells])

    def on_progress(rows: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(processed_rows=F("processed_rows") + rows)

    try:
        with storage.open(job.stored_path, "rb") as source:
            mapping = job.mapping or None  # none: the headers must be ours or their usual names
            layout = importer.inspect_file(source, encoding=job.encoding, mapping=mapping)
            ImportJob.objects.filter(pk=job_id).update(total_rows=layout.rows, headers=layout.headers)
            result = importer.import_creators(
                source,
                encoding=job.encoding,
                mapping=mapping,
                owner=job.created_by,
                on_rejection=on_rejection,
                on_progress=on_progress,
            )
    except importer.ImportFileError as error:
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
        return {"refused": str(error)}
    except Exception:
        logger.exception("Creator import %s stopped", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            error="The import stopped unexpectedly; the server log has the details. Rows already imported are kept.",
            finished_at=timezone.now(),
        )
        raise
    finally:
        with contextlib.suppress(OSError):
            storage.delete(job.stored_path)
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.DONE,
        processed_rows=result.rows or F("total_rows"),
        created=result.created,
        updated=result.updated,
        rejected=result.rejected,
        merged=result.merged,
        rejections=rejections,
        duplicates=[[d.line, d.first_line, d.creator] for d in result.duplicates],
        finished_at=timezone.now(),
    )
    return {"created": result.created, "updated": result.updated, "merged": result.merged, "rejected": result.rejected}


def rejected_rows(job: ImportJob):
    """The rejected-rows file's header and rows: each row as it was in the file, under the file's own
    headers, then its line and every reason, so it can be fixed and uploaded again as it is (the
    same headers bring back the same saved mapping; the two added columns are skipped)."""
    by_line: dict[int, dict] = {}
    headers = list(job.headers)
    for line, column, _value, reason, *rest in job.rejections:
        cells = rest[0] if rest else []
        if cells and isinstance(cells[0], list):  # kept before 2026-12 as [column, value] pairs
            headers = headers or [name for name, _ in cells]
            cells = [value for _, value in cells]
        entry = by_line.setdefault(line, {"cells": cells, "reasons": []})
        entry["reasons"].append(f"{column}: {reason}" if column else reason)
    rows = (
        importer.report_row(entry["cells"], headers, line, "; ".join(entry["reasons"]))
        for line, entry in sorted(by_line.items())
    )
    return importer.report_header(headers), rows


@dataclass
class Cleanup:
    """What `clean_abandoned_uploads` deleted (or, in a dry run, would delete)."""

    dry_run: bool
    cutoff: datetime.datetime
    jobs: list[tuple[int, str, str, datetime.datetime]] = field(default_factory=list)  # id, file, by, uploaded
    files: list[str] = field(default_factory=list)  # stored files no waiting or running import needs


def clean_abandoned_uploads(*, dry_run: bool = False, now: datetime.datetime | None = None) -> Cleanup:
    """Delete uploads left unstarted for longer than IMPORT_UPLOAD_TTL_HOURS: a job still waiting for
    its columns to be matched (never confirmed) goes, its stored file with it. A job that was queued,
    ran or was refused is kept, for its report; the import deleted its file when it ended, and a file
    left behind (a failed delete, an upload whose job was never written) goes too once it is as old.
    Run hourly by the queue (web migration 0005) and by `manage.py clean_imports`."""
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=settings.IMPORT_UPLOAD_TTL_HOURS)
    cleanup = Cleanup(dry_run=dry_run, cutoff=cutoff)
    storage = import_storage()
    stale = ImportJob.objects.filter(status=ImportJob.Status.MAPPING, created_at__lt=cutoff).order_by("created_at")
    for pk, file_name, stored_path, username, created_at in stale.values_list(
        "pk", "file_name", "stored_path", "created_by__username", "created_at"
    ):
        if not dry_run:
            # Only while it still waits: a click on Import at this moment wins, and its file stays.
            deleted, _ = ImportJob.objects.filter(pk=pk, status=ImportJob.Status.MAPPING).delete()
            if not deleted:
                continue
            _delete_stored(storage, stored_path)  # on failure it is a leftover file, deleted next time
        cleanup.jobs.append((pk, file_name, username, created_at))
    for name in _leftover_files(storage, cutoff):
        if dry_run or _delete_stored(storage, name):
            cleanup.files.append(name)
    return cleanup


def _leftover_files(storage: Storage, cutoff: datetime.datetime) -> list[str]:
    """Stored files older than the cutoff that no import waiting for its columns, queued or running
    names (a stale waiting one is deleted with its job, not here)."""
    try:
        _, names = storage.listdir("")
    except FileNotFoundError:  # nothing was ever uploaded
        return []
    needed = set(
        ImportJob.objects.filter(
            stored_path__in=names,
            status__in=[ImportJob.Status.MAPPING, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING],
        ).values_list("stored_path", flat=True)
    )
    leftovers = []
    for name in sorted(set(names) - needed):
        try:
            if storage.get_modified_time(name) < cutoff:
                leftovers.append(name)
        except (OSError, NotImplementedError):  # gone meanwhile, or a storage that cannot tell: kept
            continue
    return leftovers


def _delete_stored(storage: Storage, name: str) -> bool:
    try:
        storage.delete(name)
    except Exception:  # one file the storage refuses must not keep the others: logged, tried again next hour
        logger.exception("Could not delete the import upload %s", name)
        return False
    return True
