"""Accent- and case-insensitive text search: "muller" finds "Müller", on PostgreSQL and SQLite alike.

Both databases get a function `immutable_unaccent(text)`: on PostgreSQL a wrapper over the `unaccent`
extension declared IMMUTABLE so trigram indexes can hold it (migration
0011_accent_insensitive_search), on SQLite a Python function registered on each connection. The
needle is folded in Python the same way, so `folded_contains("name", "Müll")` is one indexed LIKE.
"""

import unicodedata

from django.db.backends.signals import connection_created
from django.db.models import CharField, Q, Transform

EXTRA = str.maketrans({"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L"})


def fold(text: str) -> str:
    """Lower-case without accents: "Müller" -> "muller", "Ørsted" -> "orsted"."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return stripped.translate(EXTRA).lower()


def folded_contains(field: str, needle: str) -> Q:
    """`field` contains `needle`, ignoring case and accents."""
    return Q(**{f"{field}__folded__contains": fold(needle)})


def _register_sqlite(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("immutable_unaccent", 1, fold, deterministic=True)


def install() -> None:
    """Register the SQLite function and the `__folded` transform (called from CrmConfig.ready)."""
    connection_created.connect(_register_sqlite, dispatch_uid="crm.search.sqlite_unaccent")
    CharField.register_lookup(Folded)  # EmailField and the others inherit it


class Folded(Transform):
    """`name__folded`: lower(immutable_unaccent(name)), the expression the trigram indexes hold."""

    lookup_name = "folded"
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.lhs)
        return f"LOWER(immutable_unaccent({sql}))", params
