"""Campaigns and their members: create and change a campaign, add creators, move a member along the
stages or assign them to a teammate."""

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone

from crm.errors import DomainError, check, set_checked
from crm.models import Campaign, CampaignMember, Role, role_of


def create_campaign(*, actor, team=(), **fields) -> Campaign:
    """A campaign owned by whoever creates it, checked like a form (dates, hashtag) before it is saved."""
    campaign = Campaign(owner=actor, **fields)
    check(campaign)
    with transaction.atomic():
        campaign.save()
        campaign.team.set(team)
    return campaign


def update_campaign(campaign: Campaign, *, actor, team=None, **fields) -> Campaign:
    """Change a campaign's details or team; the owner stays (an admin can reassign it in the admin)."""
    set_checked(campaign, fields)
    with transaction.atomic():
        campaign.save()
        if team is not None:
            campaign.team.set(team)
    return campaign


def check_assignee(campaign: Campaign, assignee) -> None:
    """A member is assigned to someone who works on the campaign: its owner, its team, or an admin."""
    if assignee is None:
        return
    if role_of(assignee) != Role.ADMIN and not (
        campaign.owner_id == assignee.pk or campaign.team.filter(pk=assignee.pk).exists()
    ):
        raise DomainError({"assignee": ["Assign the campaign's owner, a teammate on it, or an admin."]})


def add_to_campaign(campaign: Campaign, creators, *, actor, assignee=None) -> int:
    """Add creators to a campaign as prospects; creators already in it are left as they are.
    Returns how many were added. Safe to run twice or at once from two places (unique member)."""
    check_assignee(campaign, assignee)
    creator_ids = [getattr(creator, "pk", creator) for creator in creators]
    members = CampaignMember.objects.filter(campaign=campaign, creator_id__in=creator_ids)
    already = set(members.values_list("creator_id", flat=True))
    new = [
        CampaignMember(campaign=campaign, creator_id=creator_id, assignee=assignee)
        for creator_id in dict.fromkeys(creator_ids)
        if creator_id not in already
    ]
    return len(CampaignMember.objects.bulk_create(new, ignore_conflicts=True))


def update_member(member, *, actor, **changes):
    """Move a member to another stage and/or assign them, in one transaction."""
    with transaction.atomic():
        if "assignee" in changes:
            check_assignee(member.campaign, changes["assignee"])
            member.assignee = changes["assignee"]
            member.save(update_fields=["assignee"])
        if "stage" in changes:
            move_member(member, changes["stage"], actor=actor)
    return member


def move_member(member, stage: str, *, actor):
    """Move a campaign member to another stage (the board's one action)."""
    if stage not in CampaignMember.Stage.values:
        raise DomainError({"stage": [f"Choose one of {', '.join(CampaignMember.Stage.values)}."]})
    if member.stage != stage:
        member.stage, member.stage_changed_at = stage, timezone.now()
        member.save(update_fields=["stage", "stage_changed_at"])
    return member


def remove_member(member, *, actor) -> None:
    """Take a creator off a campaign (added by mistake, or no longer wanted). The creator, their
    messages and consent history stay; only the membership goes."""
    try:
        with transaction.atomic():
            member.delete()
    except ProtectedError:
        raise DomainError({"member": ["Something still refers to this membership; it cannot be removed."]}) from None
