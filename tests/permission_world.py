"""The world and the runner of the permission matrix (tests/test_permission_matrix.py).

One small world is built once per test module, inside a transaction that is rolled back at the end:
a campaign with its owner, a teammate and a viewer on its team; another team's campaign; a creator
in both; posts, requests (one granted), an outbox in every state, a conversation with an inbound
and an outbound message; a sender account, templates, sequences, a webhook subscription, an import
job, saved column mappings (the owner's own, another manager's for the team) and an API token of the
owner. Every request of the matrix runs in a savepoint that is rolled back, so each persona meets
the same fresh world and a write by one is not seen by the next.

Nothing reaches a platform: sending is queued with `transaction.on_commit`, and nothing commits. What
answers comments at once (a public reply, hiding, following a hashtag) calls the loopback fake Graph
API (outreach/sandbox/meta_comments.py), primed afresh for every row by `prime_fake`.
"""

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.utils import timezone

from crm import services
from crm.models import AccessRole, CampaignMember, ConsentEvent, Role
from crm.services import column_mappings
from crm.services.rights import Scope
from integrations import services as integrations
from outreach.models import (
    BrandPost,
    Comment,
    Conversation,
    ConversationMessage,
    DiscoveredMedia,
    FollowUpTask,
    HashtagSearch,
    KeywordRule,
    OutreachMessage,
)
from outreach.sandbox.meta_comments import FakeMetaComments
from outreach.services import ugc
from tests.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    ContentFactory,
    CreatorFactory,
    PermissionRequestFactory,
    SocialAccountFactory,
    TagFactory,
    UserFactory,
)
from tests.fakes import running
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory, SequenceFactory, SequenceStepFactory
from web import imports
from web.models import BulkJob, ImportJob

SIGN_IN = "302 to sign-in"  # what anonymous visitors of a page get
PERSONAS = ["anonymous", "viewer", "owner", "teammate", "outsider", "admin"]

# Words that exist once in the world, so a page or an answer that shows them can be caught.
OUR_CAMPAIGN = "AURORA-CAMPAIGN"
OUR_TEXT = "AURORA-TEXT we sent for the campaign"
OUR_POST = "AURORA-POST caption"
OUR_RULE = "AURORA-RULE a person read the yes"
THEIR_CAMPAIGN = "BOREALIS-CAMPAIGN"
THEIR_TEXT = "BOREALIS-TEXT they sent for their campaign"
CREATOR_WORDS = "SAM-OWN-WORDS love the brand, tell me more"
CREATOR_NAME = "Sam Shared"
CONFIRMED_NAME = "Cora Confirmed"
BRAND_MEDIA = "17920000000000001"  # the brand's post on the fake Graph API
SAM_COMMENT = "17900000000000042"  # Sam's comment under it, known to the fake and to the CRM
SAM_HANDLE = "sam.shared"
HASHTAG_BODY = "Hi {{ creator.first_name }}! Reply #YesAcme to let {{ campaign.brand }} share your post."


def build_world():
    """The objects every row of the matrix refers to, as attributes of one namespace."""
    w = SimpleNamespace()
    w.owner = UserFactory(username="alice", first_name="Alice")
    w.teammate = UserFactory(username="bob", first_name="Bob")
    w.outsider = UserFactory(username="charlie", first_name="Charlie")
    w.viewer = UserFactory(username="dave", first_name="Dave")
    AccessRole.objects.create(user=w.viewer, role=Role.VIEWER)
    w.admin = UserFactory(username="root", is_staff=True, is_superuser=True)

    w.campaign = CampaignFactory(owner=w.owner, name=OUR_CAMPAIGN)
    w.campaign.team.add(w.teammate, w.viewer)  # the viewer reads this campaign, and may change nothing
    w.their_campaign = CampaignFactory(owner=w.outsider, name=THEIR_CAMPAIGN)

    w.tag = TagFactory(name="beauty")
    w.creator = CreatorFactory(name=CREATOR_NAME)
    w.account = SocialAccountFactory(creator=w.creator, handle=SAM_HANDLE)
    w.other_creator = CreatorFactory(name="Olive Other")
    SocialAccountFactory(creator=w.other_creator, handle="olive.other")
    w.member = CampaignMemberFactory(campaign=w.campaign, creator=w.creator, stage=CampaignMember.Stage.PROSPECT)
    w.their_member = CampaignMemberFactory(campaign=w.their_campaign, creator=w.creator)
    w.confirmed = CreatorFactory(name=CONFIRMED_NAME)  # in our campaign only, at a stage nobody else has
    CampaignMemberFactory(campaign=w.campaign, creator=w.confirmed, stage=CampaignMember.Stage.CONFIRMED)

    w.sender = SenderAccountFactory(owner=w.owner, api_base_url="https://127.0.0.1:9")
    w.spare_sender = SenderAccountFactory(owner=w.owner, api_base_url="https://127.0.0.1:9")  # no messages: deletable
    w.template = MessageTemplateFactory(body=HASHTAG_BODY, created_by=w.owner)
    w.spare_template = MessageTemplateFactory(name="Nobody uses me", created_by=w.owner)
    w.spare_template = MessageTemplateFactory(body="Hi {{ creator.first_name }}!", created_by=w.owner)  # unused
    w.sequence = SequenceFactory(created_by=w.owner)
    SequenceStepFactory(sequence=w.sequence, template=w.template)
    w.spare_sequence = SequenceFactory(created_by=w.owner)
    SequenceStepFactory(sequence=w.spare_sequence, template=w.template)

    w.post = ContentFactory(creator=w.creator, campaign=w.campaign, caption=OUR_POST)
    w.unasked_post = ContentFactory(creator=w.creator, campaign=w.campaign, caption=OUR_POST)  # no request yet
    w.free_post = ContentFactory(creator=w.creator, campaign=None, caption="A post outside any campaign")
    w.their_post = ContentFactory(creator=w.creator, campaign=w.their_campaign, caption="BOREALIS-POST")
    w.request = PermissionRequestFactory(content=w.post, campaign=w.campaign, requested=True)
    w.granted = PermissionRequestFactory(
        content=ContentFactory(creator=w.creator, campaign=w.campaign, caption=OUR_POST), campaign=w.campaign,
        requested=True,
    )  # fmt: skip
    evidence = services.Evidence(channel="instagram", text="#YesAcme", rule=OUR_RULE,
                                 occurred_at=timezone.now() - datetime.timedelta(hours=1))  # fmt: skip
    w.grant_event = services.grant_rights(w.granted, actor=w.owner, evidence=evidence)
    w.follow_up = FollowUpTask.objects.create(
        creator=w.creator, reason="Answer them personally.", due_at=timezone.now() + datetime.timedelta(hours=4)
    )
    w.their_request = PermissionRequestFactory(content=w.their_post, campaign=w.their_campaign, requested=True)
    w.contact_event = services.record_consent_event(
        kind=ConsentEvent.Kind.CONTACT_ALLOWED, creator=w.creator, actor=w.owner,
        evidence=services.Evidence(rule="the creator wrote first"),
    )  # fmt: skip

    steps = iter(range(1, 100))  # one outbox row per (campaign, creator, step); step 0 is left for launching

    def outbox(status, campaign=None, text="Hi Sam", **extra):
        return OutreachMessage.objects.create(
            step=next(steps), campaign=campaign or w.campaign, creator=w.creator, sender_account=w.sender,
            platform=w.sender.platform, rendered_text=text, status=status, **extra,
        )  # fmt: skip

    w.manual = outbox(OutreachMessage.Status.MANUAL)
    w.cancelled = outbox(OutreachMessage.Status.CANCELLED)
    w.review = outbox(OutreachMessage.Status.NEEDS_REVIEW)
    w.failed = outbox(OutreachMessage.Status.FAILED, error_message="500 from the platform")
    now = timezone.now()
    w.sent = outbox(OutreachMessage.Status.SENT, text=OUR_TEXT, sent_at=now - datetime.timedelta(hours=3))
    w.their_sent = outbox(
        OutreachMessage.Status.SENT,
        campaign=w.their_campaign,
        text=THEIR_TEXT,
        sent_at=now - datetime.timedelta(hours=2),
    )

    build_comments(w)

    w.conversation = Conversation.objects.create(creator=w.creator, platform=w.sender.platform, sender_account=w.sender)

    def said(direction, text, at, **extra):
        return ConversationMessage.objects.create(
            conversation=w.conversation, platform=w.sender.platform, direction=direction, text=text, at=at, **extra
        )

    out, inbound = ConversationMessage.Direction.OUT, ConversationMessage.Direction.IN
    w.said_ours = said(out, OUR_TEXT, now - datetime.timedelta(hours=3), outreach_message=w.sent)
    w.said_theirs = said(out, THEIR_TEXT, now - datetime.timedelta(hours=2), outreach_message=w.their_sent)
    w.inbound = said(inbound, CREATOR_WORDS, now - datetime.timedelta(hours=1),
                     classification=ConversationMessage.Classification.NEEDS_REVIEW)  # fmt: skip

    settings.WEBHOOKS_ALLOW_PRIVATE_URLS, allowed = True, settings.WEBHOOKS_ALLOW_PRIVATE_URLS
    try:
        w.subscription, _secret = integrations.create_subscription(
            actor=w.owner, url="http://127.0.0.1:9/hooks", events_wanted=["consent.granted"]
        )
    finally:
        settings.WEBHOOKS_ALLOW_PRIVATE_URLS = allowed
    w.import_job = ImportJob.objects.create(created_by=w.owner, file_name="creators.csv", stored_path="/nonexistent")
    w.bulk_job = BulkJob.objects.create(created_by=w.owner, action="tag", tag_name="matrix", filter_query="country=DE")
    w.mapping_job = imports.prepare_import(
        SimpleUploadedFile("export.csv", b"Full name,E-mail\nIna Import,ina@example.com\n"), actor=w.owner
    )  # uploaded, its columns still to be matched
    w.column_mapping = column_mappings.save_mapping(
        "Owner's export", ["Full name", "E-mail"], ["name", "email"], actor=w.owner, for_team=False
    )
    w.team_mapping = column_mappings.save_mapping(
        "Agency export", ["Creator", "IG"], ["name", "instagram"], actor=w.outsider, for_team=True
    )  # another manager's, shared with the whole team
    w.owner_token, _key = services.create_api_token(w.owner, name="Zapier")

    w.keys = {}
    w.sessions = {}
    for persona in PERSONAS[1:]:
        user = getattr(w, persona)
        w.keys[persona] = services.create_api_token(user, name="matrix")[1]
        client = Client()
        client.force_login(user)
        w.sessions[persona] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return w


def build_comments(w):
    """Comments and UGC: the brand's Instagram account (on the fake Graph API, primed for every row by
    `prime_fake`), its post with Sam's comment, Sam's posts we found (one free, one in our campaign, one
    already asked for in a comment a person must post: a request of our campaign), a keyword rule and
    a followed hashtag."""
    w.fake = running(FakeMetaComments)
    w.ig = SenderAccountFactory(
        owner=w.owner, name="Acme IG", account_id=IG_ACCOUNT, token=IG_TOKEN, api_base_url=w.fake.url
    )
    now = timezone.now()
    w.brand_post = BrandPost.objects.create(
        platform="instagram", sender_account=w.ig, media_id=BRAND_MEDIA, media_product_type="FEED",
        permalink=f"https://www.instagram.com/p/{BRAND_MEDIA}/", caption="Our serum",
    )  # fmt: skip
    w.comment = Comment.objects.create(
        platform="instagram", comment_id=SAM_COMMENT, source=Comment.Source.OWN_MEDIA, post=w.brand_post,
        sender_account=w.ig, media_id=BRAND_MEDIA, from_id="9001", from_username=SAM_HANDLE, creator=w.creator,
        text="So good! GUIDE please", created_time=now - datetime.timedelta(hours=1),
    )  # fmt: skip

    def found(media_id, content):
        return DiscoveredMedia.objects.create(
            sender_account=w.ig, media_id=media_id, source=DiscoveredMedia.Source.TAGGED, username=SAM_HANDLE,
            permalink=content.url, creator=w.creator, content=content,
        )  # fmt: skip

    w.found = found("sam-free-1", ContentFactory(creator=w.creator, campaign=None, caption="Sam tagged us"))
    w.found_ours = found("sam-ours-1", w.unasked_post)  # the post is our campaign's
    w.asked_found = found("sam-asked-1", ContentFactory(creator=w.creator, campaign=w.campaign, caption=OUR_POST))
    w.comment_request = ugc.request_rights_by_comment(
        w.asked_found,
        actor=w.owner,
        scope=Scope(),
        terms_url="https://acme.example/ugc-terms",
        terms_text="You grant Acme a licence.",
        approval_hashtag="YesAcme",
        brand=OUR_CAMPAIGN,  # its text, for a person to post, names our campaign: the outsider must not see it
    )  # tagged media cannot be commented on by API: the request waits for a person (`manual`)
    w.keyword_rule = KeywordRule.objects.create(sender_account=w.ig, keyword="GUIDE", template=w.template,
                                                created_by=w.owner)  # fmt: skip
    w.hashtag = HashtagSearch.objects.create(sender_account=w.ig, hashtag="summerglow", hashtag_id="17843000000000001",
                                             first_queried_at=now)  # fmt: skip


def prime_fake(w):
    """The fake Graph API as the world knows it: the brand's account (@acme), its post and Sam's comment.
    Reset for every row, so a comment hidden or replied to by one row is fresh for the next."""
    w.fake.reset(now=time.time)
    w.fake.add_instagram_account(IG_ACCOUNT, IG_TOKEN)
    w.fake.set_username(IG_ACCOUNT, "acme")
    w.fake.add_media(BRAND_MEDIA, owner=IG_ACCOUNT, caption="Our serum")
    w.fake.user_comments(BRAND_MEDIA, from_id="9001", username=SAM_HANDLE, text=w.comment.text, comment_id=SAM_COMMENT)


def client_for(world, persona: str, *, api: bool) -> Client:
    """A fresh client for one persona: the API with its token, the pages with its session."""
    if persona == "anonymous":
        return Client()
    if api:
        return Client(headers={"Authorization": f"Token {world.keys[persona]}"})
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[persona]
    return client


@dataclass(frozen=True)
class Without:
    """An allowed status whose answer does not hold the thing (a list without the row, a write refused
    inside the form and shown as an error): the row's `probe` must be False."""

    status: int

    def __repr__(self):
        return f"{self.status} without it"


@dataclass
class Case:
    """One row of the matrix: a request and what each persona gets.

    `url` is a format string over the world (`"/api/v1/campaigns/{w.campaign.pk}/"`) or a function of
    it; `body` a function of it. `expected` maps every persona to a status, or to `Without(status)`.
    `probe(response, world)`, when given, says whether the answer holds the thing (the id in a list,
    the change made); it must be True for a plain 2xx/3xx and False for Without. `key` names what the
    row covers, for the completeness checks: ("api", basename, action, method) or ("page", name, method)."""

    name: str
    method: str
    url: str | Callable[[Any], str]
    expected: dict[str, Any]
    body: Callable[[Any], Any] | None = None
    probe: Callable[[Any, Any], bool] | None = None
    key: tuple = ()
    api: bool = True
    notes: str = ""

    def url_for(self, world) -> str:
        """The row's URL in this world."""
        return self.url.format(w=world) if isinstance(self.url, str) else self.url(world)

    def __post_init__(self):
        missing = set(PERSONAS) - set(self.expected)
        assert not missing, f"{self.name}: no expectation for {sorted(missing)}"


def perform(case: Case, world, persona: str):
    """Run the row's request as `persona` in a savepoint that is rolled back; return (outcome, detail)."""
    client = client_for(world, persona, api=case.api)
    url = case.url_for(world)
    body = case.body(world) if case.body else None
    with transaction.atomic():
        try:
            if case.method == "GET":
                response = client.get(url)
            elif case.api:
                response = client.generic(
                    case.method, url, data=json.dumps(body or {}), content_type="application/json"
                )
            else:
                response = client.post(url, body or {})
            held = case.probe(response, world) if case.probe and response.status_code < 400 else None
        except Exception as error:  # a 500 in the making: report it, with the row that hit it
            transaction.set_rollback(True)
            return f"500 ({type(error).__name__}: {error})", ""
        transaction.set_rollback(True)
    status = response.status_code
    location = response.headers.get("Location", "") if status == 302 else ""
    if status == 302 and location.startswith(resolve_url(settings.LOGIN_URL)):
        return SIGN_IN, location
    outcome = Without(status) if held is False else status
    detail = location or (response.content[:300].decode(errors="replace") if status >= 400 and status != 405 else "")
    return outcome, detail
