"""The demo has a post with comments to answer, and the sandbox's fake knows the same comments, so a
private reply from the demo goes through."""

import pytest
from django.core.management import call_command
from django_q.conf import Conf

from crm.demo import seed_demo
from outreach import demo, demo_comments
from outreach.models import Comment, DiscoveredMedia, KeywordRule
from outreach.services import comments
from tests.fakes.meta_comments import fake_meta_comments  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_post_has_comments_the_sandbox_can_answer(fake_meta_comments, monkeypatch):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    seed_demo()
    urls = {"meta": fake_meta_comments.url, "x": "http://127.0.0.1:1", "tiktok": "http://127.0.0.1:1",
            "smtp": "smtp://127.0.0.1:1"}  # fmt: skip
    sender = demo.setup_demo(urls)[0]
    fake_meta_comments.add_instagram_account(sender.account_id, demo.SANDBOX_TOKEN)
    post = demo_comments.seed_comment_demo(sender)
    demo_comments.seed_comment_demo(sender)  # twice: nothing doubles
    fake_meta_comments.load(sender.account_id, demo_comments.sandbox_state())
    assert post.comments.count() == 3 and KeywordRule.objects.count() == 1 and DiscoveredMedia.objects.count() == 1
    first = Comment.objects.filter(creator__isnull=False).first()
    comments.send_private_reply(first, text="Yes, it works on oily skin!")
    assert [m["comment_id"] for m in fake_meta_comments.private_replies()] == [first.comment_id]


def test_the_sandbox_remote_control_comments_and_delivers(live_server, fake_meta_comments, settings, monkeypatch):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    settings.META_APP_SECRET = "demo-secret"
    seed_demo()
    sender = demo.setup_demo({"meta": fake_meta_comments.url, "x": "", "tiktok": "", "smtp": ""})[0]
    fake_meta_comments.add_instagram_account(sender.account_id, demo.SANDBOX_TOKEN)
    fake_meta_comments.webhook_url = f"{live_server.url}/webhooks/meta/"
    fake_meta_comments.app_secret = "demo-secret"
    call_command("creator_comments", "GUIDE please", handle="new.fan", sandbox_url=fake_meta_comments.url)
    [comment] = Comment.objects.filter(from_username="new.fan")
    assert comment.media_id == demo_comments.DEMO_POST and comment.creator is not None
