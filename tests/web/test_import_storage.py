"""An import uploaded on one machine is read by a queue worker on another: the upload goes to the
shared `imports` storage, not to the web machine's own var/ directory."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import Creator
from tests.conftest import run_manage, test_database_url
from web import imports

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
FILES = "django.core.files.storage.FileSystemStorage"


def test_a_worker_with_another_local_disk_imports_what_the_web_machine_stored(settings, tmp_path, alice):
    shared = tmp_path / "shared-imports"  # e.g. an NFS mount or a bucket, the same on both machines
    settings.STORAGES = {**settings.STORAGES, "imports": {"BACKEND": FILES, "OPTIONS": {"location": str(shared)}}}
    rows = "name,instagram\n" + "".join(f"Creator {n},@shared{n}\n" for n in range(50))
    job = imports.start_import(SimpleUploadedFile("c.csv", rows.encode()), actor=alice)
    assert list(shared.glob("*.csv")) and not job.stored_path.startswith("/")  # a storage name, not a path

    other_machine = {
        "DATABASE_URL": test_database_url(),
        "VAR_DIR": str(tmp_path / "machine-b-var"),  # its own local disk: the upload is not there
        "IMPORT_STORAGE_OPTIONS": json.dumps({"location": str(shared)}),
    }
    result = run_manage(
        "shell", "-c", f"from web import imports; print(imports.run_import({job.pk}))", env=other_machine
    )
    assert result.returncode == 0, result.stderr
    job.refresh_from_db()
    assert job.status == "done" and job.created == 50, (job.status, job.error, result.stdout)
    assert Creator.objects.filter(name__startswith="Creator ").count() == 50
    assert not list(shared.glob("*.csv"))  # deleted from the shared storage when done
