"""Every CSV this app writes goes through here, so a cell cannot run as a spreadsheet formula.

A value that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula (CSV injection: `=HYPERLINK(...)` leaking data, `=cmd|...` on old
Excel). Creator names, handles, notes and rejected import cells come from outside, so each text cell
that could be read so gets a leading apostrophe, which spreadsheets show as text. Numbers stay numbers.
"""

import csv
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """The cell as it is safe to write: text that a spreadsheet would evaluate is prefixed with '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    return [neutralise(value) for value in row]


class SafeWriter:
    """csv.writer with every cell neutralised; writerow returns what the underlying writer does
    (the written line, for streaming responses that echo it)."""

    def __init__(self, target, **options):
        self._writer = csv.writer(target, **options)

    def writerow(self, row: Iterable):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def writer(target, **options) -> SafeWriter:
    """Use instead of csv.writer for anything a person may open in a spreadsheet."""
    return SafeWriter(target, **options)
