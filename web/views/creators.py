"""Creators: the searchable list with bulk actions and one creator's page (the CSV import: web/views/imports.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from crm import services
from crm.filtersets import CreatorFilter
from crm.models import Creator, SocialAccount
from web import bulk
from web.access import get_visible, page, workable_campaigns
from web.csv_export import csv_response
from web.forms import BulkCreatorsForm, error_text
from web.models import BulkJob
from web.pagination import Sort, paginate
from web.top_followers import followers_page
from web.views import content

PAGE_SIZE = 50
SORTS = {
    "name": Sort("Name (A to Z)", "name"),
    "newest": Sort("Newest first", "created_at", descending=True),
    "oldest": Sort("Oldest first", "created_at"),
    "updated": Sort("Recently changed", "updated_at", descending=True),
    "followers": Sort("Most followers", "top_followers", descending=True),
}


def _with_top_followers(queryset):
    """Each creator's largest follower count on any account (-1 without one), for the followers sort."""
    top = (
        SocialAccount.objects.filter(creator_id=OuterRef("pk"), follower_count__isnull=False)
        .order_by("-follower_count")
        .values("follower_count")[:1]
    )
    return queryset.annotate(top_followers=Coalesce(Subquery(top), Value(-1)))


FILTER_LABELS = {
    "q": "Search",
    "platform": "Platform",
    "tag": "Tag",
    "country": "Country",
    "followers_min": "Followers from",
    "followers_max": "Followers to",
    "stage": "Campaign stage",
    "consent": "Consent",
    "status": "Status",
}


def _work_campaigns(user):
    """The campaigns this person may add creators to: those they work on, not completed."""
    return workable_campaigns(user).exclude(status="completed").order_by("name")


@page
def creator_list(request):
    """Search, filter and sort creators; keyset pages of 50, fast at 100,000 creators."""
    filterset = CreatorFilter(request.GET or None, queryset=Creator.objects.all(), request=request)
    fields = filterset.form.fields
    for name in list(fields):
        if name not in FILTER_LABELS:
            del fields[name]
        else:
            fields[name].label = FILTER_LABELS[name]
    sort_key = request.GET.get("sort") if request.GET.get("sort") in SORTS else "name"
    queryset = (filterset.qs if filterset.is_bound else Creator.objects.all()).prefetch_related(
        "tags", Prefetch("accounts", to_attr="account_list")
    )
    # How many match, when something is asked (the whole table is never counted).
    matching = queryset.count() if filterset.is_bound and any(request.GET.get(name) for name in FILTER_LABELS) else None
    after = request.GET.get("after", "")
    creators = sort_key == "followers" and followers_page(queryset, after, PAGE_SIZE, matching=matching)
    if not creators:
        if sort_key == "followers":
            queryset = _with_top_followers(queryset)
        creators = paginate(queryset, SORTS[sort_key], after, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("after", None)
    filter_query = query.copy()
    filter_query.pop("sort", None)
    context = {
        "filter_query": filter_query.urlencode(),
        "section": "creators",
        "filter_form": filterset.form,
        "page": creators,
        "matching": matching,
        "sorts": SORTS,
        "sort": sort_key,
        "query": query.urlencode(),
        "campaigns": _work_campaigns(request.user),
        "bulk_form": BulkCreatorsForm(
            campaigns=_work_campaigns(request.user), auto_id="bulk_%s"
        ),  # ids unlike the filter's
    }
    return render(request, "web/creators/list.html", context)


def _filtered(request):
    """The list's filter for the CSV export, read as the signed-in person (a campaign condition looks
    at the campaigns they see; without the request it would match nobody)."""
    filterset = CreatorFilter(request.GET or None, queryset=Creator.objects.all(), request=request)
    return filterset.qs if filterset.is_bound and filterset.is_valid() else Creator.objects.all()


def _filter_words(query: str) -> list[str]:
    """The filter in words for the confirmation ("Country: DE", "Search: muller")."""
    params = QueryDict(query or "")
    return [f"{FILTER_LABELS[name]}: {value}" for name, value in params.items() if name in FILTER_LABELS and value]


@page
def creator_export(request):
    """The filtered list as CSV (name, email, country, status, tags, accounts with followers)."""
    sort_key = request.GET.get("sort") if request.GET.get("sort") in SORTS else "name"
    return _export_csv(_filtered(request), sort_key)


def _export_csv(queryset, sort_key: str):
    """Creators as a streamed CSV, read 2,000 at a time (100,000 rows never sit in memory)."""
    if sort_key == "followers":
        queryset = _with_top_followers(queryset)
    # Plain values, not model instances, and each chunk's tags and accounts in one query each: thousands
    # of rows stream several times faster (bench/pages.py), the file is the same.
    people = queryset.order_by(*SORTS[sort_key].ordering).values_list("pk", "name", "email", "country", "status")
    status_label = dict(Creator.Status.choices)

    def chunk_rows(chunk):
        ids = [person[0] for person in chunk]
        tags, accounts = {}, {}
        tagged = Creator.tags.through.objects.filter(creator_id__in=ids).order_by("tag__name")
        for creator_id, name in tagged.values_list("creator_id", "tag__name"):
            tags.setdefault(creator_id, []).append(name)
        for creator_id, platform, handle, followers in (
            SocialAccount.objects.filter(creator_id__in=ids)
            .order_by("platform", "handle")
            .values_list("creator_id", "platform", "handle", "follower_count")
        ):
            accounts.setdefault(creator_id, []).append(
                f"{platform}:@{handle}" + (f" ({followers})" if followers is not None else "")
            )
        for pk, name, email, country, status in chunk:
            yield [
                pk, name, email, country, status_label.get(status, status),
                ", ".join(tags.get(pk, [])), "; ".join(accounts.get(pk, [])),
            ]  # fmt: skip

    def rows():
        chunk = []
        for person in people.iterator(chunk_size=2000):
            chunk.append(person)
            if len(chunk) == 2000:
                yield from chunk_rows(chunk)
                chunk = []
        yield from chunk_rows(chunk)

    return csv_response("creators.csv", ["id", "name", "email", "country", "status", "tags", "accounts"], rows())


@page
def creator_bulk(request):
    """Tag the ticked creators or add them to a campaign, then go back to the same list."""
    if request.method != "POST":
        return redirect("web:creators")
    back = request.POST.get("back", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}) or not back.startswith("/"):
        back = reverse("web:creators")
    form = BulkCreatorsForm(request.POST, campaigns=_work_campaigns(request.user))
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label or 'Creators'}: {' '.join(errors)}")
        return redirect(back)
    data = form.cleaned_data
    if data["scope"] == "all":
        return _bulk_matching(request, form, back)
    if data["action"] == "export":
        return _export_csv(Creator.objects.filter(pk__in=data["creator"]), "name")
    try:
        if data["action"] == "tag":
            count = services.tag_creators(data["creator"], data["tag"].strip(), actor=request.user)
            messages.success(request, f"Tagged {count} creator(s) “{data['tag'].strip()}”.")
        else:
            campaign = data["campaign"]
            count = services.add_to_campaign(campaign, data["creator"], actor=request.user)
            messages.success(request, f"Added {count} creator(s) to {campaign.name}.")
    except ValidationError as error:
        messages.error(request, error_text(error))
    return redirect(back)


def _bulk_matching(request, form, back):
    """The action on every creator the filter matches: export streams at once; a change is shown
    first with the count ("Tag 12,345 creators …?") and done once confirmed, in batches: inside the
    request up to BULK_INLINE_LIMIT creators, else in the queue, followed on the job's page."""
    data = form.cleaned_data
    queryset = bulk.matching(data["filter"], request.user)
    if queryset is None:
        messages.error(request, "Filter: it is not valid any more; filter the list again.")
        return redirect(back)
    if data["action"] == "export":
        return redirect(f"{reverse('web:creator_export')}?{QueryDict(data['filter']).urlencode()}")
    count = services.count_matching(queryset)
    if not data["confirmed"]:
        context = {"section": "creators", "form": form, "data": data, "back": back, "count": count,
                   "count_text": f"{count:,}", "filters": _filter_words(data["filter"]),
                   "queued": bulk.runs_in_queue(count)}  # fmt: skip
        return render(request, "web/creators/bulk_confirm.html", context)
    try:
        applied = bulk.apply_to_matching(
            data["action"], queryset, actor=request.user, matched=count, filter_query=data["filter"],
            tag_name=data["tag"], campaign=data["campaign"],
        )  # fmt: skip
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect(back)
    if applied.job:
        link = reverse("web:bulk_job", args=[applied.job.pk])
        words = _queued_words(applied.job, count)
        messages.info(request, format_html('{} — <a href="{}">follow its progress</a>.', words, link))
        return redirect(link)
    if data["action"] == "tag":
        messages.success(request, f"Tagged {applied.count:,} creator(s) “{data['tag'].strip()}”.")
    else:
        messages.success(request, f"Added {applied.count:,} creator(s) to {data['campaign'].name}.")
    return redirect(back)


def _queued_words(job: BulkJob, count: int) -> str:
    if job.action == BulkJob.Action.TAG:
        return f"Tagging {count:,} creators {job.target} in the background"
    return f"Adding {count:,} creators to {job.target} in the background"


@page
def bulk_job(request, pk: int):
    """A bulk action running in the queue: its progress (htmx polls the fragment until it is
    finished), then what it did or, in words, why it stopped. One's own (admins: everyone's)."""
    job = get_visible(BulkJob.objects.all(), request.user, pk=pk)
    template = "web/creators/_bulk_status.html" if request.headers.get("HX-Request") else "web/creators/bulk_job.html"
    context = {"section": "creators", "job": job, "filters": _filter_words(job.filter_query)}
    return render(request, template, context)


@page
def creator_detail(request, pk: int):
    """One creator: accounts, tags, campaigns, posts with their rights, and the timeline (web/views/content.py)."""
    creator = get_object_or_404(Creator.objects.select_related("owner").prefetch_related("accounts", "tags"), pk=pk)
    return content.render_creator(request, creator)


@page
def creator_merge(request, pk: int):
    """Merge this record (a prospect) into the creator it turns out to be; then show that creator."""
    if request.method != "POST":
        return redirect("web:creator", pk=pk)
    creator = get_visible(Creator.objects.all(), request.user, pk=pk)
    into = (
        Creator.objects.filter(pk=request.POST.get("into", "")).first()
        if request.POST.get("into", "").isdigit()
        else None
    )
    if into is None:
        messages.error(request, "Merge into: no creator has this id.")
        return redirect("web:creator", pk=pk)
    try:
        into = services.merge_creators(creator, into, actor=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("web:creator", pk=pk)
    messages.success(request, f"Merged {creator.name} into {into.name}; the consent record stays on both.")
    return redirect("web:creator", pk=into.pk)
