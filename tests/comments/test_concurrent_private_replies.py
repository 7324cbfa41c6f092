"""Four people press "reply privately" on the same comment at the same moment: one DM goes out, the
others are refused without calling the platform (PostgreSQL: the comment row lock and the unique
private reply per comment)."""

import datetime

import pytest
import requests
from django.utils import timezone
from django_q.conf import Conf

from crm import services as crm_services
from outreach.models import BrandPost, Comment, PrivateReply
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.fakes.meta_comments import fake_meta_comments  # noqa: F401
from tests.outreach.factories import SenderAccountFactory
from tests.webhooks.test_concurrent_delivery import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_private_replies_send_one(live_server, fake_meta_comments, monkeypatch, alice):  # noqa: F811
    monkeypatch.setattr(Conf, "SYNC", True)
    fake = fake_meta_comments
    sender = SenderAccountFactory(
        platform="instagram", variant="instagram_login", account_id=IG_ACCOUNT, token=IG_TOKEN, api_base_url=fake.url
    )
    fake.add_media("p1", owner=IG_ACCOUNT)
    said = fake.user_comments("p1", from_id="9001", username="maya", text="Price?")
    post = BrandPost.objects.create(platform="instagram", media_id="p1", sender_account=sender)
    comment = Comment.objects.create(
        platform="instagram", comment_id=said.comment_id, post=post, sender_account=sender, media_id="p1",
        from_id="9001", from_username="maya", text="Price?", created_time=timezone.now() - datetime.timedelta(hours=1),
    )  # fmt: skip
    token = crm_services.create_api_token(alice, name="t", role="manager")[1]
    url = f"{live_server.url}/api/v1/comments/{comment.pk}/private-reply/"
    answers = at_once(
        4,
        lambda: requests.post(url, json={"text": "20 EUR"}, headers={"Authorization": f"Token {token}"}, timeout=20),
    )
    assert sorted(answer.status_code for answer in answers) == [201, 400, 400, 400]
    assert PrivateReply.objects.count() == 1 and len(fake.private_replies()) == 1
    assert len(fake.requests_to(r"/messages$")) == 1
