"""The comments loop over real HTTP: the fake Graph API posts signed comment and mention webhooks to
a live CRM, the CRM answers through the fake. A creator comments on the brand's post and gets one
private reply (a second or late one is refused without calling the platform); a creator's post that
mentions the brand appears as content, the rights request goes out as a comment, someone else's
hashtag does nothing, the author's `#YesAcme` reply grants with the comment as evidence, and the
proof shows it. Nothing is sent twice."""

import datetime
import time

import pytest
import requests
from django_q.conf import Conf

from crm import services as crm_services
from crm.models import ConsentEvent, Content, PermissionRequest
from outreach.models import Comment, CommentRightsRequest, DiscoveredMedia, PrivateReply
from outreach.services import ugc
from tests.factories import CreatorFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.fakes.meta_comments import fake_meta_comments  # noqa: F401
from tests.outreach.factories import SenderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "meta-app-secret"


@pytest.fixture
def world(live_server, fake_meta_comments, settings, monkeypatch, alice):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.META_APP_SECRET = SECRET
    settings.COMMENT_REQUEST_INTERVAL_SECONDS = 0
    fake = fake_meta_comments
    fake.webhook_url, fake.app_secret = f"{live_server.url}/webhooks/meta/", SECRET
    sender = SenderAccountFactory(
        name="Acme Instagram", platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT,
        token=IG_TOKEN, api_base_url=fake.url,
    )  # fmt: skip
    api = requests.Session()
    api.headers["Authorization"] = f"Token {crm_services.create_api_token(alice, name='t', role='manager')[1]}"
    return fake, sender, api, f"{live_server.url}/api/v1"


def call(api, method, url, expect=200, **body):
    answer = api.request(method, url, json=body or None, timeout=10)
    assert answer.status_code == expect, (url, answer.status_code, answer.text[:500])
    return answer.json() if answer.content else None


def test_a_comment_gets_one_private_reply_and_no_more(world):
    fake, _, api, base = world
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="mayahart")
    fake.add_media("18000000000000001", owner=IG_ACCOUNT, caption="Our new serum")
    said = fake.user_comments("18000000000000001", from_id="9001", username="mayahart", text="Where can I buy it?")
    assert fake.emit(fake.comment_webhook(IG_ACCOUNT, said)).json() == {"received": True, "duplicate": False}
    assert fake.emit(fake.comment_webhook(IG_ACCOUNT, said)).json()["duplicate"] is True

    comment = Comment.objects.get(comment_id=said.comment_id)
    assert (comment.creator, comment.post.media_id, comment.live) == (maya, "18000000000000001", False)
    [post] = call(api, "GET", f"{base}/brand-posts/")["results"]
    [listed] = call(api, "GET", f"{base}/brand-posts/{post['id']}/comments/")
    assert listed["text"] == "Where can I buy it?" and listed["private_reply_allowed"] == ""

    reply = call(api, "POST", f"{base}/comments/{comment.pk}/private-reply/", 201, text="Here's the link: acme.example")
    assert reply["status"] == "sent"
    [dm] = fake.private_replies(IG_ACCOUNT)
    assert (dm["comment_id"], dm["recipient"], dm["text"]) == (said.comment_id, "9001", "Here's the link: acme.example")
    assert fake._last_inbound.get((IG_ACCOUNT, "9001")) is None  # a private reply opens no window

    calls_before = len(fake.requests_to(r"/messages$"))
    again = call(api, "POST", f"{base}/comments/{comment.pk}/private-reply/", 400, text="And again")
    assert "already had its one private reply" in again["comment"][0]
    late = fake.user_comments(
        "18000000000000001", from_id="9002", username="old.fan", text="Love it", at=fake.clock() - 8 * 86400
    )
    fake.emit(fake.comment_webhook(IG_ACCOUNT, late))
    old = Comment.objects.get(comment_id=late.comment_id)
    refused = call(api, "POST", f"{base}/comments/{old.pk}/private-reply/", 400, text="Hi")
    assert "within 7 days" in refused["comment"][0]
    assert len(fake.requests_to(r"/messages$")) == calls_before  # refused without calling the platform
    assert PrivateReply.objects.count() == 1 and len(fake.private_replies()) == 1


def test_a_mention_becomes_content_and_the_authors_hashtag_reply_grants(world, client, alice):
    fake, _, api, base = world
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="mayahart")
    fake.add_media("18100000000000001", owner="mayahart", caption="Glowing with @acme serum #glow", media_type="VIDEO")
    fake.emit(fake.mention_webhook(IG_ACCOUNT, "18100000000000001"))

    [found] = call(api, "GET", f"{base}/discovered-media/")["results"]
    assert (found["source"], found["username"], found["creator"]) == ("caption_mention", "mayahart", maya.pk)
    assert found["permalink"] == "https://www.instagram.com/p/18100000000000001/"
    assert found["caption"].startswith("Glowing") and found["media_type"] == "VIDEO" and found["thumbnail_url"]
    content = Content.objects.get(pk=found["content"])
    assert content.creator == maya and content.platform_post_id == "18100000000000001"

    asked = call(api, "POST", f"{base}/discovered-media/{found['id']}/request-rights/", 201,
                 channels=["organic_social", "paid_ads"], terms_url="https://acme.example/ugc-terms",
                 terms_text="Acme may repost this post with credit.", approval_hashtag="YesAcme", brand="Acme",
                 duration_days=365)  # fmt: skip
    [ours] = fake.comments_by_business(IG_ACCOUNT)
    assert asked["status"] == "sent" and asked["method"] == "mention_reply"
    assert ours.media_id == "18100000000000001" and ours.parent_id == ""
    for words in ("@mayahart", "Acme", "organic social and paid ads", "https://acme.example/ugc-terms", "#YesAcme"):
        assert words in ours.text
    request = PermissionRequest.objects.get(pk=asked["permission_request"])
    assert (request.status, request.request_text) == ("requested", ours.text)

    # Someone else's hashtag never grants.
    troll = fake.user_comments(
        "18100000000000001", from_id="9100", username="not.maya", text="@acme #YesAcme", parent_id=ours.comment_id
    )
    fake.emit(fake.mention_webhook(IG_ACCOUNT, "18100000000000001", troll.comment_id))
    request.refresh_from_db()
    assert request.status == "requested" and not ConsentEvent.objects.exists()

    # The post's author answers with the hashtag: granted, with the comment as evidence.
    yes = fake.user_comments(
        "18100000000000001", from_id="9001", username="mayahart", text="@acme #YesAcme", parent_id=ours.comment_id
    )
    mention = fake.mention_webhook(IG_ACCOUNT, "18100000000000001", yes.comment_id)
    fake.emit(mention)
    assert fake.emit(mention).json()["duplicate"] is True
    request.refresh_from_db()
    assert request.status == "granted"
    grant = ConsentEvent.objects.get(permission_request=request)
    assert (grant.channel, grant.inbound_message_id, grant.inbound_text) == ("instagram_comment", yes.comment_id,
                                                                               "@acme #YesAcme")  # fmt: skip
    assert grant.outbound_text == ours.text and "post's author @mayahart" in grant.rule
    assert CommentRightsRequest.objects.get().status == "answered"

    client.force_login(alice)
    proof = client.get(f"/permission-requests/{request.pk}/proof.json").json()
    [entry] = proof["ledger"]
    assert (entry["channel"], entry["platform_message_id"], entry["creator_text"]) == (
        "instagram_comment", yes.comment_id, "@acme #YesAcme",
    )  # fmt: skip
    assert proof["asked_with_text"] == ours.text and proof["ledger_intact"] is True
    page = client.get(f"/permission-requests/{request.pk}/proof/").content.decode()
    assert "instagram_comment" in page or "Instagram comment" in page
    assert len(fake.comments_by_business()) == 1 and DiscoveredMedia.objects.count() == 1


def test_a_tagged_post_is_asked_by_a_person(world):
    fake, sender, api, base = world
    media = fake.add_media("18200000000000001", owner="lena.k", caption="Weekend vibes")
    media.tagged.add(IG_ACCOUNT)
    assert ugc.poll_tagged(sender) == 1 and ugc.poll_tagged(sender) == 0
    found = DiscoveredMedia.objects.get(source="tagged")
    asked = call(api, "POST", f"{base}/discovered-media/{found.pk}/request-rights/", 201, channels=["website"],
                 terms_url="https://acme.example/t", terms_text="Terms.", approval_hashtag="YesAcme")  # fmt: skip
    assert asked["status"] == "manual" and asked["open_url"] == "https://www.instagram.com/p/18200000000000001/"
    assert fake.comments_by_business() == []  # the API forbids commenting on tagged media: a person does it
    posted = call(api, "POST", f"{base}/comment-rights-requests/{asked['id']}/mark-posted/")
    assert posted["status"] == "sent"
    assert PermissionRequest.objects.get(pk=asked["permission_request"]).status == "requested"
    assert datetime.datetime.fromisoformat(posted["sent_at"].replace("Z", "+00:00"))


def test_the_whole_loop_with_an_answer_that_comes_by_no_webhook(world, client, alice):
    """ "Done means", in one go. The author answers our request comment with "#YesAcme" and no @mention:
    Meta sends no webhook for that (`mentions` needs an @mention, `comments` covers our own media only,
    PLATFORMS-UGC.md §1b-§1c), so the scheduled poll reads the mentioned post's comments and grants."""
    from outreach import tasks

    fake, _, api, base = world
    maya = CreatorFactory(name="Maya Hart")
    SocialAccountFactory(creator=maya, platform="instagram", handle="mayahart")

    # 1. A creator comments on the brand's post and gets one private reply, never a second.
    fake.add_media("18300000000000001", owner=IG_ACCOUNT, caption="Our new serum")
    said = fake.user_comments("18300000000000001", from_id="9001", username="mayahart", text="Where to buy?")
    fake.emit(fake.comment_webhook(IG_ACCOUNT, said))
    comment = Comment.objects.get(comment_id=said.comment_id)
    assert (
        call(api, "POST", f"{base}/comments/{comment.pk}/private-reply/", 201, text="acme.example")["status"] == "sent"
    )
    call(api, "POST", f"{base}/comments/{comment.pk}/private-reply/", 400, text="again")
    assert len(fake.private_replies(IG_ACCOUNT)) == 1

    # 2. Her post that mentions the brand becomes content; 3. the rights request goes out as a comment.
    fake.add_media("18300000000000002", owner="mayahart", caption="Glowing with @acme serum")
    fake.emit(fake.mention_webhook(IG_ACCOUNT, "18300000000000002"))
    found = DiscoveredMedia.objects.get(media_id="18300000000000002")
    assert found.content.creator == maya
    terms = {"terms_url": "https://acme.example/t", "terms_text": "Terms.", "approval_hashtag": "YesAcme"}
    asked = call(api, "POST", f"{base}/discovered-media/{found.pk}/request-rights/", 201, channels=["website"], **terms)
    [ours] = fake.comments_by_business(IG_ACCOUNT)
    assert asked["status"] == "sent" and "#YesAcme" in ours.text

    # 4. Someone else's hashtag and then the author's own reply, neither @mentioning us: no webhook.
    fake.clock.current = time.time() + 5  # they answer after we asked
    fake.user_comments(
        "18300000000000002", from_id="9100", username="not.maya", text="#YesAcme", parent_id=ours.comment_id
    )
    yes = fake.user_comments("18300000000000002", from_id="9001", username="mayahart", text="#YesAcme",
                             parent_id=ours.comment_id)  # fmt: skip
    request = PermissionRequest.objects.get(pk=asked["permission_request"])
    assert request.status == "requested"
    assert tasks.poll_rights_request_replies() == 1 and tasks.poll_rights_request_replies() == 0
    request.refresh_from_db()
    assert request.status == "granted"
    grant = ConsentEvent.objects.get(permission_request=request)
    assert (grant.inbound_message_id, grant.inbound_text, grant.outbound_text) == (
        yes.comment_id,
        "#YesAcme",
        ours.text,
    )
    assert Comment.objects.filter(comment_id=yes.comment_id).count() == 1

    # 5. The proof page shows the comment evidence.
    client.force_login(alice)
    proof = client.get(f"/permission-requests/{request.pk}/proof.json").json()
    [entry] = proof["ledger"]
    assert (entry["channel"], entry["platform_message_id"], entry["creator_text"]) == (
        "instagram_comment", yes.comment_id, "#YesAcme",
    )  # fmt: skip
    page = client.get(f"/permission-requests/{request.pk}/proof/").content.decode()
    assert yes.comment_id in page or "#YesAcme" in page
    assert len(fake.comments_by_business()) == 1 and len(fake.private_replies()) == 1  # nothing sent twice
