"""Creator imports from the pages: store the upload, match its columns, preview its first rows, then
run `crm.importer` in the queue and record progress.

The steps: `prepare_import` keeps the upload and guesses its columns (or applies the saved mapping
for the same headers); `set_mapping` checks and keeps the person's choice (saving it under a name if
asked); `preview_job` reads the first rows as they will be stored; `confirm_import` queues it.
The upload goes to the `imports` storage (settings.STORAGES), not to the web machine's disk, so a
queue worker on any machine can read it; it is written and read in chunks (memory stays flat)."""

import contextlib
import logging
import uuid
from pathlib import Path

from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_q.tasks import async_task

from crm import access, importer
from crm.errors import DomainError
from crm.models import ColumnMapping
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


def offered_mapping(headers: list[str], user) -> ColumnMapping | None:
    """The saved mapping for files with these headers that this person may use: their own first,
    then the team's; the most recently changed of each."""
    candidates = access.visible(ColumnMapping.objects.all(), user).filter(signature=importer.header_signature(headers))
    return min(candidates.order_by("-updated_at", "-id")[:20], key=lambda m: m.owner_id != user.pk, default=None)


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


def save_mapping(name: str, headers: list[str], mapping: list[str], *, actor, for_team: bool) -> ColumnMapping:
    """Save (or overwrite one's own of the same name) a mapping, offered again for the same headers."""
    if len(name) > 100:
        raise DomainError({"save_as": ["A name of at most 100 characters."]})
    saved, _ = ColumnMapping.objects.update_or_create(
        owner=actor,
        name=name,
        defaults={
            "for_team": for_team,
            "signature": importer.header_signature(headers),
            "columns": [[header, target] for header, target in zip(headers, mapping, strict=True)],
        },
    )
    return saved


def rename_mapping(saved: ColumnMapping, name: str, *, actor) -> ColumnMapping:
    """A new name for a saved mapping; names are one per person."""
    if not access.can_change(saved, actor):
        raise DomainError({"__all__": ["This mapping is someone else's."]})
    name = " ".join(name.split())
    if not name or len(name) > 100:
        raise DomainError({"name": ["Give a name of 1 to 100 characters."]})
    if ColumnMapping.objects.filter(owner_id=saved.owner_id, name=name).exclude(pk=saved.pk).exists():
        raise DomainError({"name": [f"There is already a mapping named “{name}”; choose another name."]})
    saved.name = name
    saved.save(update_fields=["name", "updated_at"])
    return saved


def delete_mapping(saved: ColumnMapping, *, actor) -> None:
    """Forget a saved mapping; imports that used it keep their own copy of the columns."""
    if not access.can_change(saved, actor):
        raise DomainError({"__all__": ["This mapping is someone else's."]})
    saved.delete()


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


def confirm_import(job: ImportJob) -> ImportJob:
    """Queue the import (once: a second click finds it already queued)."""
    if job.mapping and importer.mapping_problems(job.headers, job.mapping):
        raise DomainError({"__all__": ["Match the columns first."]})
    claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.MAPPING).update(
        status=ImportJob.Status.QUEUED
    )
    if claimed:
        transaction.on_commit(lambda: async_task("web.imports.run_import", job.pk, task_name=f"import-{job.pk}"))
    job.refresh_from_db()
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
