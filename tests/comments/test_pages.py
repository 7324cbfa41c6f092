"""The comments pages: the inbox per post answers through the fake Graph API; UGC found, keyword
rules and the hashtag budget are listed; viewers read but cannot act."""

import json

import pytest
from django_q.conf import Conf

from crm.models import AccessRole, PermissionRequest
from outreach.models import CommentRightsRequest, DiscoveredMedia, KeywordRule, PrivateReply
from outreach.webhooks import meta
from tests.factories import UserFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.fakes.meta_comments import fake_meta_comments  # noqa: F401
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "s"


@pytest.fixture
def setup(client, fake_meta_comments, settings, monkeypatch, alice):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.META_APP_SECRET = SECRET
    settings.COMMENT_REQUEST_INTERVAL_SECONDS = 0
    fake = fake_meta_comments
    sender = SenderAccountFactory(
        name="Acme IG", platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, token=IG_TOKEN,
        api_base_url=fake.url,
    )  # fmt: skip
    fake.add_media("p1", owner=IG_ACCOUNT, caption="Our serum")
    said = fake.user_comments("p1", from_id="9001", username="mayahart", text="So good")
    body = json.dumps(fake.comment_webhook(IG_ACCOUNT, said)).encode()
    client.post("/webhooks/meta/", body, content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=meta.sign(body, SECRET))  # fmt: skip
    fake.add_media("m1", owner="mayahart", caption="with @acme")
    body = json.dumps(fake.mention_webhook(IG_ACCOUNT, "m1")).encode()
    client.post("/webhooks/meta/", body, content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=meta.sign(body, SECRET))  # fmt: skip
    client.force_login(alice)
    return fake, sender


def test_the_inbox_answers_a_comment_privately_and_asks_for_rights(client, setup):
    fake, sender = setup
    home = client.get("/comments/")
    assert home.status_code == 200 and b"p1" in home.content and b"@mayahart" in home.content
    assert b"0 of 30 hashtags used" in home.content
    post = client.get(f"/comments/posts/{home.context['posts'][0].pk}/")
    [row] = post.context["rows"]
    comment = row["comment"]
    answer = client.post(f"/comments/{comment.pk}/private-reply/", {"text": "Thank you!"}, follow=True)
    assert b"queued" in answer.content and PrivateReply.objects.get().status == "sent"
    again = client.post(f"/comments/{comment.pk}/private-reply/", {"text": "Again"}, follow=True)
    assert b"already had its one private reply" in again.content and len(fake.private_replies()) == 1

    found = DiscoveredMedia.objects.get()
    client.post(f"/comments/found/{found.pk}/request-rights/", {
        "channels": ["organic_social"], "terms_url": "https://acme.example/t", "terms_text": "T.",
        "approval_hashtag": "YesAcme", "brand": "Acme"})  # fmt: skip
    assert CommentRightsRequest.objects.get().status == "sent"
    assert PermissionRequest.objects.get().status == "requested"
    template = MessageTemplateFactory(name="Guide")
    client.post("/comments/keyword-rules/", {"sender_account": sender.pk, "keyword": "GUIDE", "template": template.pk})
    assert KeywordRule.objects.get().keyword == "GUIDE"
    client.post("/comments/hashtags/", {"sender_account": sender.pk, "hashtag": "#summerglow"})
    assert b"1 of 30 hashtags used" in client.get("/comments/").content


def test_viewers_read_but_cannot_answer(client, setup):
    viewer = UserFactory(username="vera")
    AccessRole.objects.update_or_create(user=viewer, defaults={"role": "viewer"})
    client.force_login(viewer)
    home = client.get("/comments/")
    assert home.status_code == 200 and b"Mark as posted" not in home.content
    comment = client.get(f"/comments/posts/{home.context['posts'][0].pk}/").context["rows"][0]["comment"]
    assert client.post(f"/comments/{comment.pk}/private-reply/", {"text": "x"}).status_code == 403
    assert not PrivateReply.objects.exists()


def test_bad_ids_and_empty_fields_are_refused_by_name(client, setup):
    assert client.post("/comments/keyword-rules/", {"sender_account": "abc", "template": "x"}).status_code == 404
    assert client.post("/comments/hashtags/", {"sender_account": "1; drop"}).status_code == 404
    found = DiscoveredMedia.objects.get()
    answer = client.post(f"/comments/found/{found.pk}/request-rights/", {"terms_url": ""}, follow=True)
    assert b"channels" in answer.content and not CommentRightsRequest.objects.exists()
