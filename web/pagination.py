"""Keyset pages: "the next 50 after this row", so page 2,000 costs what page 1 costs and no page
counts the whole table. The cursor is the last row's sort key, signed so it cannot be forged."""

import datetime
from dataclasses import dataclass

from django.core import signing
from django.db.models import Q

SALT = "web.pagination"


@dataclass(frozen=True)
class Sort:
    """A sort: the label people pick, and one field plus the id as the tie-breaker."""

    label: str
    field: str
    descending: bool = False

    @property
    def ordering(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [sign + self.field, sign + "id"]


@dataclass
class Page:
    rows: list
    next_cursor: str
    is_first: bool


def paginate(queryset, sort: Sort, cursor: str, size: int) -> Page:
    """One page of `size` rows after `cursor` (a bad or forged cursor starts from the top)."""
    queryset = queryset.order_by(*sort.ordering)
    after = _read(cursor)
    if after is not None:
        value, last_id = after
        beyond = "lt" if sort.descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{sort.field}__{beyond}": value}) | Q(**{sort.field: value, f"id__{beyond}": last_id})
        )
    rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _write(getattr(rows[-1], sort.field), rows[-1].pk) if more else ""
    return Page(rows=rows, next_cursor=next_cursor, is_first=after is None)


def _write(value, pk) -> str:
    if isinstance(value, datetime.datetime):
        value = {"dt": value.isoformat()}
    return signing.dumps([value, pk], salt=SALT, compress=True)


def _read(cursor: str):
    if not cursor:
        return None
    try:
        value, pk = signing.loads(cursor, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if isinstance(value, dict) and "dt" in value:
        try:
            value = datetime.datetime.fromisoformat(value["dt"])
        except (TypeError, ValueError):
            return None
    return value, pk
