"""Decides, when a message is due, whether it goes through the API, to a person, or nowhere.

Most platforms only let a business answer a creator who wrote first (PLATFORMS.md), and some
creators must not be contacted at all. `decide` is a pure function of `Facts`; `gather_facts`
loads the facts of a whole batch of messages in a constant number of queries.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from crm.models import Creator, SocialAccount
from outreach.models import RECIPIENT_PLATFORM, Conversation, EmailSuppression, OutreachMessage, SenderPlatform

API = OutreachMessage.DeliveryMode.API
MANUAL = OutreachMessage.DeliveryMode.MANUAL
BLOCKED = OutreachMessage.DeliveryMode.BLOCKED

STANDARD_WINDOW = datetime.timedelta(hours=24)
HUMAN_AGENT_WINDOW = datetime.timedelta(days=7)
TIKTOK_WINDOW = datetime.timedelta(hours=48)
TIKTOK_MESSAGES_PER_WINDOW = 10
META_PLATFORMS = {SenderPlatform.INSTAGRAM, SenderPlatform.MESSENGER, SenderPlatform.WHATSAPP}


@dataclass(frozen=True)
class Decision:
    mode: str
    reason: str
    recipient_id: str = ""
    human_agent: bool = False
    whatsapp_template: bool = False
    window_ends_at: datetime.datetime | None = None  # when an open messaging window closes


@dataclass
class Contact:
    campaign_id: int | None
    created_by_id: int | None
    sent_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class Account:
    """What the rules read of a creator's account on a platform (a SocialAccount's values)."""

    handle: str
    platform_user_id: str | None
    accepts_dms: bool | None


@dataclass(frozen=True, slots=True)
class Thread:
    """What the rules read of a conversation (a Conversation's values)."""

    last_inbound_at: datetime.datetime | None
    last_outbound_at: datetime.datetime | None
    platform_conversation_id: str
    outbound_since_inbound: int


@dataclass(frozen=True, slots=True)
class Limits:
    """The contact limits of the settings, read once per batch rather than once per message."""

    consent_countries: tuple
    cooldown_days: int
    weekly_cap: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            tuple(settings.OUTREACH_REQUIRE_CONTACT_CONSENT_COUNTRIES),
            settings.OUTREACH_COOLDOWN_DAYS,
            settings.OUTREACH_CREATOR_WEEKLY_CAP,
        )


@dataclass(slots=True)
class Facts:
    """Everything the rules read about one message, loaded beforehand. `account` and `conversation`
    are Account and Thread values (model instances read the same); `limits` None: the settings now."""

    now: datetime.datetime
    platform: str
    creator: Creator
    human_agent: bool = False
    campaign_id: int | None = None
    created_by_id: int | None = None
    account: Account | SocialAccount | None = None
    conversation: Thread | Conversation | None = None
    whatsapp_template_name: str = ""
    recent_contacts: list[Contact] = field(default_factory=list)
    email_suppressed: str = ""  # why the creator's address is on the suppression list (a hard bounce)
    limits: Limits | None = None


def _ago(delta: datetime.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h ago" if hours < 48 else f"{hours / 24:.0f} days ago"


def decide(facts: Facts) -> Decision:
    """The delivery mode and the reason, first rule that applies wins."""
    creator, platform = facts.creator, facts.platform
    if creator.opted_out_at:
        return Decision(BLOCKED, f"The creator opted out on {creator.opted_out_at:%Y-%m-%d}.")
    if creator.status == Creator.Status.DO_NOT_CONTACT:
        return Decision(BLOCKED, "The creator is marked do-not-contact.")
    if creator.erased_at:
        return Decision(BLOCKED, "The creator's personal data was erased.")

    conversation = facts.conversation
    last_inbound = conversation.last_inbound_at if conversation else None
    answering = bool(
        last_inbound and (not conversation.last_outbound_at or last_inbound >= conversation.last_outbound_at)
    )
    if not answering:
        blocked = _contact_limits(facts)
        if blocked:
            return blocked

    if platform == SenderPlatform.EMAIL:
        if not creator.email:
            return Decision(BLOCKED, "The creator has no email address.")
        if facts.email_suppressed:
            return Decision(BLOCKED, f"The address {creator.email} hard-bounced: {facts.email_suppressed}")
        return Decision(API, "Email may be sent with an unsubscribe link.", recipient_id=creator.email)

    account = facts.account
    wanted = RECIPIENT_PLATFORM[platform]
    if account is None:
        return Decision(BLOCKED, f"The creator has no {wanted} account on file.")
    if platform == SenderPlatform.LINKEDIN:
        return Decision(MANUAL, "LinkedIn has no open messaging API: a person sends it from LinkedIn.")
    if platform in META_PLATFORMS:
        return _meta_window(facts, platform, account, last_inbound)
    if platform == SenderPlatform.TIKTOK:
        return _tiktok_window(facts, account, last_inbound)
    if platform == SenderPlatform.X:
        return _x_rules(account, last_inbound)
    return Decision(MANUAL, f"No automatic sending on {platform}.")


def _contact_limits(facts: Facts) -> Decision | None:
    creator, now = facts.creator, facts.now
    limits = facts.limits or Limits.from_settings()
    if creator.country in limits.consent_countries and not creator.contact_allowed_at:
        return Decision(BLOCKED, f"Creators in {creator.country} must agree to be contacted first; no consent on file.")
    cooldown = datetime.timedelta(days=limits.cooldown_days)
    for contact in facts.recent_contacts:
        if now - contact.sent_at > cooldown:
            continue
        if facts.campaign_id and contact.campaign_id and contact.campaign_id != facts.campaign_id:
            return Decision(
                BLOCKED,
                f"Contacted by another campaign {_ago(now - contact.sent_at)}; "
                f"creators rest {limits.cooldown_days} days between campaigns.",
            )
        if contact.created_by_id and facts.created_by_id and contact.created_by_id != facts.created_by_id:
            return Decision(
                BLOCKED,
                f"Contacted by a teammate {_ago(now - contact.sent_at)}; "
                f"creators rest {limits.cooldown_days} days between teammates.",
            )
    week = [c for c in facts.recent_contacts if now - c.sent_at <= datetime.timedelta(days=7)]
    if len(week) >= limits.weekly_cap:
        return Decision(
            BLOCKED,
            f"Already {len(week)} messages to this creator in 7 days (cap {limits.weekly_cap}).",
        )
    return None


def _meta_window(facts: Facts, platform: str, account: Account, last_inbound) -> Decision:
    label = SenderPlatform(platform).label
    recipient = account.platform_user_id or (account.handle if platform == SenderPlatform.WHATSAPP else "")
    if last_inbound is None:
        if platform == SenderPlatform.WHATSAPP and facts.whatsapp_template_name and facts.creator.contact_allowed_at:
            return Decision(
                API, "Outside the window: sent as the approved WhatsApp template.", recipient, whatsapp_template=True
            )
        return Decision(MANUAL, f"{label} only lets a business answer: this creator has not written to us yet.")
    if not recipient:
        return Decision(MANUAL, f"We do not have the creator's {label} id yet; send it from the app.")
    since = facts.now - last_inbound
    if since <= STANDARD_WINDOW:
        return Decision(
            API,
            f"Inside the 24 h window (creator wrote {_ago(since)}).",
            recipient,
            window_ends_at=last_inbound + STANDARD_WINDOW,
        )
    if facts.human_agent and since <= HUMAN_AGENT_WINDOW and platform != SenderPlatform.WHATSAPP:
        return Decision(
            API,
            f"Human reply inside the 7-day HUMAN_AGENT window (creator wrote {_ago(since)}).",
            recipient,
            True,
            window_ends_at=last_inbound + HUMAN_AGENT_WINDOW,
        )
    if platform == SenderPlatform.WHATSAPP and facts.whatsapp_template_name and facts.creator.contact_allowed_at:
        return Decision(API, "Outside the window: sent as the approved WhatsApp template.", recipient, False, True)
    return Decision(MANUAL, f"The {label} window is closed: the creator last wrote {_ago(since)}.")


def _tiktok_window(facts: Facts, account: Account, last_inbound) -> Decision:
    conversation = facts.conversation
    if last_inbound is None or not conversation.platform_conversation_id:
        return Decision(MANUAL, "TikTok only lets a business answer: this creator has not written to us yet.")
    since = facts.now - last_inbound
    if since > TIKTOK_WINDOW:
        return Decision(MANUAL, f"The TikTok 48 h window is closed: the creator last wrote {_ago(since)}.")
    if conversation.outbound_since_inbound >= TIKTOK_MESSAGES_PER_WINDOW:
        return Decision(MANUAL, "TikTok allows 10 messages per window and they are used; wait for the creator.")
    return Decision(
        API,
        f"Inside TikTok's 48 h window (creator wrote {_ago(since)}).",
        conversation.platform_conversation_id,
        window_ends_at=last_inbound + TIKTOK_WINDOW,
    )


def _x_rules(account: Account, last_inbound) -> Decision:
    if not account.platform_user_id:
        return Decision(MANUAL, "We do not know the creator's X user id; send it from X.")
    if account.accepts_dms is False:
        return Decision(MANUAL, "The creator does not accept DMs from us on X; reach them another way.")
    if last_inbound is None or account.accepts_dms is not True:
        return Decision(MANUAL, "X bans unsolicited automated DMs: a person sends the first one.")
    return Decision(API, "The creator wrote to us on X and accepts our DMs.", account.platform_user_id)


def gather_facts(messages: list[OutreachMessage], now: datetime.datetime, creators=None) -> list[Facts]:
    """Facts for each message, in order (saved or not); messages come with creator and template loaded.
    `creators`: a query of creator ids covering the messages' creators (a superset is fine), so that a
    big batch is not sent to the database as thousands of parameters."""
    if creators is None:
        emails = {m.creator.email for m in messages if m.platform == SenderPlatform.EMAIL and m.creator.email}
    else:
        emails = None if any(m.platform == SenderPlatform.EMAIL and m.creator.email for m in messages) else set()
    known = Known.gather(
        creators if creators is not None else {message.creator_id for message in messages},
        {message.platform for message in messages},
        now,
        emails=emails,
    )
    return [known.facts(message) for message in messages]


@dataclass
class Known:
    """What the rules need to know about a batch of creators on some platforms, read in a constant
    number of queries (`gather`); `facts` gives one message's Facts from it."""

    now: datetime.datetime
    accounts: dict  # (creator id, account platform) -> Account, the addressable one first
    handles: dict  # (creator id, account platform) -> the handle of the creator's first account there
    conversations: dict  # (creator id, sender platform) -> Thread
    contacts: dict  # creator id -> [Contact]
    suppressed: dict  # address -> why
    limits: Limits

    @classmethod
    def gather(cls, creators, platforms, now: datetime.datetime, *, emails=None) -> "Known":
        """`creators`: ids or a query of ids (a superset is fine); `platforms`: the sender platforms the
        messages go on; `emails`: the addresses to look up on the suppression list (None: those of
        `creators`, when a platform is email)."""
        wanted = {RECIPIENT_PLATFORM[p] for p in platforms if p in RECIPIENT_PLATFORM}
        accounts: dict[tuple[int, str], Account] = {}
        first: dict[tuple[int, str], tuple[int, str]] = {}
        if wanted:
            for pk, creator_id, platform, handle, user_id, accepts_dms in (
                SocialAccount.objects.filter(creator_id__in=creators, platform__in=wanted)
                .order_by("platform_user_id", "id")
                .values_list("id", "creator_id", "platform", "handle", "platform_user_id", "accepts_dms")
            ):
                key = (creator_id, platform)
                # Prefer an account whose platform id we know: it is the one that can be addressed.
                if key not in accounts or (user_id and not accounts[key].platform_user_id):
                    accounts[key] = Account(handle, user_id, accepts_dms)
                if key not in first or pk < first[key][0]:
                    first[key] = (pk, handle)
        conversations = {}
        if platforms:
            for creator_id, platform, *thread in Conversation.objects.filter(
                creator_id__in=creators, platform__in=platforms
            ).values_list(
                "creator_id",
                "platform",
                "last_inbound_at",
                "last_outbound_at",
                "platform_conversation_id",
                "outbound_since_inbound",
            ):
                conversations[(creator_id, platform)] = Thread(*thread)
        horizon = now - datetime.timedelta(days=max(settings.OUTREACH_COOLDOWN_DAYS, 7))
        contacts: dict[int, list[Contact]] = {}
        # Sent messages, and those another worker is sending right now, count as contacts.
        for creator_id, campaign_id, created_by_id, sent_at, started_at in (
            OutreachMessage.objects.filter(creator_id__in=creators)
            .filter(
                Q(status=OutreachMessage.Status.SENT, sent_at__gte=horizon)
                | Q(status=OutreachMessage.Status.SENDING, send_started_at__gte=horizon)
            )
            .values_list("creator_id", "campaign_id", "created_by_id", "sent_at", "send_started_at")
        ):
            contacts.setdefault(creator_id, []).append(Contact(campaign_id, created_by_id, sent_at or started_at))
        if emails is None:
            emails = (
                Creator.objects.filter(id__in=creators).exclude(email="").values("email")
                if SenderPlatform.EMAIL in platforms
                else set()
            )
        suppressed = dict(EmailSuppression.objects.filter(address__in=emails).values_list("address", "reason"))
        handles = {key: handle for key, (_, handle) in first.items()}
        return cls(now, accounts, handles, conversations, contacts, suppressed, Limits.from_settings())

    def handle(self, creator_id: int, platform: str) -> str:
        """The creator's handle on the account a sender platform writes to (their first account there)."""
        return self.handles.get((creator_id, RECIPIENT_PLATFORM.get(platform)), "")

    def facts(self, message) -> Facts:
        """One message's facts (a saved or unsaved OutreachMessage)."""
        return self.facts_for(
            message.creator,
            message.platform,
            template=message.template,
            campaign_id=message.campaign_id,
            created_by_id=message.created_by_id,
            human_agent=message.human_agent,
            creator_id=message.creator_id,
            shared=True,
        )

    def facts_for(
        self,
        creator,
        platform: str,
        *,
        template,
        campaign_id,
        created_by_id,
        human_agent=False,
        creator_id=None,
        shared=False,
    ) -> Facts:
        """The facts of a message not made yet: to `creator` on `platform` with `template`. `shared`: the
        creator's list of recent contacts is the one every message of theirs in the batch reads (a worker
        appends the sends it makes); else a creator never contacted gets an empty list of their own,
        not kept (a launch's dry run of thousands appends nothing)."""
        creator_id = creator.pk if creator_id is None else creator_id
        wanted_platform = RECIPIENT_PLATFORM.get(platform)
        return Facts(
            now=self.now,
            platform=platform,
            creator=creator,
            human_agent=human_agent,
            campaign_id=campaign_id,
            created_by_id=created_by_id,
            account=self.accounts.get((creator_id, wanted_platform)) if wanted_platform else None,
            conversation=self.conversations.get((creator_id, platform)),
            whatsapp_template_name=template.whatsapp_template_name if template else "",
            recent_contacts=self.contacts.setdefault(creator_id, []) if shared else self.contacts.get(creator_id) or [],
            email_suppressed=self.suppressed.get(creator.email, "") if platform == "email" else "",
            limits=self.limits,
        )
