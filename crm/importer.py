"""Creator import from CSV: stream the file, upsert by (platform, handle), report bad rows.

Used by `manage.py import_creators` and by the import page. The file's columns are matched to our
fields by a *mapping* (one target field per column, or none to ignore it): guessed from the headers'
usual names ("Full name", "IG", "E-mail", "Followers"...), changed by the person in the page, or a
saved `ColumnMapping`. Two passes over the file: the first checks that it is readable CSV in the
stated encoding with a usable mapping (so a wrong file changes nothing) and counts its rows for the
progress bar; the second imports in batches, each batch a few queries and its own transaction, so
memory stays flat and a crash keeps what was committed (a re-run upserts the same rows again).
Rows about a creator an earlier row of the same file already named are merged into it and reported
with both line numbers, across the whole file (`ImportSeenCreator` remembers them in the database).
"""

import codecs
import csv
import hashlib
import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from crm import handles
from crm.models import Creator, ImportSeenCreator, Platform, SocialAccount, Tag

PERSON_COLUMNS = ["name", "email", "country", "language", "tags", "notes"]
PLATFORM_COLUMNS = [column for platform in Platform.values for column in (platform, f"{platform}_followers")]
KNOWN_COLUMNS = PERSON_COLUMNS + PLATFORM_COLUMNS
PLATFORMS = [(platform, str(label)) for platform, label in Platform.choices]  # read once: per row it shows
# Our fields as the page names them, in the order the mapping menus list them.
FIELD_LABELS = {
    "name": "Name",
    "email": "Email",
    "country": "Country (two-letter code)",
    "language": "Language",
    "tags": "Tags",
    "notes": "Notes",
    **{
        column: f"{label} handle" if column == platform else f"{label} followers"
        for platform, label in Platform.choices
        for column in (platform, f"{platform}_followers")
    },
}
# The rejected-rows file adds these to the original columns; a fixed file uploaded again skips them.
REPORT_COLUMNS = ["rejected_line", "rejected_reason"]
UPDATABLE_FIELDS = ["name", "email", "country", "language", "notes"]
DELIMITERS = [",", ";", "\t"]
LANGUAGE_PATTERN = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
TAG_SEPARATORS = re.compile(r"[;|,]")
MAX_FOLLOWERS = 2**63 - 1
# Bounds that keep memory flat whatever the file: a physical line is read at most this many bytes at
# a time (a longer one refuses the file), a cell (even quoted across lines) at most MAX_CELL
# characters, a header at most MAX_COLUMNS cells.
MAX_LINE_BYTES = 1_000_000
MAX_CELL = 100_000
MAX_COLUMNS = 100
PREVIEW_ROWS = 10

# Usual names of our fields in other tools' exports, after `normalize_header`.
SYNONYMS = {
    "name": {"name", "full name", "fullname", "creator", "creator name", "influencer", "influencer name",
             "display name", "contact", "contact name", "first and last name", "nom", "nombre"},
    "email": {"email", "e mail", "mail", "email address", "e mail address", "contact email", "emailaddress"},
    "country": {"country", "country code", "nation", "land", "pays", "pais", "location country"},
    "language": {"language", "lang", "locale", "language code"},
    "tags": {"tags", "tag", "labels", "label", "categories", "category", "niche", "niches", "topics"},
    "notes": {"notes", "note", "comments", "comment", "remarks", "description"},
}  # fmt: skip
PLATFORM_ALIASES = {
    "instagram": {"instagram", "ig", "insta"},
    "tiktok": {"tiktok", "tik tok", "tt"},
    "x": {"x", "twitter"},
    "youtube": {"youtube", "yt", "you tube"},
    "facebook": {"facebook", "fb"},
    "linkedin": {"linkedin", "linked in"},
    "whatsapp": {"whatsapp", "whats app", "wa"},
}
HANDLE_WORDS = {"", "handle", "username", "user name", "user", "account", "url", "profile", "link", "profile url",
                "profile link", "id", "name", "page", "channel"}  # fmt: skip
FOLLOWER_WORDS = {"followers", "follower", "follower count", "followers count", "subscribers", "fans", "audience",
                  "abonnes", "seguidores", "reach", "count"}  # fmt: skip


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not CSV, empty, wrong encoding, unknown columns)."""


@dataclass
class Rejection:
    """One problem of one row. `column` is the file's own header; `cells` are the row exactly as it
    was in the file (`headers` its first line), so it can be fixed and uploaded again as it is."""

    line: int
    column: str
    value: str
    reason: str
    cells: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    target: str = ""  # our field, when the problem is one cell's

    @property
    def row(self) -> dict[str, str]:
        return dict(zip(self.headers, self.cells, strict=False))


@dataclass
class ParsedRow:
    line: int
    values: dict[str, str]
    accounts: list[tuple[str, str, int | None]]  # (platform, handle, followers)
    tags: list[str]
    cells: list[str] = field(default_factory=list)  # the row as it was in the file


@dataclass
class Duplicate:
    """A row naming the same creator as an earlier row of the file: merged into it, not created twice."""

    line: int
    first_line: int
    creator: str


@dataclass
class ImportResult:
    """What an import did; `rejections` is filled only when no report writer was given."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    merged: int = 0  # rows of the same creator as an earlier row: created + updated + merged + rejected = rows
    accounts_created: int = 0
    dry_run: bool = False
    rejections: list[Rejection] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)  # the first MAX_DUPLICATES_KEPT


MAX_DUPLICATES_KEPT = 1000


@dataclass
class CsvLayout:
    encoding: str
    delimiter: str
    columns: list[str]  # our field for each column of the file, "" where it is ignored
    rows: int
    headers: list[str] = field(default_factory=list)  # the file's first line as written

    def header_of(self, target: str) -> str:
        return self.headers[self.columns.index(target)] if target in self.columns else target

    def rejection(self, line: int, target: str, reason: str, cells: list[str]) -> Rejection:
        value = cells[self.columns.index(target)] if target in self.columns[: len(cells)] else ""
        return Rejection(line, self.header_of(target), value, reason, cells, self.headers, target)


def report_header(headers: list[str]) -> list[str]:
    """The rejected-rows file's first line: the file's own columns, then the line and the reason."""
    return [*(h for h in headers if h.lower() not in REPORT_COLUMNS), *REPORT_COLUMNS]


def report_row(cells: list[str], headers: list[str], line: int, reason: str) -> list:
    """A rejected row as it was, under `report_header`: its cells, the line and the reason; cells
    beyond the header (a stray comma) follow them, so nothing of the row is lost."""
    kept = [position for position, h in enumerate(headers) if h.lower() not in REPORT_COLUMNS]
    return [*(cells[p] if p < len(cells) else "" for p in kept), line, reason, *cells[len(headers) :]]


# --- matching the file's columns to our fields ---------------------------------------------------


def normalize_header(header: str) -> str:
    """ "E-mail ", "e_mail" and "E MAIL" are the same header: lower case, words split on anything else."""
    return " ".join(part for part in re.split(r"[^a-z0-9]+", _unaccent(header).lower()) if part)


def _unaccent(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _guess_one(normalized: str) -> str:
    for target, names in SYNONYMS.items():
        if normalized in names:
            return target
    if normalized in FOLLOWER_WORDS or normalized.replace(" ", "") in FOLLOWER_WORDS:
        return "followers"  # of which platform: decided with the other columns
    for platform, aliases in PLATFORM_ALIASES.items():
        for alias in aliases:
            if normalized == alias or normalized.startswith(alias + " ") or normalized.endswith(" " + alias):
                rest = normalized.removeprefix(alias).strip() if normalized.startswith(alias) else ""
                rest = rest or normalized.removesuffix(alias).strip()
                rest = rest.removeprefix("@").strip()
                if rest in FOLLOWER_WORDS or any(word in rest.split() for word in ("followers", "subscribers")):
                    return f"{platform}_followers"
                if rest in HANDLE_WORDS or rest == alias:
                    return platform
    return ""


def guess_mapping(headers: list[str]) -> list[str]:
    """Our field for each header (or "" when we cannot tell), never the same field twice: a later
    header guessed as an already taken field is left for the person to choose. A bare "Followers"
    goes with the file's one platform handle column (or the one just before it)."""
    report = {column.replace("_", " ") for column in REPORT_COLUMNS}
    guesses = ["" if normalize_header(h) in report else _guess_one(normalize_header(h)) for h in headers]
    for position, guess in enumerate(guesses):
        if guess == "followers":
            platforms = [g for g in guesses if g in Platform.values]
            before = [g for g in guesses[:position] if g in Platform.values]
            platform = before[-1] if before else platforms[0] if platforms else ""
            guesses[position] = f"{platform}_followers" if platform else ""
    taken: set[str] = set()
    for position, guess in enumerate(guesses):
        if guess in taken:
            guesses[position] = ""
        taken.add(guess)
    return guesses


def header_signature(headers: list[str]) -> str:
    """What makes two files "the same headers" for a saved mapping: their normalised header names,
    in any order, without the two columns a rejected-rows file adds."""
    names = sorted({normalize_header(h) for h in headers} - {"", *(c.replace("_", " ") for c in REPORT_COLUMNS)})
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def apply_saved_mapping(headers: list[str], columns: list) -> list[str]:
    """A saved mapping's [header, field] pairs applied to a file's headers (matched by normalised name)."""
    saved = {normalize_header(header): target for header, target in columns}
    result, taken = [], set()
    for header in headers:
        target = saved.get(normalize_header(header), "")
        target = target if target in KNOWN_COLUMNS and target not in taken else ""
        taken.add(target)
        result.append(target)
    return result


def parse_mapping_spec(spec: str, headers: list[str]) -> list[str]:
    """`Full name=name, IG=instagram, Notes=` (a column=field list; an empty field ignores the
    column) applied to a file's headers; a column not named keeps its guess."""
    mapping = guess_mapping(headers)
    by_name = {normalize_header(h): position for position, h in enumerate(headers)}
    labels = {normalize_header(label): target for target, label in FIELD_LABELS.items()}
    for item in spec.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise ImportFileError(f"--mapping: {item.strip()!r} should be written column=field.")
        column, target = (part.strip() for part in item.rsplit("=", 1))
        if normalize_header(column) not in by_name:
            raise ImportFileError(f"--mapping: the file has no column {column!r}. Its columns: {', '.join(headers)}.")
        target_key = target.lower() if target.lower() in KNOWN_COLUMNS else labels.get(normalize_header(target), "")
        if target and not target_key:
            raise ImportFileError(f"--mapping: {target!r} is not one of our fields: {', '.join(KNOWN_COLUMNS)}.")
        position = by_name[normalize_header(column)]
        mapping = ["" if t == target_key and p != position and target_key else t for p, t in enumerate(mapping)]
        mapping[position] = target_key
    return mapping


def mapping_problems(headers: list[str], mapping: list[str]) -> dict[str, list[str]]:
    """What keeps a mapping from importing, in words for someone who never saw our field names:
    {"__all__" or a column's position as text: [messages]}. Empty when the mapping can be used."""
    problems: dict[str, list[str]] = {}
    if len(mapping) != len(headers):
        return {"__all__": ["Choose a field (or “ignore”) for each column of the file."]}
    for position, target in enumerate(mapping):
        if target and target not in KNOWN_COLUMNS:
            problems.setdefault(str(position), []).append("This is not one of our fields; choose another or ignore.")
    for target in {t for t in mapping if t}:
        positions = [p for p, t in enumerate(mapping) if t == target]
        if len(positions) > 1:
            names = " and ".join(f"“{headers[p]}”" for p in positions)
            for p in positions[1:]:
                problems.setdefault(str(p), []).append(
                    f"{names} are both matched to {FIELD_LABELS[target]}: keep one, ignore the other."
                )
    chosen = set(mapping)
    general = []
    if "name" not in chosen:
        general.append("Which column holds the creator's name? Match one column to “Name”: every creator needs a name.")
    if not chosen & ({"email"} | set(Platform.values)):
        general.append(
            "We recognise a creator by a platform handle or an email address, so that importing the file again "
            "updates the same people instead of adding them twice. Match at least one column to “Email” or to a "
            "handle such as “Instagram handle”."
        )
    for platform, label in Platform.choices:
        if f"{platform}_followers" in chosen and platform not in chosen:
            position = mapping.index(f"{platform}_followers")
            problems.setdefault(str(position), []).append(
                f"A follower count belongs to an account: match another column to “{label} handle”, or ignore this one."
            )
    if general:
        problems["__all__"] = general
    return problems


def read_headers(source: BinaryIO, *, encoding: str = "utf-8") -> tuple[list[str], str]:
    """The file's first line (its headers) and its delimiter, reading no further; a file that is not
    text CSV is refused here, before anyone is asked to match its columns."""
    source.seek(0)
    head = source.read(8192)
    if not head.strip():
        raise ImportFileError("The file is empty.")
    if b"\x00" in head:
        raise ImportFileError("This is not a CSV file: it contains binary data. Export the sheet as CSV.")
    encoding = _encoding(encoding)
    reader = _reader(source, encoding, delimiter=None)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ImportFileError(f"Line {reader.line_num}: this is not a readable CSV file ({error}).") from None
    if not header or not any(cell.strip() for cell in header):
        raise ImportFileError("The file is empty.")
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(f"The first line has {len(header)} columns; a creator file has at most {MAX_COLUMNS}.")
    return [cell.strip() for cell in header], reader.dialect.delimiter


def _encoding(encoding: str) -> str:
    try:
        return "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    except LookupError:
        raise ImportFileError(f"Unknown encoding {encoding!r}.") from None


def inspect_file(source: BinaryIO, *, encoding: str = "utf-8", mapping: list[str] | None = None) -> CsvLayout:
    """Check the whole file before anything is written: readable, CSV, a usable mapping; count rows.

    It reads the file once, line by line, to its end: a NUL byte, an undecodable byte, an over-long
    line or cell anywhere (not only in the first kilobytes) refuses it whole, before the import
    writes its first batch. With no mapping, the headers must all be ones we recognise (ours, or a
    usual name of one of our fields)."""
    headers, delimiter = read_headers(source, encoding=encoding)
    encoding = _encoding(encoding)
    columns = _check_mapping(headers, mapping)
    reader = _reader(source, encoding, delimiter)
    rows = 0
    try:
        next(reader)
        for _ in reader:
            rows += 1
    except csv.Error as error:
        raise ImportFileError(f"Line {reader.line_num}: this is not a readable CSV file ({error}).") from None
    if rows == 0:
        raise ImportFileError("The file has a header but no rows.")
    return CsvLayout(encoding=encoding, delimiter=delimiter, columns=columns, rows=rows, headers=headers)


def _check_mapping(headers: list[str], mapping: list[str] | None) -> list[str]:
    if mapping is None:
        mapping = guess_mapping(headers)
        lowered = [h.lower() for h in headers]
        duplicated = sorted({h for h in lowered if h and lowered.count(h) > 1})
        if duplicated:
            raise ImportFileError(f"Column(s) given twice: {', '.join(duplicated)}.")
        unknown = [h for h, t in zip(headers, mapping, strict=True) if not t and h.lower() not in REPORT_COLUMNS]
        if unknown:
            raise ImportFileError(
                f"Unknown column(s): {', '.join(unknown)}. Known columns: {', '.join(KNOWN_COLUMNS)} "
                "(or say which field each column is with --mapping 'Column=field,Other column=')."
            )
    problems = mapping_problems(headers, mapping)
    if problems:
        messages = problems.pop("__all__", [])
        messages += [f"Column “{headers[int(p)]}”: {m}" for p, ms in problems.items() for m in ms]
        raise ImportFileError(" ".join(messages))
    return list(mapping)


def import_creators(
    source: BinaryIO,
    *,
    encoding: str = "utf-8",
    mapping: list[str] | None = None,
    dry_run: bool = False,
    owner=None,
    on_rejection: Callable[[Rejection], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    batch_size: int | None = None,
) -> ImportResult:
    """Upsert the creators of a CSV file; bad rows are reported with their line and kept out.

    A row names a creator by any of its handles (or, with no handle, its email). Non-empty values
    overwrite, empty ones keep what is stored; tags and accounts are added, never removed. A row
    about a creator an earlier row already named (anywhere in the file) is merged into it and
    reported as a duplicate of that line: created + updated + merged + rejected = rows.
    """
    layout = inspect_file(source, encoding=encoding, mapping=mapping)
    result = ImportResult(dry_run=dry_run)
    reject = on_rejection or result.rejections.append
    batch_size = batch_size or settings.IMPORT_BATCH_SIZE
    tag_ids: dict[str, int] = {}
    run_id = uuid.uuid4()

    def attempt(rows: list[ParsedRow]) -> None:
        """One transaction; its counts and rejections count only if it commits."""
        partial, said = ImportResult(), []
        with transaction.atomic():
            _import_batch(rows, partial, said.append, owner, tag_ids, run_id, layout)
        for name in ("created", "updated", "rejected", "merged", "accounts_created"):
            setattr(result, name, getattr(result, name) + getattr(partial, name))
        result.duplicates.extend(partial.duplicates[: MAX_DUPLICATES_KEPT - len(result.duplicates)])
        for rejection in said:
            reject(rejection)

    def run() -> None:
        for batch in _batches(_parsed_rows(source, layout, result, reject), batch_size):
            try:
                attempt(batch)
            except DatabaseError:
                # Someone else wrote the same handles meanwhile (or a value the database refuses):
                # redo row by row, keep what fits, report the rest.
                tag_ids.clear()
                for row in batch:
                    try:
                        attempt([row])
                    except DatabaseError as error:
                        tag_ids.clear()
                        result.rejected += 1
                        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                        reject(layout.rejection(row.line, "", f"the database refused it: {reason}", row.cells))
            if on_progress:
                on_progress(len(batch))

    try:
        if dry_run:
            with transaction.atomic():
                run()
                transaction.set_rollback(True)
        else:
            run()
    finally:
        ImportSeenCreator.objects.filter(run=run_id).delete()
    return result


@dataclass
class PreviewCell:
    header: str
    target: str  # our field, "" when the column is ignored
    original: str
    stored: str  # the value as it will be stored ("" when nothing will be)
    problem: str = ""


@dataclass
class PreviewRow:
    line: int
    cells: list[PreviewCell]
    outcome: str  # "new", "update", "repeat" or "rejected"
    says: str  # the outcome in words: "New creator", "Updates Maya Hart", "Repeats line 3"...
    problems: list[str] = field(default_factory=list)  # the row's problems that are no one cell's


def preview(
    source: BinaryIO, *, encoding: str = "utf-8", mapping: list[str], rows: int = PREVIEW_ROWS
) -> list[PreviewRow]:
    """The first rows as they will be stored, each problem on its cell: what the import would do,
    before it does anything. Reads only the first rows; a few queries find the creators they update."""
    headers, delimiter = read_headers(source, encoding=encoding)
    layout = CsvLayout(_encoding(encoding), delimiter, list(mapping), 0, headers)
    reader = _reader(source, layout.encoding, delimiter)
    parsed_rows = []
    try:
        next(reader)
        line = reader.line_num + 1
        for cells in reader:
            row_line, line = line, reader.line_num + 1
            parsed_rows.append((row_line, cells, *_parse_cells(row_line, cells, layout)))
            if len(parsed_rows) >= rows:
                break
    except csv.Error as error:
        raise ImportFileError(f"Line {reader.line_num}: this is not a readable CSV file ({error}).") from None
    keys = [(platform, handle) for _, _, parsed, _ in parsed_rows if parsed for platform, handle, _ in parsed.accounts]
    query = Q(pk__in=[])
    for platform, handle in keys:
        query |= Q(platform=platform, handle=handle)
    known_accounts = {
        (a.platform, a.handle): a.creator.name for a in SocialAccount.objects.filter(query).select_related("creator")
    }
    emails = {parsed.values["email"] for _, _, parsed, _ in parsed_rows if parsed and parsed.values["email"]}
    known_emails = dict(Creator.objects.filter(email__in=emails).values_list("email", "name"))
    first_seen: dict[tuple[str, str], int] = {}
    result = []
    for row_line, cells, parsed, problems in parsed_rows:
        by_target: dict[str, str] = {}
        general = []
        for target, reason in problems:
            if target and target in layout.columns[: len(cells)]:
                by_target[target] = f"{by_target[target]}; {reason}" if target in by_target else reason
            else:
                general.append(reason)
        stored = _stored_values(parsed) if parsed else {}
        repeats, updates = None, None
        if parsed and not problems:
            row_keys = [((p, h), p) for p, h, _ in parsed.accounts]
            if parsed.values["email"]:
                row_keys.append((("email", parsed.values["email"]), "email"))
            for key, target in row_keys:
                if key in first_seen and repeats is None:
                    repeats = first_seen[key]
                    by_target[target] = f"the same {FIELD_LABELS[target].lower()} as line {repeats}"
                first_seen.setdefault(key, row_line)
            updates = next((known_accounts[(p, h)] for p, h, _ in parsed.accounts if (p, h) in known_accounts), None)
            updates = updates or known_emails.get(parsed.values["email"])
        preview_cells = [
            PreviewCell(
                header=header,
                target=target,
                original=cells[position] if position < len(cells) else "",
                stored=stored.get(target, "") if target else "",
                problem=by_target.get(target, "") if target else "",
            )
            for position, (header, target) in enumerate(zip(headers, layout.columns, strict=True))
        ]
        if problems:
            outcome, says = (
                "rejected",
                "Not imported: " + "; ".join(f"{layout.header_of(t)}: {r}" if t else r for t, r in problems),
            )
        elif repeats:
            outcome, says = "repeat", f"Repeats line {repeats}: merged into the same creator"
        elif updates:
            outcome, says = "update", f"Updates {updates}, already in your creators"
        else:
            outcome, says = "new", "New creator"
        result.append(PreviewRow(row_line, preview_cells, outcome, says, general))
    return result


# The preview's pass over the whole file for rows that repeat an earlier one keeps a 64-bit hash of
# each email and handle (about 70 bytes a key in a set), at most REPEAT_SCAN_KEYS of them, and stops
# after REPEAT_SCAN_SECONDS: what it did not read, the import itself still checks.
REPEAT_SCAN_KEYS = 500_000
REPEAT_SCAN_SECONDS = 3.0
REPEAT_LINES_SHOWN = 20


@dataclass
class RepeatScan:
    """What the preview's pass over the whole file found: rows that name, by an email or a handle,
    a creator an earlier row of the file already names (the import merges them into that one)."""

    rows: int = 0  # rows read
    repeats: int = 0
    lines: list[int] = field(default_factory=list)  # the first REPEAT_LINES_SHOWN repeating lines
    complete: bool = True  # read to the end; else stopped at a bound, after `rows` rows

    @property
    def says(self) -> str:
        """The finding in words, for the preview."""
        where = "the file" if self.complete else f"the first {self.rows:,} rows"
        rest = "" if self.complete else " The rest of the file was not read here; the import checks every row."
        if not self.repeats:
            return f"No row of {where} repeats an earlier row (by email or handle).{rest}"
        lines = ", ".join(f"{line:,}" for line in self.lines)
        if self.repeats > len(self.lines):
            lines += f" and {self.repeats - len(self.lines):,} more"
        rows = "1 row" if self.repeats == 1 else f"{self.repeats:,} rows"
        verb = "repeats" if self.repeats == 1 else "repeat"
        return (
            f"{rows} of {where} {verb} an earlier row (the same email or handle): line{'s' * (len(self.lines) > 1)} "
            f"{lines}. Each is merged into the creator of the earlier row, not added twice.{rest}"
        )


def find_repeats(
    source: BinaryIO,
    *,
    encoding: str = "utf-8",
    mapping: list[str],
    max_keys: int = REPEAT_SCAN_KEYS,
    seconds: float = REPEAT_SCAN_SECONDS,
) -> RepeatScan:
    """Which rows of the whole file repeat an earlier row, before anything is imported: one streaming
    pass that reads only the identity cells (email and handles, as the import normalises them) and
    remembers hashes of them, bounded in memory (`max_keys`) and time (`seconds`).

    A row the import would refuse for its name or its identity cells (no name, an unreadable email
    or handle, a cell too many) is skipped, as the import skips it; other problems (an unreadable
    follower count) are not looked at, so such a row may still be counted here."""
    _, delimiter = read_headers(source, encoding=encoding)
    identity = _IdentityCells(list(mapping))
    seen: set[int] = set()
    scan = RepeatScan()
    deadline = time.monotonic() + seconds
    reader = _reader(source, _encoding(encoding), delimiter)
    try:
        next(reader)
        line = reader.line_num + 1
        for cells in reader:
            row_line, line = line, reader.line_num + 1
            if len(seen) >= max_keys or (scan.rows % 1024 == 0 and time.monotonic() > deadline):
                scan.complete = False
                break
            scan.rows += 1
            keys = identity.keys(cells)
            if not keys:
                continue
            if not seen.isdisjoint(keys):
                scan.repeats += 1
                if len(scan.lines) < REPEAT_LINES_SHOWN:
                    scan.lines.append(row_line)
            seen.update(keys)
    except csv.Error as error:
        raise ImportFileError(f"Line {reader.line_num}: this is not a readable CSV file ({error}).") from None
    return scan


class _IdentityCells:
    """The cells of a row that say who it is about, read as the import reads them, as hashed keys."""

    def __init__(self, mapping: list[str]):
        self.width = len(mapping)
        self.name = mapping.index("name") if "name" in mapping else None
        self.email = mapping.index("email") if "email" in mapping else None
        self.handles = [(position, target) for position, target in enumerate(mapping) if target in Platform.values]

    def keys(self, cells: list[str]) -> list[int]:
        """The row's keys; none when the import would refuse the row for these cells."""
        if len(cells) != self.width:
            return []
        if self.name is not None:
            name = " ".join(_unquoted(cells[self.name]).split())
            if not name or len(name) > 200:
                return []
        keys = []
        if self.email is not None:
            email = " ".join(_unquoted(cells[self.email]).split()).lower()
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    return []
                if len(email) > 254:
                    return []
                keys.append(hash(("email", email)))
        for position, platform in self.handles:
            value = _unquoted(cells[position]).strip()
            if value:
                try:
                    keys.append(hash((platform, handles.normalize_handle(platform, value))))
                except handles.InvalidHandle:
                    return []
        return keys


def _stored_values(parsed: ParsedRow) -> dict[str, str]:
    stored = {column: value for column, value in parsed.values.items() if value}
    for platform, handle, followers in parsed.accounts:
        stored[platform] = f"@{handle}" if platform != Platform.WHATSAPP else handle
        if followers is not None:
            stored[f"{platform}_followers"] = f"{followers:,}"
    if parsed.tags:
        stored["tags"] = "; ".join(parsed.tags)
    return stored


def _decoded_lines(source: BinaryIO, encoding: str) -> Iterator[str]:
    """The file's lines as text, one at a time, never more than MAX_LINE_BYTES in memory; a byte
    that is not in the encoding, a NUL or an over-long line names its line."""
    source.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    number = 0
    while raw := source.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise ImportFileError(f"Line {number} is longer than {MAX_LINE_BYTES:,} bytes; this is not a creator list.")
        try:
            text = decoder.decode(raw)
        except UnicodeDecodeError as error:
            name = encoding.removesuffix("-sig").upper()
            raise ImportFileError(
                f"Line {number} is not valid {name} (byte 0x{error.object[error.start]:02x}). "
                "Save the file as UTF-8 (in a spreadsheet: “CSV UTF-8”), or give its encoding (e.g. latin-1)."
            ) from None
        if "\x00" in text:
            raise ImportFileError(
                f"Line {number} contains a NUL byte: this is not a text CSV file. Export the sheet as CSV."
            )
        yield text
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFileError(f"Line {number} ends in the middle of a character.") from None


def _reader(source: BinaryIO, encoding: str, delimiter: str | None):
    if delimiter is None:
        first_line = next(_decoded_lines(source, encoding), "")
        delimiter = max(
            DELIMITERS, key=lambda d: (sum(map(bool, guess_mapping(first_line.split(d)))), first_line.count(d))
        )
    return _BoundedReader(csv.reader(_decoded_lines(source, encoding), delimiter=delimiter, strict=True))


class _BoundedReader:
    """csv.reader whose cells are at most MAX_CELL characters (csv.field_size_limit is process-wide,
    so the bound is checked here); a longer one refuses the file as csv.Error does."""

    def __init__(self, reader):
        self._reader = reader

    def __iter__(self):
        return self

    def __next__(self) -> list[str]:
        cells = next(self._reader)
        if any(len(cell) > MAX_CELL for cell in cells):
            raise ImportFileError(f"Line {self.line_num} has a cell longer than {MAX_CELL:,} characters.")
        return cells

    @property
    def line_num(self) -> int:
        return self._reader.line_num

    @property
    def dialect(self):
        return self._reader.dialect


def _parsed_rows(source, layout: CsvLayout, result: ImportResult, reject) -> Iterator[ParsedRow]:
    reader = _reader(source, layout.encoding, layout.delimiter)
    next(reader)
    line = reader.line_num + 1
    for cells in reader:
        result.rows += 1
        row_line, line = line, reader.line_num + 1
        parsed, problems = _parse_cells(row_line, cells, layout)
        if problems:
            result.rejected += 1
            for target, reason in problems:
                reject(layout.rejection(row_line, target, reason, cells))
            continue
        yield parsed


def _parse_cells(line: int, cells: list[str], layout: CsvLayout) -> tuple[ParsedRow | None, list[tuple[str, str]]]:
    """One row of the file read through the mapping: the row, or its problems as (field, reason)."""
    if len(cells) != len(layout.columns):
        return None, [
            (
                "",
                f"has {len(cells)} cells where the first line has {len(layout.columns)} columns "
                "(a comma or a quote out of place?)",
            )
        ]
    raw = {target: _unquoted(cell) for target, cell in zip(layout.columns, cells, strict=True) if target}
    parsed, problems = _parse_row(line, raw, layout)
    parsed.cells = cells
    return parsed, problems


def _parse_row(line: int, raw: dict[str, str], layout: CsvLayout) -> tuple[ParsedRow, list[tuple[str, str]]]:
    """The row's values as they will be stored, and what is wrong with them (field, reason); the
    values are there even when something is wrong, for the preview."""
    values = {column: " ".join(raw.get(column, "").split()) for column in UPDATABLE_FIELDS}
    values["notes"] = raw.get("notes", "").strip()
    problems = []

    def problem(column, reason):
        problems.append((column, reason))

    if not values["name"]:
        problem("name", "the name is empty; every creator needs one")
    elif len(values["name"]) > 200:
        problem("name", "is longer than 200 characters")
    if values["email"]:
        values["email"] = values["email"].lower()
        try:
            validate_email(values["email"])
            if len(values["email"]) > 254:
                raise ValidationError("too long")
        except ValidationError:
            problem("email", "is not an email address (name@example.com, at most 254 characters)")
    if values["country"]:
        values["country"] = values["country"].upper()
        if not re.fullmatch(r"[A-Z]{2}", values["country"]):
            problem("country", "write the country as its two-letter code, e.g. GB or US")
    if values["language"] and (len(values["language"]) > 16 or not LANGUAGE_PATTERN.fullmatch(values["language"])):
        problem("language", "write the language as a short code such as en or pt-BR")
    accounts = []
    for platform, label in PLATFORMS:
        value = raw.get(platform, "").strip()
        followers_raw = raw.get(f"{platform}_followers", "").strip()
        followers = None
        if followers_raw:
            followers = _parse_followers(followers_raw)
            if followers is None or followers > MAX_FOLLOWERS:
                followers = None
                problem(
                    f"{platform}_followers",
                    f"“{followers_raw[:40]}” cannot be read as a follower count for sure: "
                    "write 12500, 12.500, 12,500 or 12.5k",
                )
        if not value:
            if followers_raw:
                problem(f"{platform}_followers", f"is a follower count, but the row has no {label} handle for it")
            continue
        try:
            accounts.append((platform, handles.normalize_handle(platform, value), followers))
        except handles.InvalidHandle as error:
            problem(platform, str(error))
    if not accounts and not values["email"] and not problems:
        problem(
            "",
            "needs at least one platform handle or an email to identify the creator "
            f"(the columns {_identity_columns(layout)} are empty)",
        )
    tags = [" ".join(tag.split()) for tag in TAG_SEPARATORS.split(raw.get("tags", "")) if tag.strip()]
    for tag in tags:
        if len(tag) > 64:
            problem("tags", f"tag {tag[:20]!r}... is longer than 64 characters")
    return ParsedRow(line=line, values=values, accounts=accounts, tags=tags), problems


def _identity_columns(layout: CsvLayout) -> str:
    names = [f"“{layout.header_of(t)}”" for t in ["email", *Platform.values] if t in layout.columns]
    return ", ".join(names) or "for email and handles"


def _unquoted(cell: str) -> str:
    """A cell our own CSV files wrote as '=..., '@... (kept from running as a formula) reads as it was."""
    return cell[1:] if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@\t\r" else cell


def _parse_followers(raw: str) -> int | None:
    """A follower count as people write it in any locale, or None when it cannot be read for sure.

    "12500", "12 500", "12'500", "12.500" and "12,500" are 12,500 (a separator before groups of three
    digits groups them); "12.5k" and "12,5k" are 12,500 (one decimal mark before k or M). A fraction
    without k or M ("3.2"), mixed or misplaced separators ("1,2.3", "23,45") are not read: the row is
    flagged rather than imported as 3 or 2,345 silently."""
    text = re.sub(r"[\s_'\u00a0\u202f]", "", raw)
    match = re.fullmatch(r"([\d.,]+)([kKmM]?)", text)
    if not match or not match.group(1)[0].isdigit() or not match.group(1)[-1].isdigit():
        return None
    number, suffix = match.group(1), match.group(2).lower()
    if suffix:
        decimal = re.fullmatch(r"(\d+)(?:[.,](\d{1,2}))?", number)
        if not decimal:
            return None
        value = float(f"{decimal.group(1)}.{decimal.group(2) or 0}")
        return round(value * {"k": 1_000, "m": 1_000_000}[suffix])
    if number.isdigit():
        return int(number)
    grouped = re.fullmatch(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*", number)
    return int(re.sub(r"[.,]", "", number)) if grouped else None


def _batches(rows: Iterator[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _import_batch(
    batch: list[ParsedRow], result: ImportResult, reject, owner, tag_ids: dict[str, int], run_id, layout: CsvLayout
) -> None:
    """Upsert one batch in a constant number of queries."""
    wanted = {}
    for row in batch:
        for platform, handle, _ in row.accounts:
            wanted.setdefault(platform, set()).add(handle)
    existing_accounts = {}
    if wanted:
        query = Q()
        for platform, names in wanted.items():
            query |= Q(platform=platform, handle__in=names)
        for account in SocialAccount.objects.filter(query).only(
            "id", "platform", "handle", "creator_id", "follower_count"
        ):
            existing_accounts[(account.platform, account.handle)] = account
    emails = {row.values["email"] for row in batch if row.values["email"]}
    creators_by_email: dict[str, list[int]] = {}
    for creator_id, email in Creator.objects.filter(email__in=emails).values_list("id", "email"):
        creators_by_email.setdefault(email, []).append(creator_id)
    existing_creators = Creator.objects.in_bulk(
        {account.creator_id for account in existing_accounts.values()}
        | {ids[0] for ids in creators_by_email.values() if len(ids) == 1}
    )
    # Creators an earlier batch of this file already wrote, and the first line that named each.
    seen_lines = dict(
        ImportSeenCreator.objects.filter(run=run_id, creator_id__in=list(existing_creators)).values_list(
            "creator_id", "line"
        )
        if existing_creators
        else []
    )

    new_creators: list[Creator] = []
    pending_handles: dict[tuple[str, str], Creator] = {}
    pending_emails: dict[str, Creator] = {}
    changed: dict[int, Creator] = {}
    plans: list[tuple[ParsedRow, Creator]] = []
    first_lines: dict[int, int] = {}  # id(creator) -> the batch's first row naming them
    updated = 0
    for row in batch:
        owners = {}
        for platform, handle, _ in row.accounts:
            key = (platform, handle)
            if key in existing_accounts:
                creator = existing_creators[existing_accounts[key].creator_id]
                owners[id(creator)] = (creator, f"{layout.header_of(platform)} @{handle}")
            elif key in pending_handles:
                owners[id(pending_handles[key])] = (pending_handles[key], f"{layout.header_of(platform)} @{handle}")
        if len(owners) > 1:
            names = "; ".join(f"{where} is {creator.name!r}" for creator, where in owners.values())
            result.rejected += 1
            reject(
                layout.rejection(
                    row.line, "", f"its handles belong to different creators ({names}); keep one", row.cells
                )
            )
            continue
        email = row.values["email"]
        if not owners and len(creators_by_email.get(email, [])) > 1:
            result.rejected += 1
            reject(
                layout.rejection(
                    row.line,
                    "email",
                    "several creators have this email; add a handle one of them already has",
                    row.cells,
                )
            )
            continue
        if owners:
            creator = next(iter(owners.values()))[0]
        elif creators_by_email.get(email):
            # New handles of a creator we know by email: the same person (and their opt-out) stays one.
            creator = existing_creators[creators_by_email[email][0]]
        elif email and email in pending_emails:
            creator = pending_emails[email]
        else:
            creator = Creator(status=Creator.Status.PROSPECT, owner=owner)
            new_creators.append(creator)
            if email:
                pending_emails[email] = creator
        earlier = first_lines.get(id(creator)) or (seen_lines.get(creator.pk) if creator.pk else None)
        if earlier:
            result.merged += 1
            result.duplicates.append(Duplicate(row.line, earlier, row.values["name"] or creator.name))
        else:
            first_lines[id(creator)] = row.line
            updated += creator.pk is not None
        for column, value in row.values.items():
            if value and getattr(creator, column) != value:
                setattr(creator, column, value)
                if creator.pk:
                    changed[creator.pk] = creator
        for platform, handle, _ in row.accounts:
            pending_handles.setdefault((platform, handle), creator)
        plans.append((row, creator))

    insert_rows(Creator, new_creators)
    insert_values(
        ImportSeenCreator,
        ["run", "creator_id", "line"],
        [(run_id, creator.pk, row.line) for row, creator in plans if first_lines.get(id(creator)) == row.line],
    )
    if changed:
        now = timezone.now()
        for creator in changed.values():
            creator.updated_at = now
        Creator.objects.bulk_update(list(changed.values()), [*UPDATABLE_FIELDS, "updated_at"])
    # New accounts as plain rows [creator id, platform, handle, followers, profile URL]: a model
    # instance each would cost more than the rest of their work.
    new_accounts: dict[tuple[str, str], list] = {}
    recounted: dict[int, SocialAccount] = {}
    links = set()
    for row, creator in plans:
        for platform, handle, followers in row.accounts:
            account = existing_accounts.get((platform, handle))
            if account is not None:
                if followers is not None and account.follower_count != followers:
                    account.follower_count = followers
                    recounted[account.pk] = account
            elif (pending := new_accounts.get((platform, handle))) is None:
                new_accounts[(platform, handle)] = [
                    creator.pk, platform, handle, followers, handles.profile_url(platform, handle)
                ]  # fmt: skip
            elif followers is not None:
                pending[3] = followers
        for tag_id in _tag_ids(row.tags, tag_ids):
            links.add((creator.pk, tag_id))
    now = timezone.now()
    insert_values(
        SocialAccount,
        ["creator", "platform", "handle", "follower_count", "profile_url", "created_at", "updated_at"],
        [(*account, now, now) for account in new_accounts.values()],
    )
    if recounted:
        SocialAccount.objects.bulk_update(list(recounted.values()), ["follower_count"])
    insert_values(Creator.tags.through, ["creator_id", "tag_id"], list(links), ignore_conflicts=True)
    result.created += len(new_creators)
    result.updated += updated
    result.accounts_created += len(new_accounts)


def insert_rows(model, objects: list) -> None:
    """Insert new rows; on PostgreSQL with COPY (ids taken from the table's sequence first), which
    is several times faster than INSERT for the import's thousands of rows per batch."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects)
        return
    from psycopg.types.json import Jsonb

    meta, quote = model._meta, connection.ops.quote_name
    fields = list(meta.concrete_fields)
    json_fields = {field.attname for field in fields if isinstance(field, models.JSONField)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
        )
        for obj, (pk,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = pk
        columns = ", ".join(quote(field.column) for field in fields)
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                obj._prepare_related_fields_for_save(operation_name="insert_rows")
                # Plain values (str, int, datetime, None) go to psycopg as they are; JSON is wrapped.
                row = [field.pre_save(obj, True) for field in fields]
                for position, field in enumerate(fields):
                    if field.attname in json_fields:
                        row[position] = Jsonb(row[position])
                copy.write_row(row)
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias


def insert_values(model, field_names: list[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Insert plain tuples into a model's table without building a model instance per row: the seen
    creators and tag links are a third of an import's rows and need nothing but their columns. On
    PostgreSQL one statement over arrays (`unnest`), else one executemany; with `ignore_conflicts`
    a row that is already there is skipped."""
    if not rows:
        return
    meta, quote = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in field_names]
    columns = ", ".join(quote(field.column) for field in fields)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    # Only our models' table and column names go into the text; every value is a parameter.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT * FROM unnest({arrays}){conflict}",  # noqa: S608
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.executemany(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}){conflict}",  # noqa: S608
                [
                    [field.get_db_prep_value(value, connection) for field, value in zip(fields, row, strict=True)]
                    for row in rows
                ],
            )


def _tag_ids(names: list[str], cache: dict[str, int]) -> list[int]:
    """Tag ids by case-insensitive name, creating missing tags; cached across batches."""
    missing = {name.lower(): name for name in names if name.lower() not in cache}
    if missing:
        Tag.objects.bulk_create([Tag(name=name) for name in missing.values()], ignore_conflicts=True)
        for tag_id, name in Tag.objects.filter(name__in=list(missing.values())).values_list("id", "name"):
            cache[name.lower()] = tag_id
        for lowered in missing:
            if lowered not in cache:  # stored earlier with other capitals
                tag = Tag.objects.filter(name__iexact=lowered).only("id").first()
                cache[lowered] = tag.pk
    return [cache[name.lower()] for name in names]
