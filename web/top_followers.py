"""The creators list sorted by followers (each creator's largest count, most first), fast at 100,000.

Sorting by a per-creator subquery computes it for every creator before the first row comes out (a
second or more at 100,000 creators). Instead the page walks the accounts in the order of the
`crm_account_followers_walk` index, keeping the account that is its creator's largest (an anti-join
on `crm_account_creator_top`), and stops after one page: the same rows in the same order as
`ORDER BY top_followers DESC, id DESC`. Creators without a counted account (top -1) come after, by id.
A narrow filter (few matching creators) is cheaper the old way, so it stays that way there.
"""

from django.db.models import Exists, OuterRef, Q

from crm.models import SocialAccount
from web.pagination import Page, _read, _write

NARROW = 5000  # matching creators below which the per-creator subquery is the cheaper plan


def _counted():
    return SocialAccount.objects.filter(follower_count__isnull=False)


def paginate_by_followers(queryset, cursor: str, size: int) -> list | None:
    """(creator ids, their top count) for one page after `cursor`, or None when the cursor is not ours."""
    after = _read(cursor)
    if after is not None and not (isinstance(after[0], int) and isinstance(after[1], int)):
        return None
    count = OuterRef("follower_count")
    larger = (
        _counted()
        .filter(creator_id=OuterRef("creator_id"))
        .filter(Q(follower_count__gt=count) | Q(follower_count=count, id__gt=OuterRef("id")))
    )
    tops = _counted().filter(~Exists(larger), creator_id__in=queryset.order_by().values("pk"))
    rows: list[tuple[int, int]] = []
    if after is None or after[0] >= 0:
        if after is not None:
            value, last_id = after
            # The redundant `<=` lets the index scan start at the cursor instead of filtering the rows above it.
            tops = tops.filter(follower_count__lte=value).filter(
                Q(follower_count__lt=value) | Q(follower_count=value, creator_id__lt=last_id)
            )
        tops = tops.order_by("-follower_count", "-creator_id").values_list("creator_id", "follower_count")
        rows = list(tops[: size + 1])
    if len(rows) <= size:
        uncounted = queryset.filter(~Exists(_counted().filter(creator_id=OuterRef("pk"))))
        if after is not None and after[0] < 0:
            uncounted = uncounted.filter(pk__lt=after[1])
        rows += [(pk, -1) for pk in uncounted.order_by("-pk").values_list("pk", flat=True)[: size + 1 - len(rows)]]
    return rows


def followers_page(queryset, cursor: str, size: int, *, matching: int | None) -> Page | None:
    """The page of `queryset` (creators, with their prefetches) by followers; None: use the plain
    keyset pages (a narrow filter, or a cursor from them)."""
    if matching is not None and matching < NARROW:
        return None
    rows = paginate_by_followers(queryset, cursor, size)
    if rows is None:
        return None
    more = len(rows) > size
    rows = rows[:size]
    top = dict(rows)
    creators = {creator.pk: creator for creator in queryset.filter(pk__in=list(top))}
    page = []
    for pk, count in rows:
        creator = creators[pk]
        creator.top_followers = count
        page.append(creator)
    next_cursor = _write(rows[-1][1], rows[-1][0]) if more else ""
    return Page(rows=page, next_cursor=next_cursor, is_first=_read(cursor) is None)
