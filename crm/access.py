"""Who may see or change what: the one place every page, API view, task and service asks.

Roles (`crm.models.Role`): viewers read, managers work on the campaigns they own or are on the team
of, admins do everything. What hangs off a campaign follows the campaign; a few things belong to a
person; the rest is shared by the whole team.

What a manager of another team sees of a shared creator: the person (name, handles, tags, contact
status, opt-outs) and the creator's own words to the brand (inbound messages), because everyone must
know who they are and whether they may be contacted. Not another team's campaigns, the messages we
sent for them, their posts, permission requests or rights decisions: those are 404 in the API and
absent from the pages, the creator's page and timeline included.

Usage: `visible(queryset, user)` / `workable(queryset, user)` narrow any queryset of a model listed
below; `can_see(obj, user)` / `can_change(obj, user)` answer for one object. A model that is not
listed is refused loudly, so a new model cannot be forgotten: add it to one of the tables.
"""

from django.db.models import Q, QuerySet

from crm.errors import DomainError
from crm.models import Campaign, Role, role_of

# Models that follow a campaign, and the path from each to it. A row whose campaign is empty (a post
# or request outside any campaign, a reply to nobody's campaign) is the whole team's.
CAMPAIGN_SCOPED = {
    "crm.Campaign": "",
    "crm.CampaignMember": "campaign",
    "crm.Content": "campaign",
    "crm.PermissionRequest": "campaign",
    "crm.ConsentEvent": "permission_request__campaign",
    "outreach.OutreachMessage": "campaign",
    "outreach.Launch": "campaign",
    "outreach.ConversationMessage": "outreach_message__campaign",
    "outreach.CommentRightsRequest": "permission_request__campaign",
    "outreach.ConversationMessageVersion": "message__outreach_message__campaign",
}

# Models that belong to one person: they see and change their own; admins everyone's.
OWNED = {
    "integrations.WebhookSubscription": "owner",
    "web.ImportJob": "created_by",
    "web.BulkJob": "created_by",
    "web.Preferences": "user",
    "crm.ApiToken": "user",
}

# A person's own, or the whole team's when the row says so (the field named here is true): a saved
# column mapping of the importer. Its owner changes it; a team one any manager; admins every one.
OWNED_OR_TEAM = {
    "crm.ColumnMapping": ("owner", "for_team"),
}

# Bookkeeping no person reads or changes (the importer's memory of the creators a running import
# wrote): nobody sees it through a page or the API; admins in the admin site.
INTERNAL = {"crm.ImportSeenCreator"}

# Shared by the whole team: everyone signed in reads them, managers and admins change them, except
# where a person owns the row (a sender account is changed by its owner or an admin).
SHARED = {
    "crm.Creator": None,
    "crm.SocialAccount": None,
    "crm.Tag": None,
    "outreach.Conversation": None,
    "outreach.MessageTemplate": None,
    "outreach.Sequence": None,
    "outreach.FollowUpTask": None,
    "outreach.InboundEvent": None,
    "outreach.SenderAccount": "owner",
    # Comments, mentions and UGC found on the platforms: the brand's, so the whole team's.
    "outreach.BrandPost": None,
    "outreach.Comment": None,
    "outreach.KeywordRule": None,
    "outreach.PrivateReply": None,
    "outreach.DiscoveredMedia": None,
    "outreach.HashtagSearch": None,
    "outreach.MailboxFolder": "sender_account__owner",
    "outreach.EmailSuppression": None,
}


def is_admin(user) -> bool:
    return role_of(user) == Role.ADMIN


def can_write(user) -> bool:
    """Managers and admins change data; viewers (and anonymous visitors) do not."""
    return role_of(user) in {Role.ADMIN, Role.MANAGER}


def visible_campaigns(user) -> QuerySet:
    """Admins see every campaign; others those they own or are on the team of (no DISTINCT needed)."""
    if is_admin(user):
        return Campaign.objects.all()
    if not role_of(user):
        return Campaign.objects.none()
    on_team = Campaign.team.through.objects.filter(user_id=user.pk).values("campaign_id")
    return Campaign.objects.filter(Q(owner_id=user.pk) | Q(pk__in=on_team))


def workable_campaigns(user) -> QuerySet:
    """The campaigns a user may change: those they see, none for a viewer."""
    return visible_campaigns(user) if can_write(user) else Campaign.objects.none()


def _label(queryset: QuerySet) -> str:
    return queryset.model._meta.label


def _campaign_rule(path: str, campaigns: QuerySet) -> Q:
    if not path:
        return Q(pk__in=campaigns.values("pk"))
    return Q(**{f"{path}__isnull": True}) | Q(**{f"{path}__in": campaigns.values("pk")})


def visible(queryset: QuerySet, user) -> QuerySet:
    """The rows of `queryset` this person may see."""
    label = _label(queryset)
    if not role_of(user):
        return queryset.none()
    if label in CAMPAIGN_SCOPED:
        if is_admin(user):
            return queryset
        return queryset.filter(_campaign_rule(CAMPAIGN_SCOPED[label], visible_campaigns(user)))
    if label in OWNED:
        return queryset if is_admin(user) else queryset.filter(**{OWNED[label]: user.pk})
    if label in OWNED_OR_TEAM:
        owner, for_team = OWNED_OR_TEAM[label]
        return queryset if is_admin(user) else queryset.filter(Q(**{owner: user.pk}) | Q(**{for_team: True}))
    if label in INTERNAL:
        return queryset if is_admin(user) else queryset.none()
    if label in SHARED:
        return queryset
    raise LookupError(f"crm/access.py does not say who may see {label}; add it to one of its tables.")


def workable(queryset: QuerySet, user) -> QuerySet:
    """The rows of `queryset` this person may change."""
    label = _label(queryset)
    if not can_write(user):
        return queryset.none()
    if label in CAMPAIGN_SCOPED:
        if is_admin(user):
            return queryset
        return queryset.filter(_campaign_rule(CAMPAIGN_SCOPED[label], workable_campaigns(user)))
    if label in OWNED:
        return queryset if is_admin(user) else queryset.filter(**{OWNED[label]: user.pk})
    if label in OWNED_OR_TEAM:
        return visible(queryset, user)
    if label in INTERNAL:
        return queryset if is_admin(user) else queryset.none()
    if label in SHARED:
        owner = SHARED[label]
        return queryset if owner is None or is_admin(user) else queryset.filter(**{owner: user.pk})
    raise LookupError(f"crm/access.py does not say who may change {label}; add it to one of its tables.")


def can_see(obj, user) -> bool:
    return obj is not None and visible(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def can_change(obj, user) -> bool:
    """One object: may this person change it (or act on it: launch, decide, mark sent)?"""
    if obj is None:
        return False
    label = obj._meta.label
    if not can_write(user):
        return False
    if is_admin(user):
        return True
    if label == "crm.Campaign":
        return obj.owner_id == user.pk or obj.team.filter(pk=user.pk).exists()
    if label in CAMPAIGN_SCOPED:
        campaign = _campaign_of(obj, CAMPAIGN_SCOPED[label])
        return campaign is None or can_change(campaign, user)
    if label in OWNED_OR_TEAM:
        owner, for_team = OWNED_OR_TEAM[label]
        return getattr(obj, f"{owner}_id") == user.pk or bool(getattr(obj, for_team))
    if label in INTERNAL:
        return False
    owner = OWNED.get(label) or SHARED.get(label)
    if owner:  # read from the row itself: no query, so a list can ask for every row
        return getattr(obj, f"{owner}_id") == user.pk
    return label in SHARED


def _campaign_of(obj, path: str):
    for step in path.split("__"):
        obj = getattr(obj, step, None)
        if obj is None:
            return None
    return obj


def can_work_on(campaign, user) -> bool:
    """Managers work on the campaigns they own or are on the team of; admins on all; viewers on none."""
    return can_change(campaign, user)


def ensure_workable(campaign, user, field: str = "campaign") -> None:
    """Refuse, as a field error worded like an unknown id, a campaign this person does not work on
    (another team's campaign named in a body must not reveal that it exists)."""
    if campaign is not None and not can_work_on(campaign, user):
        raise DomainError({field: ["No campaign you work on has this id."]})
