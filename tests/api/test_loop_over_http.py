"""The whole outreach and consent loop over HTTP, as another tool would run it: a real server, the
API with a token, email through a loopback SMTP server, the creator's answer through the email
webhook, and the ad manager's question "may this post run?" answered from the ledger."""

import re

import pytest
import requests
from django_q.conf import Conf

from crm import services

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL_SECRET = "mail-secret"


@pytest.fixture
def sync_queue(monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 reads its settings once: patch Conf, not settings
    settings.EMAIL_WEBHOOK_SECRET = EMAIL_SECRET
    settings.EMAIL_TRUSTED_AUTHSERV_IDS = ["mx.acme.example.com"]  # the gateway vouches for senders


def test_a_tool_runs_outreach_and_collects_consent_over_http(live_server, smtp_sink, sync_queue, alice):
    api = requests.Session()
    api.headers["Authorization"] = f"Token {services.create_api_token(alice, name='glue', role='manager')[1]}"
    base = f"{live_server.url}/api/v1"

    def call(method, path, **body):
        answer = api.request(method, f"{base}{path}", json=body or None, timeout=10)
        assert answer.status_code < 300, (path, answer.status_code, answer.text[:500])
        return answer.json() if answer.content else None

    creator = call("POST", "/creators/", name="Maya Hart", email="maya@example.com",
                   accounts=[{"platform": "instagram", "handle": "https://instagram.com/mayahart"}])  # fmt: skip
    campaign = call("POST", "/campaigns/", name="Spring", brand="Acme", status="active", approval_hashtag="YesAcme")
    assert call("POST", f"/campaigns/{campaign['id']}/members/", creators=[creator["id"]]) == {"added": 1}
    sender = call("POST", "/sender-accounts/", name="Partnerships", platform="email",
                  account_id="partners@acme.example.com", api_base_url=smtp_sink.url, access_token="")  # fmt: skip
    hello = call("POST", "/templates/", name="Hello", subject="{{ campaign.brand }} x {{ creator.first_name }}",
                 body="Hi {{ creator.first_name }}, we love your posts.")  # fmt: skip

    counts = call("POST", f"/campaigns/{campaign['id']}/launch/", template=hello["id"], sender_account=sender["id"])
    assert counts["by_mode"] == {"api": 1}
    [sent] = call("GET", "/outreach-messages/?status=sent")["results"]
    assert sent["creator"] == creator["id"] and smtp_sink.messages[0]["Subject"] == "Acme x Maya"

    post = call("POST", "/content/", creator=creator["id"], url="https://www.instagram.com/p/Cspring1/?igsh=x",
                campaign=campaign["id"])  # fmt: skip
    ask = call("POST", "/templates/", name="Ask", subject="May we share your post?",
               body="Reply {{ permission_request.approval_hashtag }} to let us use {{ content.url }}.")  # fmt: skip
    request = call("POST", "/permission-requests/", content=post["id"], channels=["paid_ads", "organic_social"],
                   terms_url="https://acme.example/terms", terms_text="Acme may use the post for 90 days.",
                   duration_days=90, sender_account=sender["id"], template=ask["id"])  # fmt: skip
    assert call("GET", f"/permission-requests/{request['id']}/")["status"] == "requested"
    asked = smtp_sink.messages[-1]
    assert "#YesAcme" in asked.message.get_body(("plain",)).get_content()

    reply = (
        "Authentication-Results: mx.acme.example.com; dkim=pass header.d=example.com header.s=s1\r\n"
        f"From: Maya Hart <maya@example.com>\r\nTo: partners@acme.example.com\r\nSubject: Re: May we\r\n"
        f"Message-ID: <yes-1@mail.example.com>\r\nIn-Reply-To: {asked['Message-ID']}\r\n"
        f"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Of course! #YesAcme\r\n"
    ).encode()
    delivered = requests.post(f"{live_server.url}/webhooks/email/", data=reply, timeout=10,
                              headers={"Content-Type": "message/rfc822", "X-Webhook-Secret": EMAIL_SECRET})  # fmt: skip
    assert delivered.status_code == 200

    copied = "https://instagram.com/p/Cspring1?utm_source=ig_web_copy_link"
    [answer] = call("GET", f"/permission-requests/?content_url={copied}&status=granted")["results"]
    assert answer["may_be_used"] is True and answer["channels"] == ["paid_ads", "organic_social"]
    assert answer["rights_expire_at"] is not None
    [event] = call("GET", f"/consent-events/?permission_request={request['id']}")["results"]
    assert event["kind"] == "rights_granted" and event["recorded_by"] == "system"
    assert re.search("hashtag", event["rule"])
