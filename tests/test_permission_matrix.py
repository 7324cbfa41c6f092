"""The permission matrix: every API resource and action, every page and page action, for every persona,
against the rules of crm/access.py (see its docstring), from the one table below.

Personas: anonymous, viewer (AccessRole viewer, on our campaign's team: reads it, changes nothing),
owner (owns our campaign), teammate (on its team), outsider (a manager of another team, with a campaign
of their own), admin (superuser). The world is tests/permission_world.py's, built once for the module;
each request runs in a rolled-back savepoint, so every persona meets the same fresh world.

Adding a resource or a page is one row: `api(...)` or `page(...)` with the URL, a valid body and one of
the expectation shapes (`CAMPAIGN_READ`, `write_shared(201)`...). The completeness tests fail when a
registered viewset action or a page route has no row. A status of `Without(200)` means "answered, but
without the thing": the row's probe (the id in a list, the change made) must be False, where a plain
2xx/3xx requires it True. A 400 is only an access decision where a row says so (`notes`): a body that
names another team's campaign or post reads as an unknown id.
"""

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, reverse

from config.api_urls import router
from crm.models import CampaignMember, ColumnMapping, ConsentEvent, PermissionRequest, SocialAccount
from outreach.models import (
    BrandPost,
    Comment,
    CommentRightsRequest,
    ConversationMessage,
    DiscoveredMedia,
    HashtagSearch,
    KeywordRule,
    MessageTemplate,
    OutreachMessage,
    PrivateReply,
    SenderAccount,
)
from tests import permission_world as pw
from tests.database import kept_for_module
from tests.permission_world import PERSONAS, SIGN_IN, Case, Without, perform
from web import urls as web_urls
from web.models import ImportJob, Preferences


def expect(anonymous, viewer, owner, teammate, outsider, admin) -> dict:
    return dict(zip(PERSONAS, (anonymous, viewer, owner, teammate, outsider, admin), strict=True))


W200 = Without(200)
W302 = Without(302)

# --- The API's shapes ------------------------------------------------------------------------------
READ_ALL = expect(401, 200, 200, 200, 200, 200)  # shared by the whole team
CAMPAIGN_READ = expect(401, 200, 200, 200, 404, 200)  # follows our campaign: another team's is not found
CAMPAIGN_LIST = expect(401, 200, 200, 200, W200, 200)  # ...and absent from their lists
OWNED_READ = expect(401, 404, 200, 404, 404, 200)  # belongs to the owner alone (admins see all)
OWNED_LIST = expect(401, W200, 200, W200, W200, 200)
NO_SUCH_METHOD = expect(401, 403, 405, 405, 405, 405)  # roles are checked before the method


def write_shared(ok):
    return expect(401, 403, ok, ok, ok, ok)


def write_campaign(ok):
    return expect(401, 403, ok, ok, 404, ok)


def write_owned(ok):
    return expect(401, 403, ok, 404, 404, ok)


def write_sender(ok):  # seen by all, changed by its owner and admins: 403, not 404
    return expect(401, 403, ok, 403, 403, ok)


# --- The pages' shapes -----------------------------------------------------------------------------
PAGE = expect(SIGN_IN, 200, 200, 200, 200, 200)
CAMPAIGN_PAGE = expect(SIGN_IN, 200, 200, 200, 404, 200)
OWNED_PAGE = expect(SIGN_IN, 404, 200, 404, 404, 200)
POST_ONLY = expect(405, 405, 405, 405, 405, 405)  # require_POST answers before sign-in is asked
WRITE_FORM = expect(SIGN_IN, 403, 200, 200, 200, 200)  # a form page that refuses viewers outright


def page_write(ok):
    return expect(SIGN_IN, 403, ok, ok, ok, ok)


def page_write_campaign(ok):
    return expect(SIGN_IN, 403, ok, ok, 404, ok)


def page_write_sender(ok):
    return expect(SIGN_IN, 403, ok, 403, 403, ok)


def page_write_owned(ok):
    return expect(SIGN_IN, 403, ok, 404, 404, ok)


def public(status):
    return expect(*[status] * len(PERSONAS))


# --- Probes: does the answer hold the thing? --------------------------------------------------------
def listed(pick, key="id"):
    """The picked object's id is among the results of a list answer."""

    def probe(response, w):
        return pick(w) in {row[key] for row in response.json()["results"]}

    return probe


def shows(words):
    """The page shows these words."""
    return lambda response, w: words in response.content.decode()


def happened(check):
    """The write took effect (read inside the request's savepoint, before it is rolled back)."""
    return lambda response, w: bool(check(w))


def status_of(model, pick, status):
    """The picked row is now in this status."""
    return happened(lambda w: model.objects.filter(pk=pick(w).pk, status=status).exists())


# --- Rows -----------------------------------------------------------------------------------------
V1 = "/api/v1"


def api(spec, url, expected, body=None, probe=None, notes=""):
    """`spec` is "METHOD basename.action", as the router names them."""
    method, name = spec.split()
    basename, action = name.split(".")
    return Case(
        f"api {basename} {action} {method}",
        method,
        url,
        expected,
        body=body,
        probe=probe,
        key=("api", basename, action, method),
        notes=notes,
    )


def absent(basename, detail_url, *actions):
    """Standard actions a viewset does not offer: 405 once the caller's role has been checked."""
    methods = {"create": "POST", "update": "PUT", "partial_update": "PATCH", "destroy": "DELETE"}
    list_url = detail_url.rstrip("/").rsplit("/", 1)[0] + "/"
    return [
        api(f"{methods[action]} {basename}.{action}", list_url if action == "create" else detail_url, NO_SUCH_METHOD)
        for action in actions
    ]


RIGHTS_BY_COMMENT = {
    "channels": ["organic_social"],
    "terms_url": "https://acme.example/ugc-terms",
    "terms_text": "You grant Acme a licence.",
    "approval_hashtag": "YesAcme",
}

API_ROWS = [
    Case("api root GET", "GET", "/api/v1/", READ_ALL, key=("api", "root", "list", "GET")),
    # creators: shared by everyone; erasing is an admin's
    api("GET creator.list", "/api/v1/creators/", READ_ALL, probe=listed(lambda w: w.creator.pk)),
    api("GET creator.retrieve", "/api/v1/creators/{w.creator.pk}/", READ_ALL),
    api("POST creator.create", "/api/v1/creators/", write_shared(201), body=lambda w: {"name": "Nia New"}),
    api(
        "PATCH creator.partial_update",
        "/api/v1/creators/{w.creator.pk}/",
        write_shared(200),
        body=lambda w: {"notes": "Prefers email"},
    ),
    api(
        "POST creator.merge",
        "/api/v1/creators/{w.other_creator.pk}/merge/",
        write_shared(200),
        body=lambda w: {"into": w.creator.pk},
    ),
    api("DELETE creator.destroy", "/api/v1/creators/{w.other_creator.pk}/", expect(401, 403, 403, 403, 403, 204)),
    *absent("creator", "/api/v1/creators/{w.creator.pk}/", "update"),
    # filtering creators by membership or rights must not reveal another team's campaign
    Case(
        "api creator list by another team's campaign",
        "GET",
        "/api/v1/creators/?campaign={w.campaign.pk}",
        CAMPAIGN_LIST,
        probe=listed(lambda w: w.confirmed.pk),
    ),
    Case(
        "api creator list by a stage only another team's campaign has",
        "GET",
        "/api/v1/creators/?stage=confirmed",
        CAMPAIGN_LIST,
        probe=listed(lambda w: w.confirmed.pk),
    ),
    Case(
        "api creator list by rights granted to another team",
        "GET",
        "/api/v1/creators/?consent=rights_granted",
        CAMPAIGN_LIST,
        probe=listed(lambda w: w.creator.pk),
    ),
    # social accounts and tags: shared
    api("GET social-account.list", "/api/v1/social-accounts/", READ_ALL, probe=listed(lambda w: w.account.pk)),
    api("GET social-account.retrieve", "/api/v1/social-accounts/{w.account.pk}/", READ_ALL),
    api(
        "POST social-account.create",
        "/api/v1/social-accounts/",
        write_shared(201),
        body=lambda w: {"creator": w.other_creator.pk, "platform": "tiktok", "handle": "@olive.tt"},
    ),
    *absent("social-account", "/api/v1/social-accounts/{w.account.pk}/", "update", "partial_update", "destroy"),
    api("GET tag.list", "/api/v1/tags/", READ_ALL),
    api("GET tag.retrieve", "/api/v1/tags/{w.tag.pk}/", READ_ALL),
    api("POST tag.create", "/api/v1/tags/", write_shared(201), body=lambda w: {"name": "matrix"}),
    *absent("tag", "/api/v1/tags/{w.tag.pk}/", "update", "partial_update", "destroy"),
    # campaigns and what hangs off them
    api("GET campaign.list", "/api/v1/campaigns/", CAMPAIGN_LIST, probe=listed(lambda w: w.campaign.pk)),
    api("GET campaign.retrieve", "/api/v1/campaigns/{w.campaign.pk}/", CAMPAIGN_READ),
    api(
        "POST campaign.create",
        "/api/v1/campaigns/",
        write_shared(201),
        body=lambda w: {"name": "Winter", "brand": "Acme"},
    ),
    api(
        "PATCH campaign.partial_update",
        "/api/v1/campaigns/{w.campaign.pk}/",
        write_campaign(200),
        body=lambda w: {"goal": "More reels"},
    ),
    *absent("campaign", "/api/v1/campaigns/{w.campaign.pk}/", "update", "destroy"),
    api("GET campaign.members", "/api/v1/campaigns/{w.campaign.pk}/members/", CAMPAIGN_READ),
    api(
        "POST campaign.members",
        "/api/v1/campaigns/{w.campaign.pk}/members/",
        write_campaign(200),
        body=lambda w: {"creators": [w.other_creator.pk]},
    ),
    api(
        "PATCH campaign.member",
        "/api/v1/campaigns/{w.campaign.pk}/members/{w.member.pk}/",
        write_campaign(200),
        body=lambda w: {"stage": "contacted"},
    ),
    api(
        "POST campaign.launch",
        "/api/v1/campaigns/{w.campaign.pk}/launch/",
        write_campaign(200),
        body=lambda w: {"template": w.template.pk, "sender_account": w.sender.pk},
        probe=lambda r, w: r.json()["members"] == 2,
    ),
    api("GET campaign.launches", "/api/v1/campaigns/{w.campaign.pk}/launches/", CAMPAIGN_READ),
    api("GET campaign.blocked", "/api/v1/campaigns/{w.campaign.pk}/blocked/", CAMPAIGN_READ),
    api("GET content.list", "/api/v1/content/", CAMPAIGN_LIST, probe=listed(lambda w: w.post.pk)),
    api("GET content.retrieve", "/api/v1/content/{w.post.pk}/", CAMPAIGN_READ),
    api(
        "POST content.create",
        "/api/v1/content/",
        write_shared(201),
        body=lambda w: {"creator": w.creator.pk, "url": "https://www.instagram.com/p/MatrixFree1/"},
    ),
    Case(
        "api content create in another team's campaign",
        "POST",
        "/api/v1/content/",
        expect(401, 403, 201, 201, 400, 201),
        body=lambda w: {
            "creator": w.creator.pk,
            "url": "https://www.instagram.com/p/MatrixOurs1/",
            "campaign": w.campaign.pk,
        },
        notes="400 by field `campaign`: another team's campaign reads as an unknown id",
    ),
    *absent("content", "/api/v1/content/{w.post.pk}/", "update", "partial_update", "destroy"),
    api(
        "GET permission-request.list",
        "/api/v1/permission-requests/",
        CAMPAIGN_LIST,
        probe=listed(lambda w: w.request.pk),
    ),
    api("GET permission-request.retrieve", "/api/v1/permission-requests/{w.request.pk}/", CAMPAIGN_READ),
    api(
        "POST permission-request.create",
        "/api/v1/permission-requests/",
        expect(401, 403, 201, 201, 400, 201),
        body=lambda w: {
            "content": w.unasked_post.pk,
            "channels": ["organic_social"],
            "terms_url": "https://acme.example/ugc-terms",
            "terms_text": "You grant Acme a licence.",
            "sender_account": w.sender.pk,
            "template": w.template.pk,
        },
        notes="400 by field `content`: another team's post reads as an unknown id",
    ),
    Case(
        "api permission-request create in another team's campaign",
        "POST",
        "/api/v1/permission-requests/",
        expect(401, 403, 201, 201, 400, 201),
        body=lambda w: {
            "content": w.free_post.pk,
            "campaign": w.campaign.pk,
            "channels": ["organic_social"],
            "terms_url": "https://acme.example/ugc-terms",
            "terms_text": "You grant Acme a licence.",
            "sender_account": w.sender.pk,
            "template": w.template.pk,
        },
        notes="400 by field `campaign`: another team's campaign reads as an unknown id",
    ),
    api(
        "POST permission-request.revoke",
        "/api/v1/permission-requests/{w.granted.pk}/revoke/",
        write_campaign(200),
        body=lambda w: {"text": "Please stop using my post"},
    ),
    api(
        "POST permission-request.record_decision",
        "/api/v1/permission-requests/{w.request.pk}/record-decision/",
        write_campaign(200),
        body=lambda w: {"decision": "granted", "text": "Yes, #YesAcme"},
    ),
    *absent("permission-request", "/api/v1/permission-requests/{w.request.pk}/", "update", "partial_update", "destroy"),
    api(
        "GET content.may_use",
        "/api/v1/content/may-use/?url={w.post.url}&channel=paid_ads&territory=DE",
        expect(401, 200, 200, 200, 400, 200),
        notes="another team's post reads as an unknown link (a 400 on url)",
    ),
    api("GET consent-event.list", "/api/v1/consent-events/", CAMPAIGN_LIST, probe=listed(lambda w: w.grant_event.pk)),
    api("GET consent-event.retrieve", "/api/v1/consent-events/{w.grant_event.pk}/", CAMPAIGN_READ),
    Case(
        "api consent-event retrieve a contact decision", "GET", "/api/v1/consent-events/{w.contact_event.pk}/", READ_ALL
    ),
    *absent(
        "consent-event", "/api/v1/consent-events/{w.grant_event.pk}/", "create", "update", "partial_update", "destroy"
    ),
    api(
        "POST consent-event.void",
        "/api/v1/consent-events/{w.grant_event.pk}/void/",
        write_campaign(201),
        body=lambda w: {"reason": "Clicked granted by mistake."},
    ),
    # follow-up tasks: shared by the team
    api("GET follow-up-task.list", "/api/v1/follow-up-tasks/", READ_ALL, probe=listed(lambda w: w.follow_up.pk)),
    api("GET follow-up-task.retrieve", "/api/v1/follow-up-tasks/{w.follow_up.pk}/", READ_ALL),
    api("POST follow-up-task.done", "/api/v1/follow-up-tasks/{w.follow_up.pk}/done/", write_shared(200)),
    *absent(
        "follow-up-task", "/api/v1/follow-up-tasks/{w.follow_up.pk}/", "create", "update", "partial_update", "destroy"
    ),
    # templates and sequences: shared
    api("GET template.list", "/api/v1/templates/", READ_ALL, probe=listed(lambda w: w.template.pk)),
    api("GET template.retrieve", "/api/v1/templates/{w.template.pk}/", READ_ALL),
    api(
        "POST template.create",
        "/api/v1/templates/",
        write_shared(201),
        body=lambda w: {"name": "Follow-up", "body": "Hi again {{ creator.first_name }}"},
    ),
    api(
        "PATCH template.partial_update",
        "/api/v1/templates/{w.template.pk}/",
        write_shared(200),
        body=lambda w: {"name": "Intro, renamed"},
    ),
    api("DELETE template.destroy", "/api/v1/templates/{w.spare_template.pk}/", write_shared(204)),
    api(
        "POST template.preview",
        "/api/v1/templates/{w.spare_template.pk}/preview/",
        write_shared(200),
        body=lambda w: {"creator": w.creator.pk, "platform": "instagram"},
    ),
    Case(
        "api template preview POST for another team's campaign",
        "POST",
        "/api/v1/templates/{w.template.pk}/preview/",
        expect(401, 403, 200, 200, 400, 200),
        body=lambda w: {"creator": w.creator.pk, "platform": "instagram", "campaign": w.campaign.pk},
        notes="400 by field `campaign`: another team's campaign reads as an unknown id",
    ),
    api(
        "POST template.archive",
        "/api/v1/templates/{w.spare_template.pk}/archive/",
        write_shared(200),
        probe=happened(lambda w: MessageTemplate.objects.filter(pk=w.spare_template.pk, archived_at__isnull=False)),
    ),
    api("POST template.unarchive", "/api/v1/templates/{w.spare_template.pk}/unarchive/", write_shared(200)),
    *absent("template", "/api/v1/templates/{w.template.pk}/", "update"),
    api("GET sequence.list", "/api/v1/sequences/", READ_ALL, probe=listed(lambda w: w.sequence.pk)),
    api("GET sequence.retrieve", "/api/v1/sequences/{w.sequence.pk}/", READ_ALL),
    api(
        "POST sequence.create",
        "/api/v1/sequences/",
        write_shared(201),
        body=lambda w: {"name": "Two steps", "steps": [{"template": w.template.pk, "delay_days": 0}]},
    ),
    api(
        "PATCH sequence.partial_update",
        "/api/v1/sequences/{w.sequence.pk}/",
        write_shared(200),
        body=lambda w: {"name": "Renamed"},
    ),
    api("DELETE sequence.destroy", "/api/v1/sequences/{w.spare_sequence.pk}/", write_shared(204)),
    *absent("sequence", "/api/v1/sequences/{w.sequence.pk}/", "update"),
    # sender accounts: everyone sees them, their owner (and admins) change them
    api("GET sender-account.list", "/api/v1/sender-accounts/", READ_ALL, probe=listed(lambda w: w.sender.pk)),
    api("GET sender-account.retrieve", "/api/v1/sender-accounts/{w.sender.pk}/", READ_ALL),
    api(
        "POST sender-account.create",
        "/api/v1/sender-accounts/",
        write_shared(201),
        body=lambda w: {
            "name": "New IG",
            "platform": "instagram",
            "variant": "instagram_login",
            "account_id": "17841499999",
            "access_token": "IGAA-test",
            "api_base_url": "https://127.0.0.1:9",
        },
    ),
    api(
        "PATCH sender-account.partial_update",
        "/api/v1/sender-accounts/{w.sender.pk}/",
        write_sender(200),
        body=lambda w: {"daily_cap": 50},
    ),
    api("DELETE sender-account.destroy", "/api/v1/sender-accounts/{w.spare_sender.pk}/", write_sender(204)),
    api("POST sender-account.pause", "/api/v1/sender-accounts/{w.sender.pk}/pause/", write_sender(200)),
    api("POST sender-account.resume", "/api/v1/sender-accounts/{w.sender.pk}/resume/", write_sender(200)),
    *absent("sender-account", "/api/v1/sender-accounts/{w.sender.pk}/", "update"),
    # the outbox follows its campaign
    api("GET outreach-message.list", "/api/v1/outreach-messages/", CAMPAIGN_LIST, probe=listed(lambda w: w.manual.pk)),
    api("GET outreach-message.retrieve", "/api/v1/outreach-messages/{w.manual.pk}/", CAMPAIGN_READ),
    api("POST outreach-message.approve", "/api/v1/outreach-messages/{w.review.pk}/approve/", write_campaign(200)),
    api("POST outreach-message.cancel", "/api/v1/outreach-messages/{w.manual.pk}/cancel/", write_campaign(200)),
    api("POST outreach-message.mark_sent", "/api/v1/outreach-messages/{w.manual.pk}/mark-sent/", write_campaign(200)),
    api("POST outreach-message.retry", "/api/v1/outreach-messages/{w.failed.pk}/retry/", write_campaign(200)),
    api(
        "POST outreach-message.mark_many_sent",
        "/api/v1/outreach-messages/mark-sent/",
        expect(401, 403, 200, 200, W200, 200),
        body=lambda w: {"messages": [w.manual.pk]},
        probe=status_of(OutreachMessage, lambda w: w.manual, "sent"),
        notes="another team's message is skipped, not sent",
    ),
    *absent(
        "outreach-message", "/api/v1/outreach-messages/{w.manual.pk}/", "create", "update", "partial_update", "destroy"
    ),
    # conversations are shared; what we sent in them for a campaign follows it
    api("GET conversation.list", "/api/v1/conversations/", READ_ALL, probe=listed(lambda w: w.conversation.pk)),
    api("GET conversation.retrieve", "/api/v1/conversations/{w.conversation.pk}/", READ_ALL),
    api(
        "GET conversation.messages",
        "/api/v1/conversations/{w.conversation.pk}/messages/",
        CAMPAIGN_LIST,
        probe=listed(lambda w: w.said_ours.pk),
    ),
    api(
        "POST conversation.messages",
        "/api/v1/conversations/{w.conversation.pk}/messages/",
        write_shared(201),
        body=lambda w: {"text": "Said yes on the phone"},
    ),
    api(
        "POST conversation.classify",
        "/api/v1/conversations/{w.conversation.pk}/messages/{w.inbound.pk}/classify/",
        write_shared(200),
        body=lambda w: {"decision": "reply"},
    ),
    Case(
        "api conversation classify as granted, about another team's request",
        "POST",
        "/api/v1/conversations/{w.conversation.pk}/messages/{w.inbound.pk}/classify/",
        expect(401, 403, 200, 200, 400, 200),
        body=lambda w: {"decision": "granted", "permission_request": w.request.pk},
        probe=status_of(PermissionRequest, lambda w: w.request, "granted"),
        notes="400 by field `permission_request`: another team's request reads as an unknown id",
    ),
    api(
        "POST conversation.reply",
        "/api/v1/conversations/{w.conversation.pk}/reply/",
        write_shared(201),
        body=lambda w: {"text": "Thanks Sam!"},
    ),
    *absent(
        "conversation", "/api/v1/conversations/{w.conversation.pk}/", "create", "update", "partial_update", "destroy"
    ),
    # saved import mappings: one's own, or the whole team's when shared; only the owner shares or unshares
    api(
        "GET import-mapping.list",
        f"{V1}/import-mappings/",
        OWNED_LIST,
        probe=listed(lambda w: w.column_mapping.pk),
    ),
    Case(
        "api import-mapping list holds the team's",
        "GET",
        f"{V1}/import-mappings/",
        expect(401, 200, 200, 200, 200, 200),
        probe=listed(lambda w: w.team_mapping.pk),
    ),
    api("GET import-mapping.retrieve", f"{V1}/import-mappings/{{w.column_mapping.pk}}/", OWNED_READ),
    Case(
        "api import-mapping retrieve the team's",
        "GET",
        f"{V1}/import-mappings/{{w.team_mapping.pk}}/",
        expect(401, 200, 200, 200, 200, 200),
    ),
    api(
        "POST import-mapping.create",
        f"{V1}/import-mappings/",
        write_shared(201),
        body=lambda w: {
            "name": "Matrix",
            "columns": [{"header": "Who", "field": "name"}, {"header": "Mail", "field": "email"}],
        },
        probe=happened(lambda w: ColumnMapping.objects.filter(name="Matrix").exists()),
    ),
    api(
        "PUT import-mapping.update",
        f"{V1}/import-mappings/{{w.column_mapping.pk}}/",
        write_owned(200),
        body=lambda w: {
            "name": "Replaced",
            "columns": [{"header": "Who", "field": "name"}, {"header": "IG", "field": "instagram"}],
        },
        probe=happened(lambda w: ColumnMapping.objects.filter(pk=w.column_mapping.pk, name="Replaced").exists()),
    ),
    api(
        "PATCH import-mapping.partial_update",
        f"{V1}/import-mappings/{{w.column_mapping.pk}}/",
        write_owned(200),
        body=lambda w: {"name": "Renamed"},
        probe=happened(lambda w: ColumnMapping.objects.filter(pk=w.column_mapping.pk, name="Renamed").exists()),
    ),
    Case(
        "api import-mapping PATCH the team's",
        "PATCH",
        f"{V1}/import-mappings/{{w.team_mapping.pk}}/",
        write_shared(200),
        body=lambda w: {"name": "Agency (monthly)"},
        probe=happened(lambda w: ColumnMapping.objects.filter(pk=w.team_mapping.pk, name="Agency (monthly)").exists()),
        notes="a team mapping is changed by any manager",
    ),
    Case(
        "api import-mapping PATCH the team's to private",
        "PATCH",
        f"{V1}/import-mappings/{{w.team_mapping.pk}}/",
        expect(401, 403, 400, 400, 200, 200),
        body=lambda w: {"for_team": False},
        probe=happened(lambda w: ColumnMapping.objects.filter(pk=w.team_mapping.pk, for_team=False).exists()),
        notes="400 by field `for_team`: only its owner (the outsider here) or an admin unshares it",
    ),
    api(
        "DELETE import-mapping.destroy",
        f"{V1}/import-mappings/{{w.column_mapping.pk}}/",
        write_owned(204),
        probe=happened(lambda w: not ColumnMapping.objects.filter(pk=w.column_mapping.pk).exists()),
    ),
    # webhook subscriptions belong to whoever registered them
    api(
        "GET webhook-subscription.list",
        "/api/v1/webhook-subscriptions/",
        OWNED_LIST,
        probe=listed(lambda w: w.subscription.pk),
    ),
    api("GET webhook-subscription.retrieve", "/api/v1/webhook-subscriptions/{w.subscription.pk}/", OWNED_READ),
    api(
        "POST webhook-subscription.create",
        "/api/v1/webhook-subscriptions/",
        write_shared(201),
        body=lambda w: {"url": "http://127.0.0.1:9/other", "events": ["consent.revoked"]},
    ),
    api(
        "PATCH webhook-subscription.partial_update",
        "/api/v1/webhook-subscriptions/{w.subscription.pk}/",
        write_owned(200),
        body=lambda w: {"description": "Rights desk"},
    ),
    api("DELETE webhook-subscription.destroy", "/api/v1/webhook-subscriptions/{w.subscription.pk}/", write_owned(204)),
    api(
        "GET webhook-subscription.deliveries",
        "/api/v1/webhook-subscriptions/{w.subscription.pk}/deliveries/",
        OWNED_READ,
    ),
    api(
        "POST webhook-subscription.enable",
        "/api/v1/webhook-subscriptions/{w.subscription.pk}/enable/",
        write_owned(200),
    ),
    api("POST webhook-subscription.ping", "/api/v1/webhook-subscriptions/{w.subscription.pk}/ping/", write_owned(202)),
    api(
        "POST webhook-subscription.rotate_secret",
        "/api/v1/webhook-subscriptions/{w.subscription.pk}/rotate-secret/",
        write_owned(200),
    ),
    *absent("webhook-subscription", "/api/v1/webhook-subscriptions/{w.subscription.pk}/", "update"),
    # comments, mentions and UGC found: the brand's, so the whole team's; rights asked in a comment
    # follow the campaign of their request. Hiding, public replies and hashtags answer from the fake.
    api("GET brand-post.list", f"{V1}/brand-posts/", READ_ALL, probe=listed(lambda w: w.brand_post.pk)),
    api("GET brand-post.retrieve", f"{V1}/brand-posts/{{w.brand_post.pk}}/", READ_ALL),
    api(
        "GET brand-post.comments",
        f"{V1}/brand-posts/{{w.brand_post.pk}}/comments/",
        READ_ALL,
        probe=lambda r, w: w.comment.pk in {row["id"] for row in r.json()},
    ),
    api(
        "POST brand-post.live_ended",
        f"{V1}/brand-posts/{{w.brand_post.pk}}/live-ended/",
        write_shared(200),
        probe=happened(lambda w: BrandPost.objects.filter(pk=w.brand_post.pk, live_ended_at__isnull=False)),
    ),
    *absent("brand-post", f"{V1}/brand-posts/{{w.brand_post.pk}}/", "create", "update", "partial_update", "destroy"),
    api("GET comment.list", f"{V1}/comments/", READ_ALL, probe=listed(lambda w: w.comment.pk)),
    api("GET comment.retrieve", f"{V1}/comments/{{w.comment.pk}}/", READ_ALL),
    api(
        "POST comment.hide",
        f"{V1}/comments/{{w.comment.pk}}/hide/",
        write_shared(200),
        body=lambda w: {"hide": True},
        probe=happened(lambda w: Comment.objects.filter(pk=w.comment.pk, hidden=True)),
        notes="the fake Graph API hides it, then the CRM records it",
    ),
    api(
        "POST comment.private_reply",
        f"{V1}/comments/{{w.comment.pk}}/private-reply/",
        write_shared(201),
        body=lambda w: {"text": "Thanks Sam! Here is the guide."},
        probe=happened(lambda w: PrivateReply.objects.filter(comment=w.comment)),
        notes="the reply is queued after commit (nothing commits here): the row is the decision",
    ),
    api(
        "POST comment.reply",
        f"{V1}/comments/{{w.comment.pk}}/reply/",
        write_shared(201),
        body=lambda w: {"text": "Thank you, Sam!"},
        probe=happened(lambda w: Comment.objects.filter(parent_id=pw.SAM_COMMENT, ours=True)),
        notes="posted on the fake Graph API",
    ),
    api(
        "POST comment.request_rights",
        f"{V1}/comments/{{w.comment.pk}}/request-rights/",
        write_shared(201),
        body=lambda w: {**RIGHTS_BY_COMMENT, "discovered": w.found.pk},
        probe=happened(lambda w: CommentRightsRequest.objects.filter(discovered=w.found, via_comment=w.comment)),
    ),
    Case(
        "api comment request-rights for another team's post",
        "POST",
        f"{V1}/comments/{{w.comment.pk}}/request-rights/",
        expect(401, 403, 201, 201, 400, 201),
        body=lambda w: {**RIGHTS_BY_COMMENT, "discovered": w.found_ours.pk},
        notes="400 by field `discovered`: a find whose post is another team's reads as an unknown id",
    ),
    *absent("comment", f"{V1}/comments/{{w.comment.pk}}/", "create", "update", "partial_update", "destroy"),
    api(
        "GET comment-rights-request.list",
        f"{V1}/comment-rights-requests/",
        CAMPAIGN_LIST,
        probe=listed(lambda w: w.comment_request.pk),
    ),
    api(
        "GET comment-rights-request.retrieve", f"{V1}/comment-rights-requests/{{w.comment_request.pk}}/", CAMPAIGN_READ
    ),
    api(
        "POST comment-rights-request.mark_posted",
        f"{V1}/comment-rights-requests/{{w.comment_request.pk}}/mark-posted/",
        write_campaign(200),
        probe=status_of(CommentRightsRequest, lambda w: w.comment_request, "sent"),
    ),
    *absent(
        "comment-rights-request",
        f"{V1}/comment-rights-requests/{{w.comment_request.pk}}/",
        "create",
        "update",
        "partial_update",
        "destroy",
    ),
    api("GET discovered-media.list", f"{V1}/discovered-media/", READ_ALL, probe=listed(lambda w: w.found.pk)),
    api(
        "POST discovered-media.by_link",
        f"{V1}/discovered-media/by-link/",
        write_shared(201),
        body=lambda w: {
            "sender_account": w.ig.pk,
            "permalink": "https://www.tiktok.com/@sam/video/7311",
            "username": "sam",
        },
        probe=happened(lambda w: DiscoveredMedia.objects.filter(source="link", username="sam")),
        notes="a post found by hand, by its link and author",
    ),
    api("GET discovered-media.retrieve", f"{V1}/discovered-media/{{w.found.pk}}/", READ_ALL),
    api(
        "POST discovered-media.request_rights",
        f"{V1}/discovered-media/{{w.found.pk}}/request-rights/",
        write_shared(201),
        body=lambda w: RIGHTS_BY_COMMENT,
        probe=happened(lambda w: CommentRightsRequest.objects.filter(discovered=w.found)),
    ),
    Case(
        "api discovered-media request-rights for another team's post",
        "POST",
        f"{V1}/discovered-media/{{w.found_ours.pk}}/request-rights/",
        expect(401, 403, 201, 201, 400, 201),
        body=lambda w: RIGHTS_BY_COMMENT,
        notes="400 by field `discovered`: a find whose post is another team's reads as an unknown id",
    ),
    Case(
        "api discovered-media request-rights in another team's campaign",
        "POST",
        f"{V1}/discovered-media/{{w.found.pk}}/request-rights/",
        expect(401, 403, 201, 201, 400, 201),
        body=lambda w: {**RIGHTS_BY_COMMENT, "campaign": w.campaign.pk},
        notes="400 by field `campaign`: another team's campaign reads as an unknown id",
    ),
    *absent(
        "discovered-media", f"{V1}/discovered-media/{{w.found.pk}}/", "create", "update", "partial_update", "destroy"
    ),
    api("GET hashtag-search.list", f"{V1}/hashtag-searches/", READ_ALL, probe=listed(lambda w: w.hashtag.pk)),
    api("GET hashtag-search.retrieve", f"{V1}/hashtag-searches/{{w.hashtag.pk}}/", READ_ALL),
    api(
        "GET hashtag-search.budget",
        f"{V1}/hashtag-searches/budget/?sender_account={{w.ig.pk}}",
        READ_ALL,
        probe=lambda r, w: r.json()["used"] == 1,
    ),
    api(
        "POST hashtag-search.create",
        f"{V1}/hashtag-searches/",
        write_shared(201),
        body=lambda w: {"sender_account": w.ig.pk, "hashtag": "#matrixglow"},
        probe=happened(lambda w: HashtagSearch.objects.filter(hashtag="matrixglow", hashtag_id__gt="")),
        notes="the hashtag's id comes from the fake Graph API",
    ),
    *absent("hashtag-search", f"{V1}/hashtag-searches/{{w.hashtag.pk}}/", "update", "partial_update", "destroy"),
    api("GET keyword-rule.list", f"{V1}/keyword-rules/", READ_ALL, probe=listed(lambda w: w.keyword_rule.pk)),
    api("GET keyword-rule.retrieve", f"{V1}/keyword-rules/{{w.keyword_rule.pk}}/", READ_ALL),
    api(
        "POST keyword-rule.create",
        f"{V1}/keyword-rules/",
        write_shared(201),
        body=lambda w: {"sender_account": w.ig.pk, "keyword": "PRICE", "template": w.template.pk},
    ),
    api(
        "PUT keyword-rule.update",
        f"{V1}/keyword-rules/{{w.keyword_rule.pk}}/",
        write_shared(200),
        body=lambda w: {"sender_account": w.ig.pk, "keyword": "GUIDES", "template": w.template.pk, "active": True},
    ),
    api(
        "PATCH keyword-rule.partial_update",
        f"{V1}/keyword-rules/{{w.keyword_rule.pk}}/",
        write_shared(200),
        body=lambda w: {"active": False},
        probe=happened(lambda w: KeywordRule.objects.filter(pk=w.keyword_rule.pk, active=False)),
    ),
    api("DELETE keyword-rule.destroy", f"{V1}/keyword-rules/{{w.keyword_rule.pk}}/", write_shared(204)),
]


def _reverse(name, *args):
    """A page's route: the pages' own under `web:`, the proof pages and CSV by their global names."""
    try:
        return reverse(f"web:{name}", args=args)
    except NoReverseMatch:
        return reverse(name, args=args)


def page(spec, expected, body=None, probe=None, notes="", url=None):
    """`spec` is "METHOD url-name world-attribute...": the route reversed with those objects' ids."""
    method, name, *attrs = spec.split()
    url = url or (lambda w: _reverse(name, *(getattr(w, attr).pk for attr in attrs)))
    return Case(
        f"page {name} {method}",
        method,
        url,
        expected,
        body=body,
        probe=probe,
        key=("page", name, method),
        api=False,
        notes=notes,
    )


def r(name, *args):
    return reverse(f"web:{name}", args=args)


def member_of_ours(w):
    return CampaignMember.objects.filter(campaign=w.campaign, creator=w.other_creator).exists()


LAUNCH = {"confirm": "launch"}

PAGE_ROWS = [
    # signing in and out: public
    page("GET login", expect(200, 302, 302, 302, 302, 302), notes="a signed-in visitor is sent on"),
    page("POST logout", public(SIGN_IN), notes="signing out ends on the sign-in page"),
    page("GET password_reset", public(200)),
    page("GET password_reset_done", public(200)),
    page("GET password_reset_confirm", public(200), url=lambda w: r("password_reset_confirm", "MQ", "bad-token")),
    page("GET password_reset_complete", public(200)),
    page("GET favicon", public(302)),
    # the dashboard and creators
    page("GET dashboard", PAGE),
    Case(
        "page creators by a stage only another team's campaign has",
        "GET",
        "/creators/?stage=confirmed",
        expect(SIGN_IN, 200, 200, 200, W200, 200),
        probe=shows(pw.CONFIRMED_NAME),
        api=False,
    ),
    Case(
        "page creators by rights granted to another team",
        "GET",
        "/creators/?consent=rights_granted",
        expect(SIGN_IN, 200, 200, 200, W200, 200),
        probe=shows(pw.CREATOR_NAME),
        api=False,
    ),
    page("GET creators", PAGE),
    page("GET creator_export", PAGE),
    page("GET creator_edit creator", WRITE_FORM),
    page(
        "POST creator_add_post creator",
        page_write(302),
        body=lambda w: {"post-url": "https://www.instagram.com/p/NewOne1/"},
    ),
    page("GET creator_ask_rights creator", POST_ONLY),
    page("GET content", PAGE),
    page("GET content_export", PAGE),
    page("GET may_use", PAGE),
    page("GET creator creator", PAGE),
    page("POST creator_merge other_creator", page_write(302), body=lambda w: {"into": w.creator.pk}),
    page("GET two_factor", PAGE, notes="each person's own second factor"),
    page("GET account_settings", PAGE, notes="each person's own settings"),
    page(
        "POST account_settings",
        expect(SIGN_IN, 302, 302, 302, 302, 302),
        body=lambda w: {"time_zone": "Europe/Berlin"},
        probe=happened(lambda w: Preferences.objects.filter(time_zone="Europe/Berlin")),
        notes="viewers too: it changes only their own pages",
    ),
    page("GET creator_bulk", expect(SIGN_IN, 302, 302, 302, 302, 302)),
    page(
        "POST creator_bulk",
        page_write(302),
        body=lambda w: {"action": "tag", "creator": [w.other_creator.pk], "tag": "matrix"},
        probe=happened(lambda w: w.other_creator.tags.filter(name="matrix").exists()),
    ),
    Case(
        "page creator_bulk POST to another team's campaign",
        "POST",
        lambda w: r("creator_bulk"),
        expect(SIGN_IN, 403, 302, 302, W302, 302),
        body=lambda w: {"action": "campaign", "creator": [w.other_creator.pk], "campaign": w.campaign.pk},
        probe=happened(member_of_ours),
        api=False,
        notes="the outsider's choice is refused inside the form: redirected back, nobody added",
    ),
    Case(
        "page creator_bulk POST all matching, confirmed",
        "POST",
        lambda w: r("creator_bulk"),
        page_write(302),
        body=lambda w: {"action": "tag", "tag": "everyone", "scope": "all", "filter": "", "confirmed": "on"},
        probe=happened(lambda w: w.other_creator.tags.filter(name="everyone").exists()),
        api=False,
        notes="creators are everyone's: the whole filtered set is tagged",
    ),
    Case(
        "page creator_bulk POST all matching to another team's campaign",
        "POST",
        lambda w: r("creator_bulk"),
        expect(SIGN_IN, 403, 302, 302, W302, 302),
        body=lambda w: {
            "action": "campaign",
            "campaign": w.campaign.pk,
            "scope": "all",
            "filter": "q=Olive Other",
            "confirmed": "on",
        },
        probe=happened(member_of_ours),
        api=False,
        notes="another team's campaign is refused inside the form: nobody added",
    ),
    page("GET bulk_job bulk_job", OWNED_PAGE, probe=shows("Tagging creators “matrix”")),
    page("GET creator_import", WRITE_FORM),
    page("POST creator_import", page_write(302), body=lambda w: {"file": _csv(), "encoding": "utf-8"}),
    page("GET import import_job", OWNED_PAGE),
    page("GET import_rejections import_job", OWNED_PAGE),
    page("GET import_columns mapping_job", OWNED_PAGE),
    page(
        "POST import_columns mapping_job",
        page_write_owned(302),
        body=lambda w: {"column_0": "name", "column_1": "email", "save_as": "Matrix"},
        probe=happened(lambda w: ColumnMapping.objects.filter(name="Matrix").exists()),
    ),
    page("GET import_preview mapping_job", OWNED_PAGE),
    page(
        "POST import_preview mapping_job",
        page_write_owned(302),
        probe=happened(lambda w: ImportJob.objects.filter(pk=w.mapping_job.pk, status="queued").exists()),
    ),
    page("GET import_mappings", PAGE, probe=shows("Saved column mappings")),
    page("GET import_mapping_rename column_mapping", POST_ONLY),
    page(
        "POST import_mapping_rename column_mapping",
        page_write_owned(302),
        body=lambda w: {"name": "Renamed"},
        probe=happened(lambda w: ColumnMapping.objects.filter(pk=w.column_mapping.pk, name="Renamed").exists()),
        notes="a person's own mapping: another's reads as not there",
    ),
    page("GET import_mapping_delete column_mapping", POST_ONLY),
    page(
        "POST import_mapping_delete column_mapping",
        page_write_owned(302),
        probe=happened(lambda w: not ColumnMapping.objects.filter(pk=w.column_mapping.pk).exists()),
    ),
    # campaigns
    page("GET campaigns", PAGE),
    page("GET campaign_new", WRITE_FORM),
    page("POST campaign_new", page_write(302), body=lambda w: {"name": "Spring", "brand": "Acme", "status": "active"}),
    page("GET campaign campaign", CAMPAIGN_PAGE),
    page("GET campaign_edit campaign", page_write_campaign(200), notes="an edit form: viewers get 403"),
    page("GET campaign_report campaign", CAMPAIGN_PAGE),
    page("GET campaign_report_csv campaign", CAMPAIGN_PAGE),
    page("GET campaign_blocked_csv campaign", CAMPAIGN_PAGE),
    page("POST member_remove campaign member", page_write_campaign(302)),
    page("POST queue_requeue cancelled", page_write_campaign(302)),
    page("POST template_delete spare_template", page_write(302)),
    page(
        "POST template_archive spare_template",
        page_write(302),
        probe=happened(lambda w: MessageTemplate.objects.filter(pk=w.spare_template.pk, archived_at__isnull=False)),
    ),
    page("POST template_unarchive spare_template", page_write(302)),
    page(
        "GET campaign_launch campaign",
        page_write_campaign(200),
        notes="the launch page is all write controls: a viewer on the team gets 403",
    ),
    page(
        "POST campaign_launch campaign",
        page_write_campaign(302),
        body=lambda w: {"sender_account": w.sender.pk, "template": w.template.pk, **LAUNCH},
    ),
    page("GET member_move campaign member", expect(SIGN_IN, 302, 302, 302, 404, 302)),
    page(
        "POST member_move campaign member",
        page_write_campaign(302),
        body=lambda w: {"stage": "contacted"},
        probe=happened(lambda w: CampaignMember.objects.filter(pk=w.member.pk, stage="contacted").exists()),
    ),
    page("GET campaign-decisions-csv campaign", CAMPAIGN_PAGE),
    # the manual queue
    page("GET manual_queue", PAGE),
    page("GET queue_mark_sent manual", POST_ONLY),
    page(
        "POST queue_mark_sent manual",
        page_write_campaign(302),
        probe=status_of(OutreachMessage, lambda w: w.manual, "sent"),
    ),
    page("GET queue_bulk_sent", POST_ONLY),
    page(
        "POST queue_bulk_sent",
        expect(SIGN_IN, 403, 302, 302, W302, 302),
        body=lambda w: {"message": [w.manual.pk]},
        probe=status_of(OutreachMessage, lambda w: w.manual, "sent"),
        notes="another team's message is left as it is (the page says how many were left)",
    ),
    page(
        "POST queue_cancel manual",
        page_write_campaign(302),
        probe=status_of(OutreachMessage, lambda w: w.manual, "cancelled"),
    ),
    page(
        "POST queue_approve review",
        page_write_campaign(302),
        probe=status_of(OutreachMessage, lambda w: w.review, "pending"),
    ),
    page(
        "POST queue_retry failed",
        page_write_campaign(302),
        probe=status_of(OutreachMessage, lambda w: w.failed, "pending"),
    ),
    # the inbox: conversations are shared
    page("GET inbox", PAGE),
    page("GET conversation conversation", PAGE),
    page("GET conversation_reply conversation", POST_ONLY),
    page(
        "POST conversation_reply conversation",
        page_write(302),
        body=lambda w: {"text": "Thanks Sam!", "sender_account": w.sender.pk, "key": "matrix-1"},
    ),
    page("POST conversation_log_reply conversation", page_write(302), body=lambda w: {"said": "Said yes on the phone"}),
    page(
        "POST classify conversation inbound",
        page_write(302),
        body=lambda w: {"decision": "reply"},
        probe=happened(lambda w: ConversationMessage.objects.filter(pk=w.inbound.pk, classification="reply").exists()),
    ),
    Case(
        "page classify as granted, about another team's request",
        "POST",
        lambda w: r("classify", w.conversation.pk, w.inbound.pk),
        expect(SIGN_IN, 403, 302, 302, W302, 302),
        body=lambda w: {"decision": "granted", "permission_request": w.request.pk},
        probe=status_of(PermissionRequest, lambda w: w.request, "granted"),
        api=False,
        notes="the outsider does not see the request: an error shown, nothing granted",
    ),
    # permission requests and their proof
    page("GET permission_requests", PAGE),
    page("GET permission_request request", CAMPAIGN_PAGE),
    page(
        "POST permission_request_revoke granted",
        page_write_campaign(302),
        body=lambda w: {"text": "Please stop using my post"},
        probe=status_of(PermissionRequest, lambda w: w.granted, "revoked"),
    ),
    page(
        "POST consent_entry_void granted",
        page_write_campaign(302),
        body=lambda w: {"entry": w.grant_event.pk, "reason": "Clicked granted by mistake."},
        probe=status_of(PermissionRequest, lambda w: w.granted, "requested"),
    ),
    page("POST follow_up_done follow_up", page_write(302)),
    page("GET permission-proof granted", CAMPAIGN_PAGE),
    page("GET permission-proof-json granted", CAMPAIGN_PAGE),
    # sender accounts and API tokens
    page("GET senders", PAGE),
    page("GET sender_connect", PAGE, notes="a viewer sees the form, cannot post it"),
    page(
        "POST sender_connect",
        page_write(302),
        body=lambda w: {
            "name": "New IG",
            "platform": "instagram",
            "variant": "instagram_login",
            "account_id": "17841499998",
            "api_base_url": "https://127.0.0.1:9",
            "daily_cap": "",
            "access_token": "IGAA-test",
        },
    ),
    page(
        "POST sender_pause sender",
        page_write_sender(302),
        probe=happened(lambda w: SenderAccount.objects.filter(pk=w.sender.pk, paused=True).exists()),
    ),
    page("POST sender_resume sender", page_write_sender(302)),
    page("POST sender_token sender", page_write_sender(302), body=lambda w: {"access_token": "IGAA-new"}),
    page("GET api_tokens", PAGE),
    page("POST api_tokens", page_write(200), body=lambda w: {"name": "Make.com"}),
    page("POST api_token_revoke owner_token", page_write_owned(302)),
    # templates and sequences: shared
    page("GET templates", PAGE),
    page("GET template_new", PAGE),
    page(
        "POST template_new",
        page_write(302),
        body=lambda w: {"name": "From the page", "body": "Hi {{ creator.first_name }}"},
    ),
    page("GET template template", PAGE),
    page("POST template template", page_write(302), body=lambda w: {"name": "Renamed", "body": pw.HASHTAG_BODY}),
    page(
        "POST template_preview",
        page_write(200),
        body=lambda w: {
            "body": "Hi {{ creator.first_name }}",
            "subject": "",
            "preview_creator": w.creator.pk,
            "preview_platform": "instagram",
        },
    ),
    page("GET sequence_new", PAGE),
    page("POST sequence_new", page_write(302), body=lambda w: _sequence_form(w)),
    page("GET sequence sequence", PAGE),
    page("POST sequence sequence", page_write(302), body=lambda w: _sequence_form(w, initial=1)),
    # comments and UGC: shared; a rights request asked in a comment follows its campaign
    page("GET comments", PAGE),
    page("GET brand_post brand_post", PAGE),
    page("GET comment_hide comment", POST_ONLY),
    page(
        "POST comment_hide comment",
        page_write(302),
        body=lambda w: {"hide": "true"},
        probe=happened(lambda w: Comment.objects.filter(pk=w.comment.pk, hidden=True)),
        notes="the fake Graph API hides it, then the CRM records it",
    ),
    page(
        "POST comment_private_reply comment",
        page_write(302),
        body=lambda w: {"text": "Thanks Sam! Here is the guide."},
        probe=happened(lambda w: PrivateReply.objects.filter(comment=w.comment)),
    ),
    page(
        "POST comment_reply comment",
        page_write(302),
        body=lambda w: {"text": "Thank you, Sam!"},
        probe=happened(lambda w: Comment.objects.filter(parent_id=pw.SAM_COMMENT, ours=True)),
        notes="posted on the fake Graph API",
    ),
    page(
        "POST found_request_rights found",
        page_write(302),
        body=lambda w: {**RIGHTS_BY_COMMENT, "via_comment": w.comment.pk},
        probe=happened(lambda w: CommentRightsRequest.objects.filter(discovered=w.found, via_comment=w.comment)),
    ),
    Case(
        "page found_request_rights POST for another team's post",
        "POST",
        lambda w: r("found_request_rights", w.found_ours.pk),
        expect(SIGN_IN, 403, 302, 302, W302, 302),
        body=lambda w: RIGHTS_BY_COMMENT,
        probe=happened(lambda w: CommentRightsRequest.objects.filter(discovered=w.found_ours)),
        api=False,
        notes="the outsider is refused inside the form (the post is another team's): nothing asked",
    ),
    page(
        "POST comment_request_posted comment_request",
        page_write_campaign(302),
        probe=status_of(CommentRightsRequest, lambda w: w.comment_request, "sent"),
    ),
    page(
        "POST keyword_rule_add",
        page_write(302),
        body=lambda w: {"sender_account": w.ig.pk, "keyword": "PRICE", "template": w.template.pk},
        probe=happened(lambda w: KeywordRule.objects.filter(keyword="PRICE")),
    ),
    page(
        "POST hashtag_follow",
        page_write(302),
        body=lambda w: {"sender_account": w.ig.pk, "hashtag": "#matrixglow"},
        probe=happened(lambda w: HashtagSearch.objects.filter(hashtag="matrixglow", hashtag_id__gt="")),
        notes="the hashtag's id comes from the fake Graph API",
    ),
]


def _csv():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("creators.csv", b"name,email\nIna Import,ina@example.com\n", content_type="text/csv")


def _sequence_form(w, initial=0):
    """The editor's form as a browser posts it (an existing sequence's steps count as initial forms)."""
    return {
        "name": "Two steps",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": str(initial),
        "steps-0-template": w.template.pk,
        "steps-0-delay_days": "0",
    }


ROWS = API_ROWS + PAGE_ROWS


# --- The world, once for the module ------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once in a transaction rolled back after the module, like TestCase.setUpTestData."""
    with kept_for_module(django_db_blocker):
        yield pw.build_world()


@pytest.fixture
def each_world(world, db, settings, tmp_path):
    """The world for one test, with private webhook URLs allowed (the loopback), uploads in tmp and the
    fake Graph API primed."""
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.VAR_DIR = tmp_path
    pw.prime_fake(world)
    return world


@pytest.mark.parametrize("case", ROWS, ids=[case.name for case in ROWS])
def test_permission_matrix(case, each_world):
    """Every persona gets the row's expected answer; a failure lists every persona of the row at once."""
    wrong = []
    for persona in PERSONAS:
        outcome, detail = perform(case, each_world, persona)
        if outcome != case.expected[persona]:
            wrong.append(f"  {persona:<9} expected {case.expected[persona]!r:<18} got {outcome!r} {detail}")
    note = f" ({case.notes})" if case.notes else ""
    assert not wrong, f"{case.method} {case.url_for(each_world)}{note}\n" + "\n".join(wrong)


# --- Completeness: a new action or page without a row fails here --------------------------------------
STANDARD = {
    "list": ("list", "GET"),
    "create": ("list", "POST"),
    "retrieve": ("detail", "GET"),
    "update": ("detail", "PUT"),
    "partial_update": ("detail", "PATCH"),
    "destroy": ("detail", "DELETE"),
}


def test_every_api_action_has_a_row():
    covered = {case.key for case in ROWS if case.key}
    wanted = set()
    for _prefix, viewset, basename in router.registry:
        for action, (_route, method) in STANDARD.items():
            wanted.add(("api", basename, action, method))  # offered (a real row) or not (a 405 row)
        for extra in viewset.get_extra_actions():
            for method, name in extra.mapping.items():
                wanted.add(("api", basename, name, method.upper()))
    missing = sorted(wanted - covered)
    assert not missing, f"rows missing from the permission matrix: {missing}"


def test_every_offered_api_action_answers_more_than_405():
    """A row of `absent(...)` is only for what the viewset does not offer; the rest must be real rows."""
    offered = set()
    for _prefix, viewset, basename in router.registry:
        for action, (_route, method) in STANDARD.items():
            if hasattr(viewset, action) and method.lower() in viewset.http_method_names:
                offered.add(("api", basename, action, method))
    fake = [case.name for case in API_ROWS if case.key in offered and case.expected == NO_SUCH_METHOD]
    assert not fake, f"these actions exist but their rows expect 405: {fake}"


# Routes outside the matrix, and why: they authenticate otherwise (signatures, tokens) or are Django's.
NOT_PAGES = {
    "healthz",
    "schema",
    "api-docs",
    "unsubscribe",
    "webhook-meta",
    "webhook-x",
    "webhook-tiktok",
    "webhook-email",
}


def _names(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.app_name in {"admin"} or str(pattern.pattern).startswith("api/v1/"):
                continue
            yield from _names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield pattern.name


def test_every_page_has_a_row():
    from config import urls as config_urls

    covered = {case.key[1] for case in PAGE_ROWS if case.key} | NOT_PAGES
    names = set(_names(config_urls.urlpatterns)) | {pattern.name for pattern in web_urls.urlpatterns}
    missing = sorted(names - covered)
    assert not missing, f"pages missing from the permission matrix: {missing}"


# --- The leak the refactor closed ----------------------------------------------------------------
OURS = [pw.OUR_CAMPAIGN, pw.OUR_TEXT, pw.OUR_POST, pw.OUR_RULE]
THEIRS = [pw.THEIR_CAMPAIGN, pw.THEIR_TEXT]


def _shown(world, persona):
    """Everything a persona reads about the shared creator: their page (with the timeline), the
    conversation's messages and the consent events, as one text, plus the request ids they name."""
    pages = pw.client_for(world, persona, api=False)
    api_client = pw.client_for(world, persona, api=True)
    creator_page = pages.get(r("creator", world.creator.pk))
    messages = api_client.get(f"{V1}/conversations/{world.conversation.pk}/messages/")
    events = api_client.get(f"{V1}/consent-events/", {"creator": world.creator.pk})
    assert (creator_page.status_code, messages.status_code, events.status_code) == (200, 200, 200)
    text = creator_page.content.decode() + messages.content.decode() + events.content.decode()
    requests = {row["permission_request"] for row in events.json()["results"]} - {None}
    return text, requests


def test_outsider_sees_the_person_not_the_other_teams_work(each_world):
    w = each_world
    text, requests = _shown(w, "outsider")
    assert pw.CREATOR_NAME in text and "sam.shared" in text, "the person and their handles are everyone's"
    assert pw.CREATOR_WORDS in text, "the creator's own words to the brand are everyone's"
    assert str(w.contact_event.entry_hash) in text, "contact decisions are everyone's"
    for secret in OURS:
        assert secret not in text, f"another team's work leaked to the outsider: {secret!r}"
    assert requests.isdisjoint({w.request.pk, w.granted.pk}), "another team's rights decisions leaked"
    assert pw.THEIR_CAMPAIGN in text and pw.THEIR_TEXT in text, "the outsider sees their own campaign's work"


def test_owner_sees_their_teams_work_and_not_the_outsiders(each_world):
    w = each_world
    text, requests = _shown(w, "owner")
    for ours in OURS:
        assert ours in text, f"the owner should see {ours!r}"
    assert w.granted.pk in requests
    assert pw.CREATOR_WORDS in text
    for theirs in THEIRS:
        assert theirs not in text, f"the outsider's work leaked to the owner: {theirs!r}"


def test_admin_sees_everything(each_world):
    text, _requests = _shown(each_world, "admin")
    for words in OURS + THEIRS:
        assert words in text


def test_the_world_is_fresh_for_every_row(each_world):
    """A write in one row is rolled back before the next: the matrix's rows do not depend on order."""
    w = each_world
    assert OutreachMessage.objects.get(pk=w.manual.pk).status == OutreachMessage.Status.MANUAL
    assert not SocialAccount.objects.filter(handle="olive.tt").exists()
    assert not ConsentEvent.objects.filter(permission_request=w.request, kind=ConsentEvent.Kind.RIGHTS_GRANTED)


# Every list page, and the conversation's page, with what the owner sees of our campaign there (the
# outsider must see none of it, nor anything else of ours).
OWNER_SEES = {"dashboard": pw.OUR_CAMPAIGN, "creators": pw.OUR_CAMPAIGN, "campaigns": pw.OUR_CAMPAIGN,
              "manual_queue": pw.OUR_CAMPAIGN, "permission_requests": pw.OUR_CAMPAIGN, "conversation": pw.OUR_TEXT,
              "inbox": None, "senders": None, "templates": None, "api_tokens": None,
              "comments": pw.OUR_CAMPAIGN}  # fmt: skip


@pytest.mark.parametrize("name", OWNER_SEES)
def test_no_page_shows_the_outsider_another_teams_work(each_world, name):
    w = each_world
    url = r(name, w.conversation.pk) if name == "conversation" else r(name)
    seen = {
        persona: pw.client_for(w, persona, api=False).get(url).content.decode() for persona in ("owner", "outsider")
    }
    leaked = [words for words in OURS if words in seen["outsider"]]
    assert not leaked, f"{url} shows the outsider another team's work: {leaked}"
    if OWNER_SEES[name]:
        assert OWNER_SEES[name] in seen["owner"], f"{url} should show the owner {OWNER_SEES[name]!r}"
