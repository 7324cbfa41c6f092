"""manage.py import_creators FILE.csv: upsert creators from a spreadsheet export."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core import csvsafe
from crm import importer
from crm.importer import KNOWN_COLUMNS, ImportFileError, Rejection, import_creators, inspect_file
from crm.models import ColumnMapping


class Command(BaseCommand):
    help = (
        "Import creators from a CSV file, upserting by (platform, handle). Columns: "
        + ", ".join(KNOWN_COLUMNS)
        + " (or their usual names: Full name, E-mail, IG, Followers...; --mapping says otherwise). Rejected rows "
        "are written to a report as they were in the file, with their line number and reason added, so "
        "the report can be fixed and imported again; good rows are kept."
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
        parser.add_argument(
            "--mapping",
            help="A saved column mapping's name, or column=field pairs such as 'Full name=name,IG=instagram,Notes=' "
            "(an empty field ignores the column; columns not named keep their guessed field).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args, file: Path, dry_run: bool, encoding: str, owner, report, no_progress, mapping, **options):
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
                columns = self._mapping(mapping, source, encoding, owner_user)
                total = inspect_file(source, encoding=encoding, mapping=columns).rows
                with (
                    _ReportWriter(report) as writer,
                    tqdm(total=total, unit="rows", disable=no_progress or None, file=self.stderr._out) as bar,
                ):
                    result = import_creators(
                        source,
                        encoding=encoding,
                        mapping=columns,
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
        if result.merged:
            self.stdout.write(f"{result.merged} rows named a creator an earlier row already named and were merged:")
            for duplicate in result.duplicates[:20]:
                self.stdout.write(f"  line {duplicate.line} repeats line {duplicate.first_line} ({duplicate.creator})")
        if result.rejected:
            self.stdout.write(
                f"Rejected rows, as they were in the file with the line and reason added: {report} "
                "(fix them there and import that file again)"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was written to the database.")

    @staticmethod
    def _mapping(spec: str | None, source, encoding: str, owner) -> list[str] | None:
        if not spec:
            return None
        headers, _ = importer.read_headers(source, encoding=encoding)
        if "=" in spec:
            return importer.parse_mapping_spec(spec, headers)
        saved = ColumnMapping.objects.filter(name=spec)
        saved = (
            saved.filter(owner=owner) if owner and saved.filter(owner=owner).exists() else saved.filter(for_team=True)
        )
        found = list(saved[:2])
        if len(found) != 1:
            raise CommandError(
                f"--mapping: no saved mapping is named {spec!r}"
                + (" (several are; give --owner)" if found else "")
                + ". Give a saved mapping's name or column=field pairs."
            )
        return importer.apply_saved_mapping(headers, found[0].columns)


class _ReportWriter:
    """Writes each rejected row as it was in the file, with its line and reasons added at the end
    (the columns REPORT_COLUMNS, which an import skips): fixed, the report is imported as it is.
    The file is created only if there is something to say."""

    def __init__(self, path: Path):
        self.path = path
        self.file = None
        self.writer = None
        self.pending: Rejection | None = None
        self.reasons: list[str] = []

    def __enter__(self):
        if self.path.exists():
            self.path.unlink()
        return self

    def write(self, rejection: Rejection) -> None:
        """Problems of one row arrive one after the other: they make one line of the report."""
        if self.pending is not None and self.pending.line != rejection.line:
            self._flush()
        self.pending = rejection
        self.reasons.append(f"{rejection.column}: {rejection.reason}" if rejection.column else rejection.reason)

    def _flush(self) -> None:
        rejection, reasons = self.pending, self.reasons
        self.pending, self.reasons = None, []
        if rejection is None:
            return
        if self.writer is None:
            try:
                self.file = self.path.open("w", newline="", encoding="utf-8")
            except OSError as error:
                raise CommandError(f"Cannot write the report {self.path}: {error.strerror}.") from None
            self.writer = csvsafe.writer(self.file)
            self.writer.writerow(importer.report_header(rejection.headers))
        self.writer.writerow(
            importer.report_row(rejection.cells, rejection.headers, rejection.line, "; ".join(reasons))
        )

    def __exit__(self, *exc):
        self._flush()
        if self.file:
            self.file.close()
