"""Creators and their accounts and tags: add, change, tag in bulk, and erase a person's data (the
CRM's part of GDPR erasure; outreach erases the message bodies too)."""

import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm import handles
from crm.errors import DomainError, check, set_checked
from crm.models import Creator, EvidenceText, SocialAccount, Tag

MAX_FOLLOWERS = 10**11  # more than anyone has; keeps a typo from overflowing the column


def tag_named(name: str):
    """The tag of this name in any case, created if new (also when two requests create it at once)."""
    name = name.strip()
    found = Tag.objects.filter(name__iexact=name).first()
    if found:
        return found
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:
        return Tag.objects.get(name__iexact=name)


def create_tag(name: str) -> Tag:
    """A new tag; a name another tag has (whatever the case) is refused by field, also when two
    requests create it at once (the unique index decides)."""
    name = " ".join((name or "").split())
    taken = DomainError({"name": ["Give a name not used by another tag (case does not count)."]})
    if not name or Tag.objects.filter(name__iexact=name).exists():
        raise taken
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name)
    except IntegrityError:
        raise taken from None


def create_creator(*, actor, name: str, accounts: list[dict], tags: list[str] | None = None, **fields) -> Creator:
    """A creator with their accounts, owned by whoever adds them; every problem is named by field."""

    creator = Creator(name=name, owner=actor if getattr(actor, "is_authenticated", False) else None, **fields)
    check(creator)
    problems, normalised, seen = [], [], set()
    for account in accounts:
        try:
            handle = handles.normalize_handle(account.get("platform", ""), account.get("handle", ""))
        except handles.InvalidHandle as error:
            problems.append({"handle": [str(error)]})
            normalised.append(None)
            continue
        taken = SocialAccount.objects.filter(platform=account["platform"], handle=handle).values_list(
            "creator_id", flat=True
        )
        if taken:
            problems.append({"handle": [f"{account['platform']} @{handle} already belongs to creator {taken[0]}."]})
            normalised.append(None)
            continue
        if (account["platform"], handle) in seen:
            problems.append({"handle": [f"{account['platform']} @{handle} is listed twice."]})
            normalised.append(None)
            continue
        seen.add((account["platform"], handle))
        problems.append({})
        normalised.append(handle)
    if any(problems):
        raise DomainError({"accounts": problems})
    with transaction.atomic():
        creator.save()
        for account, handle in zip(accounts, normalised, strict=True):
            SocialAccount.objects.create(
                creator=creator,
                platform=account["platform"],
                handle=handle,
                follower_count=account.get("follower_count"),
            )
        for tag_name in tags or []:
            tag = tag_named(tag_name)
            creator.tags.add(tag)
    return creator


def update_creator(creator: Creator, *, actor, tags: list[str] | None = None, **fields) -> Creator:
    """Change a creator's details (and, when given, replace their tags); checked like a form."""
    if creator.erased_at:
        raise DomainError({"creator": ["This creator's data was erased; it cannot be edited."]})
    set_checked(creator, fields)
    with transaction.atomic():
        creator.save()
        if tags is not None:
            wanted = []
            for tag_name in dict.fromkeys(t.strip() for t in tags if t.strip()):
                wanted.append(tag_named(tag_name))
            creator.tags.set(wanted)
    return creator


def add_social_account(creator: Creator, *, actor, platform: str, handle: str, follower_count=None):
    """Another account of a known creator, by handle or profile URL, refused when it is someone else's."""

    try:
        handle = handles.normalize_handle(platform, handle)
    except handles.InvalidHandle as error:
        raise DomainError({"handle": [str(error)]}) from None
    owner_id = SocialAccount.objects.filter(platform=platform, handle=handle).values_list("creator_id", flat=True)
    if owner_id:
        raise DomainError({"handle": [f"{platform} @{handle} already belongs to creator {owner_id[0]}."]})
    return SocialAccount.objects.create(
        creator=creator, platform=platform, handle=handle, follower_count=follower_count
    )


def tag_creators(creators, tag_name: str, *, actor) -> int:
    """Put one tag on many creators (a bulk action); the tag is created if new. Returns how many got it."""
    tag_name = (tag_name or "").strip()
    if not tag_name:
        raise DomainError({"tag": ["Give the tag a name."]})
    creator_ids = [getattr(creator, "pk", creator) for creator in creators]
    with transaction.atomic():
        tag = tag_named(tag_name)
        through = Creator.tags.through
        already = set(through.objects.filter(tag=tag, creator_id__in=creator_ids).values_list("creator_id", flat=True))
        rows = [through(creator_id=pk, tag=tag) for pk in dict.fromkeys(creator_ids) if pk not in already]
        return len(through.objects.bulk_create(rows, ignore_conflicts=True))


def erase_creator_personal_data(creator: Creator, *, actor) -> Creator:
    """GDPR erasure of the CRM's part: the person and their words go; the proof of decisions stays.

    Their name, email, notes, tags, accounts and every message body kept as evidence are removed;
    the ledger keeps kind, time, scope, platform message ids and the hashes (of texts and of each
    handle, kept on the creator), so a decision can still be shown to have been made.
    """
    with transaction.atomic():
        creator = Creator.objects.select_for_update().get(pk=creator.pk)
        if creator.erased_at:
            return creator
        handles = sorted(
            hashlib.sha256(f"{platform}:{handle}".encode()).hexdigest()
            for platform, handle in creator.accounts.values_list("platform", "handle")
        )
        EvidenceText.objects.filter(creator=creator).delete()
        creator.accounts.all().delete()
        creator.tags.clear()
        creator.name = f"Erased creator {creator.pk}"
        creator.email = ""
        creator.notes = f"Erased on request by {actor.get_username() if actor else 'the system'}."
        creator.erased_handle_hashes = handles
        creator.erased_at = timezone.now()
        creator.save()
        return creator
