"""Bulk actions on a whole filtered set of creators ("select all 12,345 matching"): the filter is run
again here on the server, never sent as a list of ids, and the set is walked in keyset batches so
100,000 creators take a bounded amount of memory and short transactions."""

from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone

from crm import access
from crm.errors import DomainError
from crm.models import Campaign, CampaignMember, Creator
from crm.services.creators import tag_named

BATCH = 2000

# Called inside each batch's transaction with (creators in the batch, rows it added): a job that
# records its progress there (web/bulk.py) never counts a batch that was rolled back.
OnBatch = Callable[[int, int], None]


def creator_batches(queryset, size: int = BATCH):
    """The ids of a filtered set of creators in id order, `size` at a time, by keyset (WHERE id > last
    LIMIT size): no OFFSET, no whole list in memory, and rows the action changes are not seen twice."""
    ids = queryset.order_by("pk").values_list("pk", flat=True)
    last = 0
    while True:
        chunk = list(ids.filter(pk__gt=last)[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]


def _insert_for_batch(table: str, columns: list[str], values: list, queryset, chunk: list[int]) -> int:
    """INSERT one row per creator of this batch, set-based (INSERT ... SELECT from the filter itself,
    bounded to the batch's id range), skipping rows that exist; returns how many were inserted."""
    ids_sql, ids_params = (
        queryset.order_by().filter(pk__gte=chunk[0], pk__lte=chunk[-1]).values("pk").query.sql_with_params()
    )
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(values))
    # Only our models' table and column names go into the text; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"SELECT {placeholders}, matched.id FROM {quote(Creator._meta.db_table)} matched "
        f"WHERE matched.id IN ({ids_sql}) ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *ids_params])
        return max(cursor.rowcount, 0)


def count_matching(queryset) -> int:
    """How many creators a filtered set holds now (the number a confirmation shows)."""
    return queryset.order_by().count()


def clean_tag_name(tag_name: str) -> str:
    """The tag name a bulk tag uses (spaces folded), or a DomainError on `tag` saying what is wrong."""
    tag_name = " ".join((tag_name or "").split())
    if not tag_name:
        raise DomainError({"tag": ["Give the tag a name."]})
    if len(tag_name) > 64:
        raise DomainError({"tag": ["A tag has at most 64 characters."]})
    return tag_name


def tag_matching(queryset, tag_name: str, *, actor, size: int = BATCH, on_batch: OnBatch | None = None) -> int:
    """Put one tag on every creator of a filtered set; returns how many got it (those that had it
    already are not counted). Each batch is its own transaction; running it twice changes nothing."""
    tag = tag_named(clean_tag_name(tag_name))
    through = Creator.tags.through
    added = 0
    for chunk in creator_batches(queryset, size):
        with transaction.atomic():
            count = _insert_for_batch(through._meta.db_table, ["tag_id", "creator_id"], [tag.pk], queryset, chunk)
            if on_batch:
                on_batch(len(chunk), count)
        added += count
    return added


def ensure_campaign_open(campaign: Campaign, actor) -> None:
    """A campaign creators may be added to in bulk: one the actor works on, not completed."""
    access.ensure_workable(campaign, actor)
    if campaign.status == Campaign.Status.COMPLETED:
        raise DomainError({"campaign": ["The campaign is completed; reopen it to add creators."]})


def add_matching_to_campaign(
    campaign: Campaign, queryset, *, actor, size: int = BATCH, on_batch: OnBatch | None = None
) -> int:
    """Add every creator of a filtered set to a campaign the actor works on, as prospects; those
    already in it stay as they are. Returns how many were added; the unique member makes repeats and
    two people at once harmless."""
    ensure_campaign_open(campaign, actor)
    columns = ["campaign_id", "stage", "stage_changed_at", "created_at", "creator_id"]
    added = 0
    for chunk in creator_batches(queryset, size):
        now = CampaignMember._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
        with transaction.atomic():
            values = [campaign.pk, CampaignMember.Stage.PROSPECT, now, now]
            count = _insert_for_batch(CampaignMember._meta.db_table, columns, values, queryset, chunk)
            if on_batch:
                on_batch(len(chunk), count)
        added += count
    return added
