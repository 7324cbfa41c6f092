"""TikTok comments on the brand's own videos, against the loopback TikTok API for Business over HTTP:
polled with its cursors, stored once per comment id, threaded per video, the commenter matched to a
creator; public replies and hiding go through the API; a private reply or a keyword rule is refused
without calling TikTok (it has none); rights asked under a creator's comment are granted by the
author's own #YesAcme reply, read by the poll."""

import time

import pytest
import requests
from django_q.conf import Conf

from crm import services as crm_services
from crm.errors import DomainError
from crm.models import ConsentEvent, PermissionRequest
from crm.services.rights import Scope
from outreach import tasks
from outreach.channels import tiktok_comments as api
from outreach.channels.base import Outcome, new_session
from outreach.models import BrandPost, Comment, CommentRightsRequest, PrivateReply
from outreach.sandbox import tiktok as fake_codes
from outreach.services import comments, tiktok_comments, ugc
from tests.factories import CreatorFactory, SocialAccountFactory
from tests.fakes.tiktok import BRAND_BUSINESS_ID, BRAND_TIKTOK_TOKEN, fake_tiktok_comments, tiktok_config  # noqa: F401
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)
VIDEO = "7300000000000000042"


@pytest.fixture
def fake(fake_tiktok_comments, settings, monkeypatch):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.COMMENT_REQUEST_INTERVAL_SECONDS = 0
    fake_tiktok_comments.add_video(BRAND_BUSINESS_ID, VIDEO, caption="Our serum, on TikTok")
    return fake_tiktok_comments


@pytest.fixture
def sender(fake):
    return SenderAccountFactory(
        name="Acme TikTok", platform="tiktok", variant="", account_id=BRAND_BUSINESS_ID, token=BRAND_TIKTOK_TOKEN,
        api_base_url=fake.url,
    )  # fmt: skip


@pytest.fixture
def api_session(live_server, alice):
    session = requests.Session()
    session.headers["Authorization"] = f"Token {crm_services.create_api_token(alice, name='t', role='manager')[1]}"
    return session, f"{live_server.url}/api/v1"


def test_the_adapter_follows_the_cursors_and_reads_the_error_envelope(fake):
    for n in range(45):
        fake.user_comments(VIDEO, user_id=f"u{n}", username=f"fan{n}", text=f"comment {n}", at=fake.clock() - n)
    first = fake.user_comments(VIDEO, user_id="u-maya", username="MayaHart", text="Love it", at=fake.clock() - 100)
    for n in range(5):  # more than the 3 replies TikTok inlines: the rest come from reply/list/
        fake.user_comments(
            VIDEO, user_id=f"r{n}", username=f"replier{n}", text=f"reply {n}", parent_id=first.comment_id
        )
    config = tiktok_config(fake)
    with new_session(fake.url) as session:
        page = api.list_comments(session, config, VIDEO)
        assert (len(page.items), page.cursor, page.has_more) == (30, 30, True)
        found = api.all_comments(session, config, VIDEO)
    assert len(found) == 46 + 5 and len({c.comment_id for c in found}) == 51
    maya = next(c for c in found if c.comment_id == first.comment_id)
    assert (maya.username, maya.user_id, maya.reply_count, len(maya.inline_replies)) == ("mayahart", "u-maya", 5, 3)
    assert {c.parent_id for c in found if c.username.startswith("replier")} == {first.comment_id}
    assert len(fake.requests_to(r"/comment/list/$")) == 3 and len(fake.requests_to(r"/comment/reply/list/$")) == 1
    [listing] = fake.requests_to(r"/comment/list/$")[:1]
    assert listing.header("Access-Token") == BRAND_TIKTOK_TOKEN and listing.query["status"] == ["ALL"]

    with new_session(fake.url) as session:
        with pytest.raises(api.TikTokReadError) as refused:
            api.list_comments(session, tiktok_config(fake, access_token="act.wrong"), VIDEO)
        assert refused.value.result.outcome == Outcome.AUTH_BROKEN
        assert refused.value.result.error_code == str(fake_codes.ACCESS_TOKEN_INVALID)
        with pytest.raises(api.TikTokReadError) as unknown:
            api.list_comments(session, config, "7399999999999999999")
        assert unknown.value.result.error_code == str(fake_codes.INVALID_PARAMETER)
        too_long = api.reply_publicly(session, config, VIDEO, first.comment_id, "x" * 151)
        assert too_long.outcome == Outcome.REJECTED and "150" in too_long.error_message
        fake.fail_next(BRAND_BUSINESS_ID, code=fake_codes.TOO_MANY_REQUESTS, message="Too many requests")
        assert api.reply_publicly(session, config, VIDEO, first.comment_id, "Hi").outcome == Outcome.RETRY
    assert fake.replies_by_business() == []


def test_polled_comments_are_stored_once_threaded_per_video_and_matched_to_creators(fake, sender):
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="tiktok", handle="mayahart")
    said = fake.user_comments(VIDEO, user_id="u-maya", username="mayahart", text="Where can I buy it?")
    stranger = fake.user_comments(VIDEO, user_id="u-new", username="new.fan", text="So cute")
    fake.add_video(BRAND_BUSINESS_ID, "7300000000000000043", caption="Second video")
    other = fake.user_comments("7300000000000000043", user_id="u-maya", username="mayahart", text="Again!")

    assert tasks.poll_tiktok_comments() == 3
    assert tasks.poll_tiktok_comments() == 0  # stored once per comment id
    post = BrandPost.objects.get(platform="tiktok", media_id=VIDEO)
    assert (post.sender_account, post.caption) == (sender, "Our serum, on TikTok")
    assert post.permalink.endswith(f"/video/{VIDEO}")
    assert {c.comment_id for c in post.comments.all()} == {said.comment_id, stranger.comment_id}
    assert Comment.objects.get(comment_id=other.comment_id).post.media_id == "7300000000000000043"
    mine = Comment.objects.get(comment_id=said.comment_id)
    assert (mine.creator, mine.from_id, mine.platform) == (maya, "u-maya", "tiktok")
    prospect = Comment.objects.get(comment_id=stranger.comment_id).creator
    assert prospect.accounts.get(platform="tiktok").handle == "new.fan"
    maya.refresh_from_db()
    assert maya.accounts.get(platform="tiktok").platform_user_id == "u-maya"

    fake.comments[stranger.comment_id].hidden = True  # hidden in TikTok's app: kept in step
    tasks.poll_tiktok_comments()
    assert Comment.objects.get(comment_id=stranger.comment_id).hidden is True


def test_reply_and_hide_go_through_tiktok_and_a_private_reply_is_refused_without_a_call(fake, sender, api_session):
    session, base = api_session
    said = fake.user_comments(VIDEO, user_id="u-maya", username="mayahart", text="Where can I buy it?")
    tiktok_comments.poll_comments(sender)
    comment = Comment.objects.get(comment_id=said.comment_id)

    listed = session.get(f"{base}/comments/{comment.pk}/", timeout=10).json()
    assert "TikTok has no private replies" in listed["private_reply_allowed"]
    calls = len(fake.received)
    refused = session.post(f"{base}/comments/{comment.pk}/private-reply/", json={"text": "DM"}, timeout=10)
    assert refused.status_code == 400 and "TikTok has no private replies" in refused.json()["comment"][0]
    assert len(fake.received) == calls and not PrivateReply.objects.exists()  # TikTok was never called

    too_long = session.post(f"{base}/comments/{comment.pk}/reply/", json={"text": "x" * 151}, timeout=10)
    assert too_long.status_code == 400 and "150" in too_long.json()["text"][0]
    assert len(fake.received) == calls
    reply = session.post(f"{base}/comments/{comment.pk}/reply/", json={"text": "At acme.example!"}, timeout=10)
    assert reply.status_code == 201, reply.text
    [posted] = fake.replies_by_business(BRAND_BUSINESS_ID)
    assert (posted.parent_id, posted.text) == (said.comment_id, "At acme.example!")
    assert (
        reply.json()["ours"] is True and Comment.objects.get(comment_id=posted.comment_id).parent_id == said.comment_id
    )
    assert tiktok_comments.poll_comments(sender) == 0  # our own reply, listed back, is not stored twice

    hidden = session.post(f"{base}/comments/{comment.pk}/hide/", json={"hide": True}, timeout=10)
    assert hidden.status_code == 200 and hidden.json()["hidden"] is True
    assert fake.comments[said.comment_id].hidden is True
    [hide_call] = fake.requests_to(r"/comment/hide/$")
    assert hide_call.json == {"business_id": BRAND_BUSINESS_ID, "video_id": VIDEO, "comment_id": said.comment_id,
                              "action": "HIDE"}  # fmt: skip


def test_keyword_rules_are_refused_on_tiktok_and_never_answer_there(fake, sender, alice):
    with pytest.raises(DomainError) as refused:
        comments.save_keyword_rule(
            actor=alice, sender_account=sender, keyword="GUIDE", template=MessageTemplateFactory()
        )
    assert "TikTok has no private replies" in str(refused.value.errors["sender_account"])
    fake.user_comments(VIDEO, user_id="u1", username="lead", text="GUIDE please")
    tiktok_comments.poll_comments(sender)
    assert not PrivateReply.objects.exists()


def test_rights_asked_under_a_tiktok_comment_are_granted_by_the_authors_hashtag_reply(fake, sender, alice):
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="tiktok", handle="mayahart")
    said = fake.user_comments(VIDEO, user_id="u-maya", username="mayahart", text="I made a video with it!")
    tiktok_comments.poll_comments(sender)
    via = Comment.objects.get(comment_id=said.comment_id)
    link = "https://www.tiktok.com/@mayahart/video/7311111111111111111?lang=en"
    found = ugc.discover_by_link(sender, link, "@MayaHart")
    assert (found.platform, found.source, found.creator, found.content.platform) == ("tiktok", "link", maya, "tiktok")

    scope = Scope(channels=["organic_social"], territory="worldwide", exclusive=False, duration_days=365)
    asked = ugc.request_rights_by_comment(
        found, actor=alice, scope=scope, terms_url="https://acme.example/t", terms_text="Terms.",
        approval_hashtag="YesAcme", brand="Acme", via_comment=via,
    )  # fmt: skip
    asked.refresh_from_db()
    [ours] = fake.replies_by_business(BRAND_BUSINESS_ID)
    assert asked.status == "sent" and asked.method == "comment_reply" and len(ours.text) <= 150
    assert ours.parent_id == said.comment_id and "#YesAcme" in ours.text and "https://acme.example/t" in ours.text

    fake.clock.current = time.time() + 5  # the answers come after we asked
    fake.user_comments(VIDEO, user_id="u-troll", username="not.maya", text="#YesAcme", parent_id=ours.comment_id)
    tiktok_comments.poll_comments(sender)
    request = PermissionRequest.objects.get(pk=asked.permission_request_id)
    assert request.status == "requested" and not ConsentEvent.objects.exists()  # someone else's hashtag

    yes = fake.user_comments(VIDEO, user_id="u-maya", username="mayahart", text="#YesAcme", parent_id=ours.comment_id)
    assert tasks.poll_tiktok_comments() == 1
    request.refresh_from_db()
    assert request.status == "granted"
    grant = ConsentEvent.objects.get(permission_request=request)
    assert (grant.channel, grant.inbound_message_id, grant.inbound_text) == (
        "tiktok_comment",
        yes.comment_id,
        "#YesAcme",
    )
    assert CommentRightsRequest.objects.get().status == "answered"
    assert tasks.poll_tiktok_comments() == 0 and ConsentEvent.objects.count() == 1


def test_a_post_found_by_hand_is_added_by_its_link(fake, sender, api_session):
    session, base = api_session
    added = session.post(
        f"{base}/discovered-media/by-link/",
        json={
            "sender_account": sender.pk,
            "permalink": "https://www.tiktok.com/@lena.k/video/7322",
            "username": "@Lena.K",
        },
        timeout=10,
    )
    assert added.status_code == 201, added.text
    assert (added.json()["source"], added.json()["username"]) == ("link", "lena.k")
    again = session.post(
        f"{base}/discovered-media/by-link/",
        json={"sender_account": sender.pk, "permalink": "https://tiktok.com/@lena.k/video/7322/", "username": "lena.k"},
        timeout=10,
    )
    assert again.json()["id"] == added.json()["id"]  # one find per link
    blank = session.post(
        f"{base}/discovered-media/by-link/",
        json={"sender_account": sender.pk, "permalink": "https://www.tiktok.com/@x/video/1", "username": "@"},
        timeout=10,
    )
    assert blank.status_code == 400 and "author" in blank.json()["username"][0]


def test_the_polls_are_scheduled():
    import importlib

    from django.apps import apps
    from django_q.models import Schedule

    importlib.import_module("outreach.migrations.0017_tiktok_comments").create(apps, None)  # flushed: run it again
    every = dict(Schedule.objects.values_list("func", "minutes"))
    assert every["outreach.tasks.poll_tiktok_comments"] == 10 and callable(tasks.poll_tiktok_comments)
    assert every["outreach.tasks.poll_rights_request_replies"] == 15 and callable(tasks.poll_rights_request_replies)


def test_a_refused_poll_stores_nothing_and_the_next_one_carries_on(fake, sender):
    fake.user_comments(VIDEO, user_id="u1", username="fan", text="Hello")
    fake.fail_next(BRAND_BUSINESS_ID, code=fake_codes.ACCESS_TOKEN_INVALID, message="Access token is incorrect.")
    assert tasks.poll_tiktok_comments() == 0 and not Comment.objects.exists()  # logged, the others go on
    assert tasks.poll_tiktok_comments() == 1
