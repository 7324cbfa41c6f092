"""The demo's creator_says: the sandbox opens the window, a signed webhook reaches the live CRM."""

import io

import pytest
from django.core.management import CommandError, call_command
from django_q.conf import Conf

from outreach.models import ConversationMessage, InboundEvent
from tests.factories import SocialAccountFactory
from tests.fakes.meta import IG_TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_creator_writing_in_the_sandbox_reaches_the_crm_signed(live_server, fake_meta, settings, monkeypatch):
    from outreach.demo import DEMO_SENDERS

    monkeypatch.setattr(Conf, "SYNC", True)
    settings.META_APP_SECRET = "sandbox-meta-secret"
    fake_meta.add_instagram_account(DEMO_SENDERS[0][3], IG_TOKEN)
    SocialAccountFactory(platform="instagram", handle="mayahart", platform_user_id="5551")
    out = io.StringIO()
    call_command(
        "creator_says",
        "Hello #YesAcme",
        handle="@MayaHart",
        sandbox_url=fake_meta.url,
        crm_url=live_server.url,
        stdout=out,
    )
    assert "@mayahart wrote 'Hello #YesAcme'; the CRM received it." in out.getvalue()
    assert InboundEvent.objects.get().status == "processed"
    assert ConversationMessage.objects.get().text == "Hello #YesAcme"
    with pytest.raises(CommandError, match="No Instagram creator @nobody"):
        call_command("creator_says", "hi", handle="nobody", sandbox_url=fake_meta.url, crm_url=live_server.url)
