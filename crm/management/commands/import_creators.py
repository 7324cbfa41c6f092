"""manage.py import_creators FILE.csv: upsert creators from a spreadsheet export."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core import csvsafe
from crm.importer import KNOWN_COLUMNS, ImportFileError, Rejection, import_creators, inspect_file


class Command(BaseCommand):
    help = (
        "Import creators from a CSV file, upserting by (platform, handle). Columns: "
        + ", ".join(KNOWN_COLUMNS)
        + ". Rejected rows are written to a report with their line number, column and reason; "
        "good rows are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file (UTF-8 unless --encoding says otherwise).")
        parser.add_argument("--dry-run", action="store_true", help="Check and count everything, write nothing.")
        parser.add_argument("--encoding", default="utf-8", help="The file's text encoding (default utf-8).")
        parser.add_argument("--owner", help="Username that owns the creators this import adds.")
        parser.add_argument(
            "--report",
            type=Path,
            help="Where to write rejected rows (default: FILE with .rejected.csv beside it).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args, file: Path, dry_run: bool, encoding: str, owner, report, no_progress, **options):
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username=owner).first()
            if owner_user is None:
                raise CommandError(f"--owner: there is no user named {owner!r}.")
        report = report or file.with_name(file.stem + ".rejected.csv")
        try:
            source = file.open("rb")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}.") from None
        with source:
            try:
                total = inspect_file(source, encoding=encoding).rows
                with (
                    _ReportWriter(report) as writer,
                    tqdm(total=total, unit="rows", disable=no_progress or None, file=self.stderr._out) as bar,
                ):
                    result = import_creators(
                        source,
                        encoding=encoding,
                        dry_run=dry_run,
                        owner=owner_user,
                        on_rejection=writer.write,
                        on_progress=bar.update,
                    )
            except ImportFileError as error:
                raise CommandError(f"{file}: {error} Nothing was imported.") from None
        verb = "would be" if dry_run else "were"
        self.stdout.write(
            f"{result.rows} rows read: {result.created} creators {verb} created, {result.updated} updated, "
            f"{result.accounts_created} accounts added, {result.rejected} rows rejected."
        )
        if result.rejected:
            self.stdout.write(f"Rejected rows, with line, column and reason: {report}")
        if dry_run:
            self.stdout.write("Dry run: nothing was written to the database.")


class _ReportWriter:
    """Writes rejections as they come; the file is created only if there is something to say."""

    def __init__(self, path: Path):
        self.path = path
        self.file = None
        self.writer = None

    def __enter__(self):
        if self.path.exists():
            self.path.unlink()
        return self

    def write(self, rejection: Rejection) -> None:
        if self.writer is None:
            try:
                self.file = self.path.open("w", newline="", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write the report {self.path}: {error.strerror}.") from None
            self.writer = csvsafe.writer(self.file)
            self.writer.writerow(["line", "column", "value", "reason"])
        self.writer.writerow([rejection.line, rejection.column, rejection.value, rejection.reason])

    def __exit__(self, *exc):
        if self.file:
            self.file.close()
