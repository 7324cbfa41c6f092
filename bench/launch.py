"""Benchmark a campaign launch: N members (default 10,000) on one channel and on a two-channel plan
(Instagram, else email), against a bare floor (the same rows bulk-inserted with nothing decided).

    .venv/bin/python bench/launch.py [--members 10000] [--database-url URL]

With no --database-url it makes a throw-away PostgreSQL database on 127.0.0.1:5432 (dropped at the
end). The target: a 10,000-member launch in under 10 s; the ratio to the floor says how much of it
is ours (rendering, the policy's facts and decisions) rather than the database's.
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    drop = None
    url = args.database_url
    if not url:
        import psycopg

        admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3)
        name = f"crm_launch_bench_{uuid.uuid4().hex[:8]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"

        def drop():
            from django.db import connections

            connections.close_all()
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        run(args.members)
    finally:
        if drop:
            drop()


def run(count: int) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    from crm.models import Campaign, CampaignMember, Creator, SocialAccount
    from outreach import services
    from outreach.models import MessageTemplate, OutreachMessage, SenderAccount

    user = get_user_model().objects.create_user("bench")
    creators = Creator.objects.bulk_create(
        [Creator(name=f"Creator {n}", email=f"c{n}@example.com" if n % 2 else "") for n in range(count)]
    )
    SocialAccount.objects.bulk_create(
        [
            SocialAccount(creator=c, platform="instagram", handle=f"c_{c.pk}", platform_user_id=str(c.pk))
            for c in creators
        ]
    )
    ig = SenderAccount.objects.create(name="IG", platform="instagram", variant="instagram_login", account_id="1")
    mail = SenderAccount.objects.create(name="Mail", platform="email", account_id="p@acme.example.com")
    dm = MessageTemplate.objects.create(name="DM", body="Hi {{ creator.first_name }} (@{{ creator.handle }})")
    letter = MessageTemplate.objects.create(name="Mail", subject="Hello {{ creator.first_name }}", body="Hi!")

    def campaign():
        made = Campaign.objects.create(name=f"C {uuid.uuid4().hex[:6]}", owner=user, status="active")
        CampaignMember.objects.bulk_create([CampaignMember(campaign=made, creator=c) for c in creators])
        return made

    floor_campaign = campaign()
    started = time.perf_counter()
    with transaction.atomic():
        OutreachMessage.objects.bulk_create(
            [
                OutreachMessage(
                    campaign=floor_campaign, creator=c, sender_account=ig, platform="instagram", rendered_text="Hi"
                )
                for c in creators
            ],
            batch_size=1000,
        )
    floor = time.perf_counter() - started
    print(f"floor: {count:,} rows bulk-inserted in {floor:.2f} s")

    one = campaign()
    started = time.perf_counter()
    summary = services.launch_campaign(one, actor=user, sender_account=ig, template=dm)
    single = time.perf_counter() - started
    assert summary.created == count
    print(f"one channel: {count:,} members in {single:.2f} s ({single / floor:.1f}x the floor)")

    two = campaign()
    plan = [services.Channel(ig, dm), services.Channel(mail, letter)]
    started = time.perf_counter()
    summary = services.launch_campaign(two, actor=user, plan=plan)
    double = time.perf_counter() - started
    assert summary.created == count
    print(f"two-channel plan: {count:,} members in {double:.2f} s ({double / floor:.1f}x the floor)")
    print(f"  by channel: {dict(summary.by_channel)}")
    verdict = "under" if max(single, double) < 10 else "OVER"
    print(f"target 10 s for {count:,} members: {verdict} ({os.getloadavg()[0]:.1f} load average)")


if __name__ == "__main__":
    main()
