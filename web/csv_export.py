"""CSV files of the lists people filter, streamed, and safe to open in a spreadsheet: every cell goes
through core.csvsafe (a cell that starts with = + - @, a tab or a carriage return is shown, not run)."""

import csv

from django.http import StreamingHttpResponse

from core.csvsafe import neutralise


def safe_cell(value) -> str:
    """A value as text a spreadsheet shows as it is, never as a formula."""
    return neutralise("" if value is None else str(value))


class _Echo:
    def write(self, value):
        return value


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """Stream `rows` (iterables of values) as a CSV download, every cell made safe."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # a BOM, so spreadsheet apps read the file as UTF-8
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([safe_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
