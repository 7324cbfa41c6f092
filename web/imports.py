"""Creator imports from the pages: store the upload, run `crm.importer` in the queue, record progress.

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

from crm import importer
from web.models import ImportJob

logger = logging.getLogger(__name__)
MAX_REJECTIONS_KEPT = 10_000  # enough for any report a person reads; the count is always exact


def import_storage() -> Storage:
    return storages["imports"]


def start_import(upload, *, actor, encoding: str = "utf-8") -> ImportJob:
    """Keep the uploaded file and queue its import; the whole-file checks run first, in the task."""
    name = import_storage().save(f"{uuid.uuid4().hex}.csv", upload)  # streamed in chunks by the storage
    job = ImportJob.objects.create(
        created_by=actor, file_name=Path(upload.name).name[:255], stored_path=name, encoding=encoding
    )
    transaction.on_commit(lambda: async_task("web.imports.run_import", job.pk, task_name=f"import-{job.pk}"))
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
            # The original row as [column, value] pairs: PostgreSQL's jsonb would not keep a dict's column order.
            rejections.append(
                [rejection.line, rejection.column, rejection.value, rejection.reason, list(rejection.row.items())]
            )

    def on_progress(rows: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(processed_rows=F("processed_rows") + rows)

    try:
        with storage.open(job.stored_path, "rb") as source:
            layout = importer.inspect_file(source, encoding=job.encoding)
            ImportJob.objects.filter(pk=job_id).update(total_rows=layout.rows)
            result = importer.import_creators(
                source, encoding=job.encoding, owner=job.created_by, on_rejection=on_rejection, on_progress=on_progress
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
