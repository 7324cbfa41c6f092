"""Launching on a channel plan: per member the first channel the policy lets go by API, else email,
else the manual queue; several launches per campaign; never two live messages for one step."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Creator, SocialAccount
from outreach import services
from outreach.models import Conversation, Launch, OutreachMessage
from outreach.services.manual_queue import cancel_message, retry_message
from tests.factories import CampaignFactory, CampaignMemberFactory, CreatorFactory
from tests.outreach.factories import MessageTemplateFactory, SenderAccountFactory

pytestmark = pytest.mark.django_db
Channel = services.Channel


@pytest.fixture
def senders():
    return (
        SenderAccountFactory(name="Acme IG", platform="instagram"),
        SenderAccountFactory(name="Acme mail", platform="email", variant="", account_id="partners@acme.example.com"),
    )


@pytest.fixture
def templates():
    return (
        MessageTemplateFactory(name="DM", subject="", body="Hi {{ creator.first_name }}!"),
        MessageTemplateFactory(name="Mail", subject="Acme x {{ creator.first_name }}", body="Hello {{ creator.name }}"),
    )


def _creator(name, *, email="", ig=False, window=False):
    creator = CreatorFactory(name=name, email=email)
    if ig:
        SocialAccount.objects.create(
            creator=creator,
            platform="instagram",
            handle=f"{name.lower()}{creator.pk}",
            platform_user_id=f"9{creator.pk}",
        )
    if window:
        Conversation.objects.create(
            creator=creator, platform="instagram", last_inbound_at=timezone.now() - datetime.timedelta(hours=2)
        )
    return creator


@pytest.fixture
def world(alice, senders, templates):
    campaign = CampaignFactory(owner=alice, brand="Acme")
    people = {
        "window": _creator("Wendy", email="w@example.com", ig=True, window=True),  # IG by API
        "mail": _creator("Mia", email="m@example.com", ig=True),  # IG closed: email
        "dm_only": _creator("Dan", ig=True),  # IG closed, no email: manual queue on IG
        "nothing": _creator("Noa"),  # no IG, no email: blocked on both
        "opted_out": _creator("Otto", email="o@example.com", ig=True, window=True),
    }
    Creator.objects.filter(pk=people["opted_out"].pk).update(opted_out_at="2026-01-01T00:00:00Z")
    for creator in people.values():
        CampaignMemberFactory(campaign=campaign, creator=creator)
    ig, mail = senders
    dm, letter = templates
    plan = [Channel(ig, template=dm), Channel(mail, template=letter)]
    return campaign, people, plan


def test_each_member_gets_the_first_channel_that_reaches_them_with_the_policys_reason(alice, world):
    campaign, people, plan = world
    summary = services.launch_campaign(campaign, actor=alice, plan=plan)

    rows = {row.creator_id: row for row in OutreachMessage.objects.filter(campaign=campaign)}
    assert len(rows) == 5
    assert rows[people["window"].pk].platform == "instagram" and rows[people["window"].pk].status == "pending"
    assert rows[people["mail"].pk].platform == "email" and rows[people["mail"].pk].rendered_subject == "Acme x Mia"
    assert rows[people["dm_only"].pk].platform == "instagram"  # to the manual queue when due
    nothing = rows[people["nothing"].pk]
    assert (nothing.status, nothing.delivery_mode) == ("blocked", "blocked")
    assert nothing.reason == (
        "Instagram: The creator has no instagram account on file. · Email: The creator has no email address."
    )
    assert rows[people["opted_out"].pk].reason.startswith("Instagram: The creator opted out on 2026-01-01.")

    choices = {choice["creator"]: choice for choice in summary.choices}
    assert (choices["Wendy"]["channel"], choices["Wendy"]["mode"]) == ("instagram", "api")
    assert choices["Wendy"]["reason"].startswith("Inside the 24 h window")
    assert (choices["Mia"]["channel"], choices["Mia"]["mode"], choices["Mia"]["reason"]) == (
        "email", "api", "Email may be sent with an unsubscribe link.",
    )  # fmt: skip
    assert (choices["Dan"]["channel"], choices["Dan"]["mode"]) == ("instagram", "manual")
    assert choices["Dan"]["reason"] == "Instagram only lets a business answer: this creator has not written to us yet."
    assert summary.by_channel == {
        ("instagram", "api"): 1, ("email", "api"): 1, ("instagram", "manual"): 1, ("instagram", "blocked"): 2,
    }  # fmt: skip

    launch = Launch.objects.get(campaign=campaign)
    assert (launch.number, launch.members, launch.created, launch.manual_fallback) == (1, 5, 5, True)
    assert [step["platform"] for step in launch.plan] == ["instagram", "email"]
    assert launch.counts["by_channel"]["email"] == {"api": 1}
    assert set(launch.messages.values_list("creator_id", flat=True)) == {p.pk for p in people.values()}


def test_without_the_manual_queue_a_member_only_reachable_by_hand_is_blocked_with_both_reasons(alice, world):
    campaign, people, plan = world
    services.launch_campaign(campaign, actor=alice, plan=plan, manual_fallback=False)
    dan = OutreachMessage.objects.get(creator=people["dm_only"])
    assert dan.status == "blocked"
    assert dan.reason == (
        "Instagram: Instagram only lets a business answer: this creator has not written to us yet. "
        "(only by hand, and this launch does not use the manual queue) · Email: The creator has no email address."
    )


def test_a_dry_run_writes_nothing_not_even_a_launch(alice, world):
    campaign, _, plan = world
    summary = services.launch_campaign(campaign, actor=alice, plan=plan, dry_run=True)
    assert summary.created == 5 and summary.launch is None
    assert not OutreachMessage.objects.exists() and not Launch.objects.exists()


def test_launching_again_reaches_only_those_not_reached_and_never_twice(alice, world):
    campaign, people, plan = world
    services.launch_campaign(campaign, actor=alice, plan=[plan[0]], manual_fallback=False)  # Instagram only
    first = Launch.objects.get()
    assert set(first.messages.filter(status="blocked").values_list("creator__name", flat=True)) == {
        "Mia", "Dan", "Noa", "Otto",
    }  # fmt: skip

    # Without `again` a second launch leaves everyone alone.
    plain = services.launch_campaign(campaign, actor=alice, plan=[plan[1]])
    assert (plain.created, plain.already_queued) == (0, 5)

    second = services.launch_campaign(campaign, actor=alice, plan=[plan[1], plan[0]], again=True)
    assert (second.launch.number, second.created, second.already_queued) == (3, 4, 1)  # Wendy was reached
    mia = OutreachMessage.objects.get(creator=people["mail"], reach=1)
    assert (mia.platform, mia.status, mia.launch) == ("email", "pending", second.launch)
    dan = OutreachMessage.objects.get(creator=people["dm_only"], reach=1)
    assert (dan.platform, dan.status) == ("instagram", "pending")  # the manual queue this time
    # The first launch's blocked list is kept as it was.
    assert first.messages.filter(status="blocked").count() == 4

    third = services.launch_campaign(campaign, actor=alice, plan=[plan[1], plan[0]], again=True)
    assert third.created == 2  # only Noa and Otto, still blocked, are tried again
    assert (
        OutreachMessage.objects.filter(campaign=campaign)
        .exclude(status__in=["blocked", "cancelled", "failed"])
        .values("creator")
        .distinct()
        .count()
        == 3
    )


def test_the_database_refuses_a_second_live_message_for_one_step(alice, world, senders):
    campaign, people, plan = world
    services.launch_campaign(campaign, actor=alice, plan=plan)
    wendy = OutreachMessage.objects.get(creator=people["window"])
    with pytest.raises(IntegrityError), transaction.atomic():
        OutreachMessage.objects.create(
            campaign=campaign, creator=wendy.creator, step=0, reach=1, sender_account=senders[1], platform="email",
            rendered_text="again",
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        OutreachMessage.objects.create(
            campaign=campaign, creator=wendy.creator, step=0, reach=0, sender_account=senders[1], platform="email",
            rendered_text="again", status="blocked",
        )  # fmt: skip


def test_a_cancelled_message_another_launch_replaced_cannot_come_back(alice, world):
    campaign, people, plan = world
    services.launch_campaign(campaign, actor=alice, plan=[plan[0]])
    dan = OutreachMessage.objects.get(creator=people["dm_only"])
    OutreachMessage.objects.filter(pk=dan.pk).update(status="failed")
    dan.refresh_from_db()
    services.launch_campaign(campaign, actor=alice, plan=[plan[1], plan[0]], again=True)
    assert OutreachMessage.objects.filter(creator=people["dm_only"], reach=1).exists()
    with pytest.raises(ValidationError, match="already has a message for this step"):
        retry_message(dan, actor=alice)
    dan.refresh_from_db()
    assert dan.status == "failed"
    cancel_message(dan, actor=alice)  # a failed one may still be cancelled


def test_a_plan_that_cannot_work_says_which_field(alice, world, senders, templates):
    campaign, _, plan = world
    with pytest.raises(ValidationError, match="Instagram is in the plan twice"):
        services.launch_campaign(campaign, actor=alice, plan=[plan[0], plan[0]])
    with pytest.raises(ValidationError, match="at least one channel"):
        services.launch_campaign(campaign, actor=alice, plan=[])
    with pytest.raises(ValidationError, match="written for email"):
        services.launch_campaign(
            campaign, actor=alice, plan=[Channel(senders[0], template=MessageTemplateFactory(platforms=["email"]))]
        )
    with pytest.raises(ValidationError, match="Email channel: This template is written for instagram") as caught:
        services.launch_campaign(
            campaign,
            actor=alice,
            plan=[plan[0], Channel(senders[1], template=MessageTemplateFactory(platforms=["instagram"]))],
        )
    assert list(caught.value.message_dict) == ["plan"]


def test_a_plan_launch_uses_a_constant_number_of_queries(alice, senders, templates):
    ig, mail = senders
    plan = [Channel(ig, template=templates[0]), Channel(mail, template=templates[1])]

    def queries_for(count):
        campaign = CampaignFactory(owner=alice)
        for n in range(count):
            CampaignMemberFactory(
                campaign=campaign, creator=_creator(f"P{n}", email=f"p{n}@example.com", ig=n % 2 == 0)
            )
        with CaptureQueriesContext(connection) as captured:
            services.launch_campaign(campaign, actor=alice, plan=plan, manual_fallback=False)
        return len(captured)

    assert queries_for(20) == queries_for(3)


@pytest.mark.postgres
@pytest.mark.slow
def test_ten_thousand_members_on_a_two_channel_plan_launch_in_under_ten_seconds(alice, senders, templates):
    import time

    from crm.models import CampaignMember

    campaign = CampaignFactory(owner=alice)
    creators = Creator.objects.bulk_create(
        [Creator(name=f"Creator {n}", email=f"c{n}@example.com" if n % 2 else "") for n in range(10_000)]
    )
    SocialAccount.objects.bulk_create(
        [
            SocialAccount(creator=c, platform="instagram", handle=f"c_{c.pk}", platform_user_id=str(c.pk))
            for c in creators
        ]
    )
    CampaignMember.objects.bulk_create([CampaignMember(campaign=campaign, creator=c) for c in creators])
    plan = [Channel(senders[0], template=templates[0]), Channel(senders[1], template=templates[1])]
    started = time.perf_counter()
    summary = services.launch_campaign(campaign, actor=alice, plan=plan)
    elapsed = time.perf_counter() - started
    assert summary.created == 10_000
    assert summary.by_channel == {("email", "api"): 5_000, ("instagram", "manual"): 5_000}
    assert elapsed < 10, f"{elapsed:.1f} s"
    print(f"launch of 10,000 members on two channels: {elapsed:.2f} s")
