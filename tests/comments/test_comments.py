"""Comments, private replies, keyword rules, hashtags and rights asked under a comment, against the
fake Graph API over loopback HTTP; webhooks go through the real receiver (signed, stored once)."""

import json

import pytest
from django_q.conf import Conf

from crm import services as crm_services
from crm.errors import DomainError
from crm.models import ConsentEvent, PermissionRequest
from outreach import tasks
from outreach.models import (
    BrandPost,
    Comment,
    CommentRightsRequest,
    DiscoveredMedia,
    FollowUpTask,
    HashtagSearch,
    PrivateReply,
)
from outreach.services import comments, ugc
from outreach.webhooks import meta
from tests.factories import CreatorFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.fakes.meta_comments import fake_meta_comments  # noqa: F401
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "meta-app-secret"
POST = "18000000000000009"


@pytest.fixture
def fake(fake_meta_comments, settings, monkeypatch):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.META_APP_SECRET = SECRET
    settings.COMMENT_REQUEST_INTERVAL_SECONDS = 0
    return fake_meta_comments


@pytest.fixture
def sender(fake):
    return SenderAccountFactory(
        name="Acme", platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, token=IG_TOKEN,
        api_base_url=fake.url,
    )  # fmt: skip


def deliver(client, payload: dict):
    body = json.dumps(payload).encode()
    answer = client.post(
        "/webhooks/meta/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=meta.sign(body, SECRET)
    )
    assert answer.status_code == 200
    return answer.json()


def commented(client, fake, text, *, username="mayahart", from_id="9001", media=POST, **kwargs) -> Comment:
    said = fake.user_comments(media, from_id=from_id, username=username, text=text, **kwargs)
    deliver(client, fake.comment_webhook(IG_ACCOUNT, said))
    return Comment.objects.get(comment_id=said.comment_id)


# --- parsing -------------------------------------------------------------------------------------


def test_the_parser_reads_every_comment_shape_beside_the_dms():
    payload = {
        "object": "instagram",
        "entry": [{
            "id": IG_ACCOUNT, "time": 1_764_000_000,
            "messaging": [{"sender": {"id": "1"}, "recipient": {"id": IG_ACCOUNT}, "timestamp": 1_764_000_000_000,
                           "message": {"mid": "m1", "text": "hi"}}],
            "changes": [
                {"field": "comments", "value": {"id": "c1", "text": "Nice", "from": {"id": "5", "username": "Maya"},
                                                "media": {"id": "p1", "media_product_type": "FEED"}}},
                {"field": "live_comments", "value": {"id": "c2", "text": "Hi live", "from": {"id": "6"},
                                                     "media": {"id": "l1", "media_product_type": "LIVE"}}},
                {"field": "mentions", "value": {"media_id": "p9", "comment_id": "c9"}},
                {"field": "mentions", "value": {"media_id": "p8"}},
            ],
        }],
    }  # fmt: skip
    parsed = meta.parse(payload)
    assert parsed[0].message_id == "m1"
    first, live, mention, caption = parsed[1:]
    assert (first.comment_id, first.media_id, first.from_username, first.live) == ("c1", "p1", "maya", False)
    assert first.at.timestamp() == 1_764_000_000
    assert (live.live, live.kind) == (True, "comment")
    assert (mention.kind, mention.media_id, mention.comment_id) == ("mention", "p9", "c9")
    assert (caption.kind, caption.comment_id) == ("mention", "")
    page = {"object": "page", "entry": [{"id": "104", "time": 1_764_000_000, "changes": [
        {"field": "feed", "value": {"item": "comment", "verb": verb, "comment_id": "104_1", "post_id": "104_p",
                                    "parent_id": "104_p", "from": {"id": "77", "name": "Ann Lee"}, "message": "Yes",
                                    "created_time": 1_764_000_100}}
        for verb in ("add", "edited", "remove")
    ] + [{"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": "104_p"}}]}]}  # fmt: skip
    add, edited, removed = meta.parse(page)
    assert (add.platform, add.kind, add.parent_id, add.from_name) == ("messenger", "comment", "", "Ann Lee")
    assert (edited.kind, removed.kind, add.at.timestamp()) == ("comment_edited", "comment_removed", 1_764_000_100)


def test_page_comments_are_threaded_edited_and_removed(client, fake):
    def feed(verb, message):
        value = {"item": "comment", "verb": verb, "comment_id": "104_1", "post_id": "104_p",
                 "parent_id": "104_p", "from": {"id": "77", "name": "Ann Lee"}, "message": message,
                 "created_time": 1_764_000_100}  # fmt: skip
        return {"object": "page", "entry": [{"id": "104", "time": 1, "changes": [{"field": "feed", "value": value}]}]}

    deliver(client, feed("add", "Lovely"))
    deliver(client, feed("edited", "Lovely!!"))
    comment = Comment.objects.get()
    assert (comment.platform, comment.text, comment.post.media_id, comment.creator.name) == (
        "messenger", "Lovely!!", "104_p", "Ann Lee"
    )  # fmt: skip
    deliver(client, feed("remove", ""))
    comment.refresh_from_db()
    assert comment.removed and "removed" in comments.private_reply_problem(comment)


# --- private replies -----------------------------------------------------------------------------


def test_a_live_comment_gets_a_private_reply_only_while_live(client, fake, sender):
    fake.add_media("live1", owner=IG_ACCOUNT, live=True)
    during = commented(client, fake, "Hello from the live", media="live1")
    after = commented(client, fake, "Still here", media="live1", from_id="9002", username="sam")
    assert during.live and BrandPost.objects.get(media_id="live1").live
    assert comments.send_private_reply(during, text="Thanks for watching!").status == "pending"  # queued, then sent
    assert PrivateReply.objects.get(comment=during).status == "sent"

    # The fake's Live ended but nobody told the CRM: the platform refuses, and the reply is used up.
    fake.end_live("live1")
    comments.send_private_reply(after, text="Thanks!")
    refused = PrivateReply.objects.get(comment=after)
    assert refused.status == "failed" and refused.error_code.startswith("too_late:")
    after.refresh_from_db()
    assert after.reply_used_at is not None
    calls = len(fake.requests_to(r"/messages$"))
    late = commented(client, fake, "One more", media="live1", from_id="9003", username="kim")
    assert BrandPost.objects.get(media_id="live1").live_ended_at is not None  # learnt from the refusal
    with pytest.raises(DomainError, match="Live this comment was made on has ended"):
        comments.send_private_reply(late, text="Hi")
    assert len(fake.requests_to(r"/messages$")) == calls


def test_a_comment_already_answered_elsewhere_is_marked_used(client, fake, sender):
    fake.add_media(POST, owner=IG_ACCOUNT)
    comment = commented(client, fake, "Price?")
    fake.private_replied[comment.comment_id] = fake.now()  # answered from the Instagram app
    comments.send_private_reply(comment, text="It's 20 EUR")
    reply = PrivateReply.objects.get()
    assert (reply.status, reply.error_code) == ("failed", "already_replied:10900")
    comment.refresh_from_db()
    assert comment.reply_used_at and "already had" in comments.private_reply_problem(comment)
    assert comments.deliver_private_reply(reply.pk) == "failed"  # a task run twice calls nothing
    assert len(fake.requests_to(r"/messages$")) == 1


def test_the_hourly_cap_refuses_before_the_platform(client, fake, sender, monkeypatch):
    fake.add_media(POST, owner=IG_ACCOUNT)
    monkeypatch.setattr(comments, "OUR_HOURLY_CAP", 1)
    first = commented(client, fake, "a")
    second = commented(client, fake, "b", from_id="9002", username="sam")
    comments.send_private_reply(first, text="Hi")
    with pytest.raises(DomainError, match="in the last hour"):
        comments.send_private_reply(second, text="Hi")
    assert len(fake.private_replies()) == 1


def test_a_keyword_gets_one_automatic_private_reply_per_commenter_and_a_task(client, fake, sender, alice):
    fake.add_media(POST, owner=IG_ACCOUNT)
    template = MessageTemplateFactory(body='Hi {{ creator.first_name|default:"there" }}! The guide: acme.example/g')
    comments.save_keyword_rule(actor=alice, sender_account=sender, keyword="GUIDE", template=template)
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="mayahart")
    commented(client, fake, "guide please!")
    commented(client, fake, "GUIDE again?")
    commented(client, fake, "guidebook?", from_id="9002", username="sam")  # not the word on its own
    [reply] = PrivateReply.objects.all()
    assert (reply.automatic, reply.status, reply.creator) == (True, "sent", maya)
    [dm] = fake.private_replies()
    assert dm["text"] == "[Automatic reply] Hi Maya! The guide: acme.example/g"
    [task] = FollowUpTask.objects.all()
    assert task.creator == maya and "GUIDE" in task.reason
    with pytest.raises(DomainError, match="one word"):
        comments.save_keyword_rule(actor=alice, sender_account=sender, keyword="two words", template=template)


def test_hide_and_public_reply_go_through_the_platform(client, fake, sender, alice):
    fake.add_media(POST, owner=IG_ACCOUNT)
    comment = commented(client, fake, "spam spam")
    comments.hide_comment(comment, hide=True, actor=alice)
    assert fake.comments[comment.comment_id].hidden and Comment.objects.get(pk=comment.pk).hidden
    with pytest.raises(DomainError, match="Hidden comments"):
        comments.reply_publicly(comment, text="Thanks", actor=alice)
    other = commented(client, fake, "Great!", from_id="9002", username="sam")
    mine = comments.reply_publicly(other, text="Thank you!", actor=alice)
    assert mine.ours and fake.comments[mine.comment_id].parent_id == other.comment_id


# --- hashtags and rights asked under a comment ---------------------------------------------------


def test_a_hashtag_that_is_no_hashtag_is_refused_before_the_platform_is_asked(fake, sender):
    for wrong in ["", "#", "two words", "glow✨"]:
        with pytest.raises(DomainError, match="letters, digits or _") as refused:
            ugc.search_hashtag(sender, wrong)
        assert refused.value.errors.keys() == {"hashtag"}
    assert fake.requests_to("ig_hashtag_search") == [] and not HashtagSearch.objects.exists()


def test_a_hashtag_search_the_platform_never_answers_is_refused_by_field(fake):
    unreachable = SenderAccountFactory(
        name="Acme", platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, token=IG_TOKEN,
        api_base_url="http://127.0.0.1:1",
    )  # fmt: skip
    with pytest.raises(DomainError, match="The platform refused") as refused:
        ugc.search_hashtag(unreachable, "glowup")
    assert refused.value.errors.keys() == {"hashtag"} and IG_TOKEN not in str(refused.value.errors)
    assert not HashtagSearch.objects.exists()  # nothing spent of the 30-a-week budget


def test_the_hashtag_budget_is_30_unique_per_7_days(fake, sender):
    for n in range(30):
        ugc.search_hashtag(sender, f"tag{n}")
    ugc.search_hashtag(sender, "#TAG3")  # re-querying is free
    assert ugc.hashtag_budget(sender)["remaining"] == 0
    searches = len(fake.requests_to("ig_hashtag_search"))
    with pytest.raises(DomainError, match="30 hashtags"):
        ugc.search_hashtag(sender, "one_more")
    assert len(fake.requests_to("ig_hashtag_search")) == searches  # refused here, not by the platform
    HashtagSearch.objects.filter(hashtag="tag0").update(first_queried_at="2020-01-01T00:00:00Z")
    assert ugc.hashtag_budget(sender)["remaining"] == 1


def test_a_hashtag_find_is_asked_under_the_authors_comment_on_our_post(client, fake, sender, alice):
    fake.add_media("18300000000000001", owner="lena.k", caption="Sunday #acmeglow")
    ugc.poll_hashtag(ugc.search_hashtag(sender, "acmeglow"))
    found = DiscoveredMedia.objects.get(source="hashtag")
    assert found.username == "" and found.content is None  # hashtag finds carry no username
    scope = crm_services.Scope(channels=["organic_social"])
    terms = {"terms_url": "https://acme.example/t", "terms_text": "T.", "approval_hashtag": "YesAcme"}
    with pytest.raises(DomainError, match="author is not known"):
        ugc.request_rights_by_comment(found, actor=alice, scope=scope, **terms)

    fake.add_media(POST, owner=IG_ACCOUNT)
    lena = commented(client, fake, "That was my pic!", username="lena.k", from_id="9300")
    asked = ugc.request_rights_by_comment(
        found, actor=alice, scope=scope, author_username="lena.k", via_comment=lena, **terms
    )
    asked.refresh_from_db()
    [posted] = fake.comments_by_business()
    assert (asked.method, asked.status, posted.parent_id) == ("comment_reply", "sent", lena.comment_id)

    commented(client, fake, "what do I do?", username="lena.k", from_id="9300", parent_id=lena.comment_id)
    commented(client, fake, "#YesAcme", username="sam", from_id="9301", parent_id=lena.comment_id)
    asked.refresh_from_db()
    assert asked.status == "author_replied" and FollowUpTask.objects.filter(creator=lena.creator).exists()
    assert not ConsentEvent.objects.exists()
    yes = commented(client, fake, "ok #yesacme", username="lena.k", from_id="9300", parent_id=lena.comment_id)
    request = PermissionRequest.objects.get()
    assert request.status == "granted"
    grant = ConsentEvent.objects.get()
    assert (grant.channel, grant.inbound_message_id) == ("instagram_comment", yes.comment_id)


def test_wordings_rotate_and_sends_are_paced(client, fake, sender, alice, settings):
    settings.COMMENT_REQUEST_INTERVAL_SECONDS = 600
    for n in (1, 2):
        fake.add_media(f"1840000000000000{n}", owner=f"maker{n}", caption=f"@acme love #{n}")
        deliver(client, fake.mention_webhook(IG_ACCOUNT, f"1840000000000000{n}"))
    scope = crm_services.Scope(channels=["organic_social"])
    asked = [
        ugc.request_rights_by_comment(
            found, actor=alice, scope=scope, terms_url="https://acme.example/t", terms_text="T.",
            approval_hashtag="YesAcme",
        )
        for found in DiscoveredMedia.objects.order_by("id")
    ]  # fmt: skip
    first, second = (CommentRightsRequest.objects.get(pk=a.pk) for a in asked)
    assert first.status == "sent" and second.status == "pending"
    assert (second.due_at - first.due_at).total_seconds() == pytest.approx(600, abs=2)
    assert first.variant != second.variant and first.text.split()[1:] != second.text.split()[1:]
    assert ugc.send_due_comment_requests() == 0  # not due yet
    assert len(fake.comments_by_business()) == 1


def test_an_answer_to_a_request_nobody_marked_posted_goes_to_a_person(client, fake, sender, alice):
    media = fake.add_media("18500000000000001", owner="lena.k", caption="Weekend")
    media.tagged.add(IG_ACCOUNT)
    ugc.poll_tagged(sender)
    found = DiscoveredMedia.objects.get()
    asked = ugc.request_rights_by_comment(
        found, actor=alice, scope=crm_services.Scope(channels=["website"]), terms_url="https://acme.example/t",
        terms_text="T.", approval_hashtag="YesAcme",
    )  # fmt: skip
    assert asked.status == "manual"
    # A person posted it from the app (as @acme) but did not mark it; the author answers.
    ours = fake._post_comment(IG_ACCOUNT, "18500000000000001", asked.text, "")
    yes = fake.user_comments("18500000000000001", from_id="9500", username="lena.k", text="@acme #YesAcme",
                             parent_id=ours.comment_id)  # fmt: skip
    deliver(client, fake.mention_webhook(IG_ACCOUNT, "18500000000000001", yes.comment_id))
    assert PermissionRequest.objects.get().status == "draft" and not ConsentEvent.objects.exists()
    assert FollowUpTask.objects.filter(reason__contains="answered a rights request").exists()


def test_the_hourly_poll_finds_tags_and_hashtag_media_and_the_paced_request_goes_out_later(
    client, fake, sender, alice, settings
):
    tagged = fake.add_media("18600000000000001", owner="ivy.r", caption="Beach day")
    tagged.tagged.add(IG_ACCOUNT)
    fake.add_media("18600000000000002", owner="zed", caption="#acmesun at noon")
    ugc.search_hashtag(sender, "acmesun")
    assert tasks.poll_tags_and_hashtags() == 2 and tasks.poll_tags_and_hashtags() == 0
    assert set(DiscoveredMedia.objects.values_list("source", flat=True)) == {"tagged", "hashtag"}

    settings.COMMENT_REQUEST_INTERVAL_SECONDS = 3600
    for n in (3, 4):
        fake.add_media(f"1860000000000000{n}", owner=f"maker{n}", caption="@acme yes")
        deliver(client, fake.mention_webhook(IG_ACCOUNT, f"1860000000000000{n}"))
    for found in DiscoveredMedia.objects.filter(source="caption_mention").order_by("id"):
        ugc.request_rights_by_comment(
            found, actor=alice, scope=crm_services.Scope(channels=["website"]), terms_url="https://acme.example/t",
            terms_text="T.", approval_hashtag="YesAcme",
        )  # fmt: skip
    later = CommentRightsRequest.objects.get(status="pending")
    assert tasks.send_due_comment_requests() == 0
    CommentRightsRequest.objects.filter(pk=later.pk).update(due_at=later.due_at.replace(year=2020))
    assert tasks.send_due_comment_requests() == 1 and tasks.send_due_comment_requests() == 0
    assert len(fake.comments_by_business()) == 2
