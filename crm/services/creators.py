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


def update_creator(
    creator: Creator, *, actor, tags: list[str] | None = None, accounts: list[dict] | None = None, **fields
) -> Creator:
    """Change a creator's details (and, when given, replace their tags and add, change or remove
    their accounts as `save_accounts` does), all or nothing; checked like a form."""
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
        if accounts is not None:
            save_accounts(creator, actor=actor, accounts=accounts)
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


def save_accounts(creator: Creator, *, actor, accounts: list[dict]) -> list[SocialAccount]:
    """Add, change and remove a creator's social accounts in one go, from the edit page or the API.

    Each entry is `{"id": an account of this creator or None for a new one, "platform", "handle",
    "delete": bool}`; handles are normalised as crm.handles does (a pasted profile URL works). Problems
    come back by entry (`{"accounts": [{}, {"handle": [...]}, ...]}`, in the given order): a handle
    another creator has, one listed twice, an unreadable handle, an id that is not this creator's. A
    changed handle is another account: its platform id, profile link and follower count are reset.
    The unique index on (platform, handle) decides when two people save the same handle at once."""
    if creator.erased_at:
        raise DomainError({"creator": ["This creator's data was erased; it cannot be edited."]})
    own = {account.pk: account for account in creator.accounts.all()}
    problems: list[dict] = []
    plan: list[tuple[SocialAccount | None, str, str]] = []  # (existing or None, platform, handle)
    removed: list[SocialAccount] = []
    wanted: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(accounts):
        account = own.get(entry.get("id")) if entry.get("id") else None
        if entry.get("id") and account is None:
            problems.append({"handle": ["This account is not one of this creator's (reload the page)."]})
            continue
        if entry.get("delete"):
            if account is not None:
                removed.append(account)
            problems.append({})
            continue
        platform = entry.get("platform") or ""
        try:
            handle = handles.normalize_handle(platform, entry.get("handle") or "")
        except handles.InvalidHandle as error:
            field = "platform" if str(error).startswith("unknown platform") else "handle"
            problems.append({field: [f"Handle {error}." if field == "handle" else "Choose the platform."]})
            continue
        if (platform, handle) in wanted:
            problems.append(
                {"handle": [f"{platform} @{handle} is listed twice (also in row {wanted[platform, handle] + 1})."]}
            )
            continue
        wanted[platform, handle] = index
        problems.append({})
        plan.append((account, platform, handle))
    keep = {account.pk for account, _, _ in plan if account is not None}
    mentioned = keep | {account.pk for account in removed}
    untouched = {(a.platform, a.handle) for pk, a in own.items() if pk not in mentioned}
    taken = {
        (platform, handle): owner
        for platform, handle, owner in SocialAccount.objects.filter(
            platform__in={p for p, _ in wanted}, handle__in={h for _, h in wanted}
        ).values_list("platform", "handle", "creator_id")
        if owner != creator.pk
    }
    taken.update(dict.fromkeys(untouched & set(wanted), creator.pk))
    for (platform, handle), index in wanted.items():
        owner = taken.get((platform, handle))
        if owner is not None:
            whose = "this creator (another row)" if owner == creator.pk else f"creator {owner}"
            problems[index] = {"handle": [f"{platform} @{handle} already belongs to {whose}."]}
    if any(problems):
        raise DomainError({"accounts": problems})
    try:
        with transaction.atomic():
            SocialAccount.objects.filter(pk__in=[a.pk for a in removed if a.pk not in keep]).delete()
            # Accounts of this creator that the plan no longer lists under their old handle free it first,
            # so two of their accounts can swap handles in one save.
            changed = [(a, p, h) for a, p, h in plan if a is not None and (a.platform, a.handle) != (p, h)]
            for account, _platform, _handle in changed:
                SocialAccount.objects.filter(pk=account.pk).update(handle=f"~{account.pk}")
            for account, platform, handle in changed:
                account.platform, account.handle = platform, handle
                account.platform_user_id, account.follower_count, account.profile_url = None, None, ""
                account.accepts_dms = None
                account.normalize()
                account.save()
            for account, platform, handle in plan:
                if account is None:
                    SocialAccount.objects.create(
                        creator=creator,
                        platform=platform,
                        handle=handle,
                        profile_url=handles.profile_url(platform, handle),
                    )
    except IntegrityError:
        raise DomainError(
            {"accounts": ["Someone saved one of these handles for another creator a moment ago; reload and check."]}
        ) from None
    return list(creator.accounts.order_by("platform", "handle"))


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
