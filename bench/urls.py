"""The application's URLs plus bare views, the baselines of the benchmarks: one answering 200 for
bench/webhook_ingest.py, one listing creators with `values()` for bench/api_list.py."""

from django.http import HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as application
from crm.models import Creator, SocialAccount

CREATOR_FIELDS = ["id", "name", "email", "country", "language", "status", "owner_id", "opted_out_at",
                  "contact_allowed_at", "erased_at", "created_at", "updated_at"]  # fmt: skip
ACCOUNT_FIELDS = ["id", "creator_id", "platform", "handle", "platform_user_id", "follower_count", "profile_url"]


@csrf_exempt
def bare(request):
    return HttpResponse("ok")


def bare_creators(request):
    """The rows of a page of GET /api/v1/creators/ in three queries, keyset on -id, no framework."""
    size = int(request.GET.get("page_size", 100))
    rows = Creator.objects.order_by("-id")
    if "before" in request.GET:
        rows = rows.filter(id__lt=int(request.GET["before"]))
    creators = list(rows.values(*CREATOR_FIELDS)[: size + 1])
    more, creators = len(creators) > size, creators[:size]
    ids = [creator["id"] for creator in creators]
    accounts, tags = {}, {}
    for account in (
        SocialAccount.objects.filter(creator_id__in=ids).order_by("platform", "handle").values(*ACCOUNT_FIELDS)
    ):
        accounts.setdefault(account.pop("creator_id"), []).append(account)
    through = Creator.tags.through.objects.filter(creator_id__in=ids).order_by("tag__name")
    for creator_id, name in through.values_list("creator_id", "tag__name"):
        tags.setdefault(creator_id, []).append(name)
    for creator in creators:
        creator["owner"] = creator.pop("owner_id")
        creator["accounts"] = accounts.get(creator["id"], [])
        creator["tags"] = tags.get(creator["id"], [])
        creator["contactable"] = (
            creator["opted_out_at"] is None and creator["erased_at"] is None and creator["status"] != "do_not_contact"
        )
    following = f"{request.path}?page_size={size}&before={ids[-1]}" if more else None
    return JsonResponse({"next": following, "results": creators})


urlpatterns = [path("bench/bare/", bare), path("bench/bare/creators/", bare_creators), *application]
