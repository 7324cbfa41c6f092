"""Saved column mappings of the creator importer: how a spreadsheet's headers match our fields, kept
under a name so the next file with the same headers is matched without asking again.

The import page saves one from a file's matched columns (`save_mapping`, overwriting one's own of
the same name); the API creates, changes and deletes them as a resource (`create_mapping`,
`update_mapping`, `delete_mapping`). Either way the columns are checked by `column_problems`: every
field one of the import's own, the same header once, and enough to import with (a name, and an email
or a handle to recognise the creator by).
"""

from crm import access, importer
from crm.errors import DomainError
from crm.models import ColumnMapping

MAX_NAME = 100


def offered_mapping(headers: list[str], user) -> ColumnMapping | None:
    """The saved mapping for files with these headers that this person may use: their own first,
    then the team's; the most recently changed of each."""
    candidates = access.visible(ColumnMapping.objects.all(), user).filter(signature=importer.header_signature(headers))
    return min(candidates.order_by("-updated_at", "-id")[:20], key=lambda m: m.owner_id != user.pk, default=None)


def save_mapping(name: str, headers: list[str], mapping: list[str], *, actor, for_team: bool) -> ColumnMapping:
    """Save (or overwrite one's own of the same name) the matched columns of an uploaded file, already
    checked by the import page; offered again for files with the same headers."""
    if len(name) > MAX_NAME:
        raise DomainError({"save_as": [f"A name of at most {MAX_NAME} characters."]})
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


def create_mapping(*, actor, name: str, columns: list, for_team: bool = False) -> ColumnMapping:
    """A new saved mapping of the actor's, from [header, field] pairs; a name they already use is refused
    (the page's "save as" overwrites instead: there the person sees what they replace)."""
    name = _checked_name(name, owner_id=actor.pk)
    columns = _checked_columns(columns)
    return ColumnMapping.objects.create(
        owner=actor,
        name=name,
        for_team=for_team,
        signature=importer.header_signature([header for header, _ in columns]),
        columns=columns,
    )


def update_mapping(
    saved: ColumnMapping, *, actor, name: str | None = None, columns: list | None = None, for_team: bool | None = None
) -> ColumnMapping:
    """Change a saved mapping's name, columns or who it is for (None keeps it). Its owner or any manager
    changes a team one; only its owner (or an admin) makes it private or the team's, so nobody takes
    a mapping away from the team it was shared with, or shares someone's private one."""
    if not access.can_change(saved, actor):
        raise DomainError({"__all__": ["This mapping is someone else's."]})
    changed = ["updated_at"]
    if name is not None:
        saved.name = _checked_name(name, owner_id=saved.owner_id, exclude=saved.pk)
        changed.append("name")
    if columns is not None:
        saved.columns = _checked_columns(columns)
        saved.signature = importer.header_signature([header for header, _ in saved.columns])
        changed += ["columns", "signature"]
    if for_team is not None and for_team != saved.for_team:
        if saved.owner_id != actor.pk and not access.is_admin(actor):
            raise DomainError({"for_team": ["Only the mapping's owner (or an admin) decides who it is for."]})
        saved.for_team = for_team
        changed.append("for_team")
    saved.save(update_fields=changed)
    return saved


def rename_mapping(saved: ColumnMapping, name: str, *, actor) -> ColumnMapping:
    """A new name for a saved mapping; names are one per person."""
    return update_mapping(saved, actor=actor, name=name)


def delete_mapping(saved: ColumnMapping, *, actor) -> None:
    """Forget a saved mapping; imports that used it keep their own copy of the columns."""
    if not access.can_change(saved, actor):
        raise DomainError({"__all__": ["This mapping is someone else's."]})
    saved.delete()


def column_problems(columns) -> dict[str, dict] | list[str]:
    """What is wrong with a mapping's [header, field] pairs, in the shape the API gives a list's item
    errors: {position: {"header" or "field": [messages]}} for the pairs that are wrong, or, when every
    pair is fine, the mapping's problems as a whole (plain messages). Empty when it can be saved."""
    if not isinstance(columns, list | tuple) or not columns:
        return ["Give the columns as a list of [header, field] pairs, at least one."]
    if len(columns) > importer.MAX_COLUMNS:
        return [f"A file has at most {importer.MAX_COLUMNS} columns; this mapping has {len(columns)}."]
    if not all(
        isinstance(pair, list | tuple) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
        for pair in columns
    ):
        return ["Give each column as a [header, field] pair of texts."]
    known = ", ".join(importer.KNOWN_COLUMNS)
    items: list[dict] = [{} for _ in columns]
    first_of: dict[str, int] = {}
    for position, (header, target) in enumerate(columns):
        if target and target not in importer.KNOWN_COLUMNS:
            items[position]["field"] = [
                f"“{target[:40]}” is not one of the import's fields ({known}); leave it empty to ignore the column."
            ]
        normalised = importer.normalize_header(header)
        if normalised in first_of:
            earlier = columns[first_of[normalised]]
            if earlier[1] != target:
                items[position]["header"] = [
                    f"“{header}” and “{earlier[0]}” are the same header to a saved mapping (case, spaces and "
                    "punctuation do not count), matched to different fields: keep one."
                ]
        else:
            first_of[normalised] = position
    if not any(items):
        headers, mapping = [header for header, _ in columns], [target for _, target in columns]
        problems = importer.mapping_problems(headers, mapping)
        general = problems.pop("__all__", [])
        for position, messages in problems.items():
            items[int(position)]["field"] = messages
        if not any(items):
            return general
    return {str(position): problems for position, problems in enumerate(items) if problems}


def _checked_columns(columns) -> list[list[str]]:
    problems = column_problems(columns)
    if problems:
        raise DomainError({"columns": problems})
    return [[header.strip(), target] for header, target in columns]


def _checked_name(name: str, *, owner_id: int, exclude: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME:
        raise DomainError({"name": [f"Give a name of 1 to {MAX_NAME} characters."]})
    taken = ColumnMapping.objects.filter(owner_id=owner_id, name=name)
    if (taken.exclude(pk=exclude) if exclude else taken).exists():
        raise DomainError({"name": [f"There is already a mapping named “{name}”; choose another name."]})
    return name
