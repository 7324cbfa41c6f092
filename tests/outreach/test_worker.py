"""The sending loop against the loopback fake Meta platform: real HTTP, real database."""

import datetime

import pytest
from django.utils import timezone

from crm.models import CampaignMember
from outreach import services, worker
from outreach.models import Conversation, OutreachMessage, SenderAccount
from tests.factories import CampaignFactory, CampaignMemberFactory, SocialAccountFactory
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db
Status = OutreachMessage.Status


@pytest.fixture
def sender(fake_meta):
    return SenderAccountFactory(
        platform="instagram",
        variant="instagram_login",
        account_id=IG_ACCOUNT,
        token=IG_TOKEN,
        api_base_url=fake_meta.url,
    )


@pytest.fixture
def campaign(alice):
    return CampaignFactory(owner=alice, brand="Acme")


def member_who_wrote(campaign, fake, igsid, *, hours_ago=1, on_platform=True):
    member = CampaignMemberFactory(campaign=campaign)
    account = SocialAccountFactory(creator=member.creator, platform="instagram", platform_user_id=igsid)
    Conversation.objects.create(
        creator=member.creator,
        platform="instagram",
        social_account=account,
        last_inbound_at=timezone.now() - datetime.timedelta(hours=hours_ago),
    )
    if on_platform:
        fake.user_wrote(IG_ACCOUNT, igsid)
    return member


def launch(campaign, sender, actor, **kwargs):
    template = MessageTemplateFactory(body="Hi {{ creator.first_name }}, {{ campaign.brand }} here!")
    return services.launch_campaign(campaign, actor=actor, sender_account=sender, template=template, **kwargs)


def test_it_sends_inside_the_window_and_queues_the_rest_for_a_person(fake_meta, sender, campaign, alice):
    wrote = member_who_wrote(campaign, fake_meta, "9001")
    silent = CampaignMemberFactory(campaign=campaign)
    SocialAccountFactory(creator=silent.creator, platform="instagram", platform_user_id="9002")
    launch(campaign, sender, alice)

    report = worker.send_due(sender.pk)

    assert report.outcomes == {"sent": 1, "manual": 1}
    sent = OutreachMessage.objects.get(creator=wrote.creator)
    delivered = fake_meta.sent(IG_ACCOUNT)
    assert [(d["recipient"], d["text"]) for d in delivered] == [("9001", sent.rendered_text)]
    assert (sent.status, sent.delivery_mode, sent.provider_message_id) == ("sent", "api", delivered[0]["message_id"])
    assert sent.recipient_id == "9001" and sent.sent_at is not None
    manual = OutreachMessage.objects.get(creator=silent.creator)
    assert (manual.status, manual.delivery_mode) == ("manual", "manual")
    assert "has not written to us yet" in manual.reason
    assert CampaignMember.objects.get(pk=wrote.pk).stage == "contacted"
    conversation = Conversation.objects.get(creator=wrote.creator)
    assert conversation.outbound_since_inbound == 1 and conversation.last_outbound_at is not None
    assert worker.send_due(sender.pk).claimed == 0  # nothing is sent twice


def test_a_platform_window_refusal_moves_the_message_to_the_manual_queue(fake_meta, sender, campaign, alice):
    member_who_wrote(campaign, fake_meta, "9003", on_platform=False)  # we think the window is open; Meta does not
    fake_meta.add_user(IG_ACCOUNT, "9003")
    launch(campaign, sender, alice)
    worker.send_due(sender.pk)
    message = OutreachMessage.objects.get()
    assert (message.status, message.delivery_mode) == ("manual", "manual")
    assert message.reason.startswith("The platform refused an automatic send (window closed)")
    assert message.error_code


def test_rate_limits_wait_for_retry_after_and_back_off(fake_meta, sender, campaign, alice):
    member_who_wrote(campaign, fake_meta, "9004")
    member_who_wrote(campaign, fake_meta, "9005")
    fake_meta.fail_next(
        IG_ACCOUNT, status=429, code=4, message="Application request limit reached", headers={"Retry-After": "120"}
    )
    launch(campaign, sender, alice)
    before = timezone.now()
    report = worker.send_due(sender.pk)
    assert report.outcomes == {"retry": 1}
    first, second = OutreachMessage.objects.order_by("id")
    assert first.status == "pending" and first.attempts == 1
    assert first.next_attempt_at >= before + datetime.timedelta(seconds=119)
    assert second.status == "pending" and second.attempts == 0  # released untouched
    sender.refresh_from_db()
    assert sender.rate_limited_until >= before + datetime.timedelta(seconds=119)
    assert fake_meta.sent_count(IG_ACCOUNT) == 0
    assert worker.send_due(sender.pk).claimed == 0  # the account waits


def test_retries_stop_at_our_own_attempt_limit(fake_meta, sender, campaign, alice):
    member_who_wrote(campaign, fake_meta, "9006")
    launch(campaign, sender, alice)
    OutreachMessage.objects.update(max_attempts=2)
    fake_meta.fail_next(IG_ACCOUNT, n=3, status=503, code=1200, message="Temporary send message failure")
    worker.send_due(sender.pk)
    message = OutreachMessage.objects.get()
    assert (message.status, message.attempts) == ("pending", 1)
    OutreachMessage.objects.update(next_attempt_at=timezone.now())
    worker.send_due(sender.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 2)
    assert message.reason.startswith("Gave up after 2 attempts")


def test_broken_auth_opens_the_breaker_and_pauses_the_account(fake_meta, sender, campaign, alice):
    member_who_wrote(campaign, fake_meta, "9007")
    member_who_wrote(campaign, fake_meta, "9008")
    SenderAccount.objects.filter(pk=sender.pk).update(access_token_encrypted="")
    sender.refresh_from_db()
    sender.set_access_token("expired-token")
    sender.save()
    launch(campaign, sender, alice)
    report = worker.send_due(sender.pk)
    assert report.outcomes == {"auth_broken": 1}
    sender.refresh_from_db()
    assert sender.breaker_state == "open" and sender.breaker_until is None
    assert "Access refused by the platform (190)" in sender.breaker_reason
    assert set(OutreachMessage.objects.values_list("status", "attempts")) == {("pending", 0)}
    assert worker.send_due(sender.pk).claimed == 0
    sender.set_access_token(IG_TOKEN)
    sender.save()
    services.resume_sender(sender, actor=alice)
    assert worker.send_due(sender.pk).outcomes == {"sent": 2}


def test_five_server_errors_in_a_row_open_the_breaker_for_a_while(fake_meta, sender, campaign, alice):
    for n in range(6):
        member_who_wrote(campaign, fake_meta, f"91{n}")
    fake_meta.fail_next(IG_ACCOUNT, n=6, status=500, code=2, message="Service temporarily unavailable")
    launch(campaign, sender, alice)
    report = worker.send_due(sender.pk)
    assert report.outcomes == {"retry": 5}
    sender.refresh_from_db()
    assert sender.breaker_state == "open" and sender.breaker_until > timezone.now()
    assert not sender.is_sending()


def test_an_answer_that_never_comes_goes_to_review_and_is_not_resent(fake_meta, sender, campaign, alice, monkeypatch):
    member_who_wrote(campaign, fake_meta, "9009")
    fake_meta.delay_next(IG_ACCOUNT, 1.0)
    launch(campaign, sender, alice)
    from outreach.channels import instagram

    def with_short_read_timeout(config, session=None):
        from dataclasses import replace

        return instagram.build(replace(config, timeout=(1.0, 0.2)), session)

    monkeypatch.setattr(worker, "get_channel", with_short_read_timeout)
    worker.send_due(sender.pk)
    message = OutreachMessage.objects.get()
    assert message.status == "needs_review"
    assert worker.send_due(sender.pk).claimed == 0
    assert fake_meta.sent_count(IG_ACCOUNT) == 1  # it did go out: sending again would double it


def test_stale_leases_go_to_review_when_the_send_had_started_and_back_to_the_queue_otherwise(sender, campaign):
    expired = timezone.now() - datetime.timedelta(seconds=1)
    common = {"campaign": campaign, "sender_account": sender, "platform": "instagram", "rendered_text": "hi"}
    claim = {"status": Status.SENDING, "claim_token": "dead", "lease_expires_at": expired, "attempts": 1}
    in_flight = OutreachMessage.objects.create(
        creator=CampaignMemberFactory(campaign=campaign).creator, send_started_at=expired, **claim, **common
    )
    untried = OutreachMessage.objects.create(
        creator=CampaignMemberFactory(campaign=campaign).creator, **claim, **common
    )
    assert worker.reap_stale_leases() == 1
    in_flight.refresh_from_db()
    untried.refresh_from_db()
    assert in_flight.status == "needs_review"
    assert "may or may not have gone out" in in_flight.reason
    assert (untried.status, untried.attempts, untried.claim_token) == ("pending", 0, "")


def test_two_claims_never_share_a_row(sender, campaign):
    for _ in range(5):
        member = CampaignMemberFactory(campaign=campaign)
        OutreachMessage.objects.create(
            campaign=campaign, creator=member.creator, sender_account=sender, platform="instagram", rendered_text="hi"
        )
    now = timezone.now()
    first = worker.claim_due(sender, limit=3, now=now)
    second = worker.claim_due(sender, limit=3, now=now)
    assert len(first) == 3 and len(second) == 2
    assert not {m.pk for m in first} & {m.pk for m in second}
    assert worker.claim_due(sender, limit=3, now=now) == []


def test_the_accounts_limits_cap_what_is_claimed(sender, campaign):
    SenderAccount.objects.filter(pk=sender.pk).update(daily_cap=2)
    sender.refresh_from_db()
    for _ in range(4):
        member = CampaignMemberFactory(campaign=campaign)
        OutreachMessage.objects.create(
            campaign=campaign, creator=member.creator, sender_account=sender, platform="instagram", rendered_text="hi"
        )
    now = timezone.now()
    assert len(worker.claim_due(sender, limit=10, now=now)) == 2
    assert worker.claim_due(sender, limit=10, now=now) == []


def test_a_paused_campaign_sends_nothing_until_it_is_active_again(fake_meta, sender, campaign, alice):
    member_who_wrote(campaign, fake_meta, "9301")
    launch(campaign, sender, alice)
    campaign.status = "paused"
    campaign.save()
    assert worker.send_due(sender.pk).claimed == 0
    campaign.status = "active"
    campaign.save()
    assert worker.send_due(sender.pk).outcomes == {"sent": 1}


def test_a_creator_who_opts_out_after_the_claim_is_not_messaged(fake_meta, sender, campaign, alice):
    from crm import services as crm_services

    member = member_who_wrote(campaign, fake_meta, "9302")
    launch(campaign, sender, alice)
    claimed = worker.claim_due(sender, limit=10, now=timezone.now())
    crm_services.opt_out(member.creator, actor=None, evidence=crm_services.Evidence(rule="keyword STOP", text="STOP"))
    [message] = claimed
    assert worker._mark_started(message) is False
    assert fake_meta.sent_count(IG_ACCOUNT) == 0


def test_a_late_retry_never_takes_a_row_back_from_review(sender, campaign):
    member = CampaignMemberFactory(campaign=campaign)
    message = OutreachMessage.objects.create(
        campaign=campaign, creator=member.creator, sender_account=sender, platform="instagram", rendered_text="hi"
    )
    [claimed] = worker.claim_due(sender, limit=1, now=timezone.now())
    OutreachMessage.objects.filter(pk=message.pk).update(status=Status.NEEDS_REVIEW)  # reaped meanwhile
    assert worker._finish(claimed, status=Status.PENDING) is False
    assert worker._finish(claimed, status=Status.SENT) is True  # a final outcome may still be learned


def test_a_rate_limit_code_without_a_stated_wait_still_pauses_the_whole_account(fake_meta, sender, campaign, alice):
    member_who_wrote(campaign, fake_meta, "9014")
    member_who_wrote(campaign, fake_meta, "9015")
    fake_meta.fail_next(IG_ACCOUNT, status=400, code=613, message="Calls to this api have exceeded the rate limit.")
    launch(campaign, sender, alice)
    before = timezone.now()
    report = worker.send_due(sender.pk)
    assert report.outcomes == {"retry": 1}
    sender.refresh_from_db()
    assert sender.rate_limited_until >= before + datetime.timedelta(seconds=worker.RATE_LIMIT_PAUSE_SECONDS - 1)
    assert worker.send_due(sender.pk).claimed == 0  # the account waits, whoever runs next


def test_idle_accounts_with_due_messages_get_a_sending_run_at_once(fake_meta, sender, campaign, monkeypatch):
    """After a restart the accounts nobody is working on resume within a reaper period, not at the
    dispatcher's next minute; an account with a live claim or paused gets nothing."""
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    monkeypatch.setattr(Conf, "SYNC", False)  # the database broker: a queued run is a row to read
    monkeypatch.setattr(Conf, "ORM", "default")
    working, paused = SenderAccountFactory(platform="instagram"), SenderAccountFactory(platform="instagram")
    paused.paused = True
    paused.save()
    common = {"campaign": campaign, "platform": "instagram", "rendered_text": "hi"}
    for account in (sender, working, paused):
        OutreachMessage.objects.create(
            creator=CampaignMemberFactory(campaign=campaign).creator, sender_account=account, **common
        )
    live = timezone.now() + datetime.timedelta(seconds=30)
    OutreachMessage.objects.create(
        creator=CampaignMemberFactory(campaign=campaign).creator,
        sender_account=working,
        status=Status.SENDING,
        claim_token="alive",
        lease_expires_at=live,
        **common,
    )

    assert worker.resume_idle_senders() == [sender.pk]

    (task,) = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert (task["func"], task["args"]) == ("outreach.tasks.send_due_messages", (sender.pk,))
    OutreachMessage.objects.filter(sender_account=sender).update(status=Status.SENT)
    assert worker.resume_idle_senders() == []  # nothing due any more
