"""Time every page a partnership manager uses at 100,000 creators: p50 and p95 over warm runs, and
the number of SQL queries each page makes.

    .venv/bin/python bench/pages.py [--creators 100000] [--runs 9] [--database crm_bench_pages] [--keep] [--reuse]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); it creates its own database (dropped at the
end unless --keep; --reuse skips the seeding when a kept database is there). The seed is bulk
(COPY): creators with accented names on two or three platforms and tags, 20 campaigns (one with
5,000 members), the outbox with a manual queue of a few hundred, conversations with messages,
posts, permission requests and their consent entries (a real hash chain). A manager who owns the
campaigns signs in through Django's test client (the whole request: middleware, sessions, views,
templates; a streamed CSV is read to its end), in a process settled as config/wsgi.py settles the
server's (config.startup: gc.freeze after startup; --no-gc-freeze to skip). Target: every page under 300 ms; the last line
names the slowest. Exit 1 above the target unless --no-fail.
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_MS = 300
PLATFORMS = ["instagram", "tiktok", "youtube", "x"]
TAGS = ["beauty", "skincare", "fitness", "travel", "food", "gaming", "parenting", "fashion", "tech", "wellness"]
FIRST = ["José", "Zoë", "Chloé", "Renée", "Søren", "Björn", "Ana", "Lukas", "Mia", "Noah", "Léa", "Émile",
         "François", "Jürgen", "Małgorzata", "Çağla", "Inês", "Tomás", "Aoife", "Priya", "Kwame", "Olga"]  # fmt: skip
LAST = ["Müller", "García", "Núñez", "Dubois", "Łukasiewicz", "Öztürk", "Smith", "Jones", "Schröder",
        "Ferreira", "Brontë", "Nguyễn", "Kovač", "Olsen", "Martín", "Rossi", "Andersson", "O'Brien",
        "Kowalski", "Dvořák", "Sørensen", "Papadopoulos", "Yılmaz", "Silva", "Novák", "Fischer"]  # fmt: skip  # noqa: RUF001 (a Turkish dotless i)
COUNTRIES = ["GB", "US", "DE", "FR", "ES", "IT", "BR", "PL", "IE", "AT"]
ASCII = str.maketrans("üöäéèëçğłñáíóúøåčćšžřěýąęńśźżễı'ãêô", "uoaeeecglnaiouoaccszreyaenszzei_aeo")
BIG_CAMPAIGN_MEMBERS = 5000
CAMPAIGNS = 20


def slug(text: str) -> str:
    return "".join(ch for ch in text.lower().translate(ASCII) if ch.isalnum() or ch == "_")


def seed(creators: int, rng: random.Random) -> dict:
    """Everything by COPY in batches; returns the ids the pages are asked about."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.handles import normalize_content_url
    from crm.importer import insert_rows
    from crm.models import (
        Campaign,
        CampaignMember,
        ConsentEvent,
        Content,
        Creator,
        PermissionRequest,
        SocialAccount,
        Tag,
    )
    from outreach.models import (
        Conversation,
        ConversationMessage,
        FollowUpTask,
        MessageTemplate,
        OutreachMessage,
        SenderAccount,
    )

    now = timezone.now()
    users = get_user_model()
    manager = users.objects.create_user("manager", "manager@example.com", "bench", first_name="Maria")
    other = users.objects.create_user("other", "other@example.com", "bench", first_name="Otto")
    tag_ids = [tag.pk for tag in Tag.objects.bulk_create([Tag(name=name) for name in TAGS])]
    through = Creator.tags.through
    batch = 10_000
    for start in range(0, creators, batch):
        with transaction.atomic():
            people = []
            for n in range(start, min(start + batch, creators)):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                people.append(
                    Creator(name=f"{first} {last}", email=f"{slug(first)}.{slug(last)}{n}@example.com",
                            country=rng.choice(COUNTRIES), language="en",
                            status=rng.choice(["prospect", "active", "partner"]))
                )  # fmt: skip
            insert_rows(Creator, people)
            accounts, links = [], []
            for person in people:
                base = slug(person.name.replace(" ", "_"))
                for platform in rng.sample(PLATFORMS, k=rng.choice([2, 3])):
                    handle = f"{base}{person.pk}"
                    accounts.append(
                        SocialAccount(creator_id=person.pk, platform=platform, handle=handle,
                                      follower_count=int(rng.lognormvariate(9, 1.6)),
                                      profile_url=f"https://{platform}.com/{handle}")
                    )  # fmt: skip
                for tag_id in rng.sample(tag_ids, k=rng.choice([1, 2])):
                    links.append(through(creator_id=person.pk, tag_id=tag_id))
            insert_rows(SocialAccount, accounts)
            insert_rows(through, links)

    instagram = SenderAccount.objects.create(
        name="Acme on Instagram", platform="instagram", variant="instagram_login", account_id="1784", owner=manager
    )
    SenderAccount.objects.create(name="Acme mail", platform="email", account_id="hello@acme.example", owner=manager)
    template = MessageTemplate.objects.create(
        name="First hello", body="Hi {{ creator.first_name }}, we love your posts. Would you work with Acme?",
        created_by=manager,
    )  # fmt: skip
    campaigns = [
        Campaign(name=f"Spring drop {n}", brand="Acme", owner=manager if n < CAMPAIGNS - 2 else other,
                 status="active" if n % 3 else "draft", approval_hashtag="YesAcme", terms_version="v1")
        for n in range(CAMPAIGNS)
    ]  # fmt: skip
    campaigns = Campaign.objects.bulk_create(campaigns)
    big = campaigns[0]
    creator_ids = list(Creator.objects.order_by("id").values_list("id", flat=True))
    sizes = [BIG_CAMPAIGN_MEMBERS] + [250] * (CAMPAIGNS - 1)
    stages = CampaignMember.Stage.values
    members, messages = [], []
    status = OutreachMessage.Status
    for campaign, size in zip(campaigns, sizes, strict=True):
        for creator_id in rng.sample(creator_ids, size):
            members.append(CampaignMember(campaign_id=campaign.pk, creator_id=creator_id, stage=rng.choice(stages),
                                          stage_changed_at=now - datetime.timedelta(minutes=rng.randint(1, 90_000))))  # fmt: skip
            roll = rng.random()
            state = (
                status.SENT if roll < 0.8 else status.MANUAL if roll < 0.86 else status.BLOCKED if roll < 0.9
                else status.FAILED if roll < 0.92 else status.PENDING
            )  # fmt: skip
            messages.append(
                OutreachMessage(campaign_id=campaign.pk, creator_id=creator_id, sender_account=instagram,
                                platform="instagram", template=template, rendered_text="Hi, we love your posts.",
                                status=state, delivery_mode="blocked" if state == status.BLOCKED else "api",
                                reason="No Instagram account and no email address." if state == status.BLOCKED else "",
                                error_message="500 from the platform" if state == status.FAILED else "",
                                sent_at=now - datetime.timedelta(hours=rng.randint(1, 2000))
                                if state == status.SENT else None,
                                due_at=now - datetime.timedelta(hours=rng.randint(1, 2000)))
            )  # fmt: skip
    with transaction.atomic():
        insert_rows(CampaignMember, members)
        insert_rows(OutreachMessage, messages)

    # Conversations: the big campaign's sent messages got threads, a few need a person's review.
    sent = [m for m in messages if m.campaign_id == big.pk and m.status == status.SENT][:4000]
    conversations, thread = [], []
    for message in sent:
        conversations.append(Conversation(creator_id=message.creator_id, platform="instagram",
                                          sender_account=instagram, last_outbound_at=message.sent_at,
                                          last_inbound_at=message.sent_at + datetime.timedelta(hours=3)))  # fmt: skip
    with transaction.atomic():
        insert_rows(Conversation, conversations)
        direction, kind = ConversationMessage.Direction, ConversationMessage.Classification
        for index, (conversation, message) in enumerate(zip(conversations, sent, strict=True)):
            at = message.sent_at
            thread += [
                ConversationMessage(conversation_id=conversation.pk, platform="instagram", direction=direction.OUT,
                                    text=message.rendered_text, at=at, outreach_message_id=message.pk),
                ConversationMessage(conversation_id=conversation.pk, platform="instagram", direction=direction.IN,
                                    text="Sounds great, tell me more!" if index % 20 else "Maybe? What would you pay?",
                                    at=at + datetime.timedelta(hours=3), outreach_message_id=message.pk,
                                    classification=kind.REPLY if index % 20 else kind.NEEDS_REVIEW),
                ConversationMessage(conversation_id=conversation.pk, platform="instagram", direction=direction.OUT,
                                    text="Lovely, here are the details.", at=at + datetime.timedelta(hours=4),
                                    outreach_message_id=message.pk),
            ]  # fmt: skip
        insert_rows(ConversationMessage, thread)
        insert_rows(
            FollowUpTask,
            [FollowUpTask(creator_id=c.creator_id, conversation_id=c.pk, assignee=manager, reason="Answer by hand",
                          due_at=now + datetime.timedelta(days=1)) for c in conversations[:40]],
        )  # fmt: skip

    # Posts of members, a permission request for most, a consent entry for each decision.
    posted = [m for m in members if m.campaign_id in {c.pk for c in campaigns[:6]}]
    seen, posts = set(), []
    for member in posted:
        if member.creator_id in seen:
            continue
        seen.add(member.creator_id)
        posts.append(Content(creator_id=member.creator_id, campaign_id=member.campaign_id, platform="instagram",
                             url=normalize_content_url(f"https://www.instagram.com/p/Bx{member.creator_id}Q/"),
                             caption="Loving my Acme #ad", posted_at=now - datetime.timedelta(days=rng.randint(1, 300)),
                             media_url=f"https://cdn.example.com/{member.creator_id}.jpg"))  # fmt: skip
    terms = "You let Acme reuse this post in the channels and places listed, for the time given."
    requests, events = [], []
    pr = PermissionRequest.Status
    for post in posts[:5000]:
        state = rng.choice([pr.REQUESTED, pr.REQUESTED, pr.GRANTED, pr.GRANTED, pr.DECLINED, pr.EXPIRED])
        requested_at = post.posted_at + datetime.timedelta(days=1)
        decided = requested_at + datetime.timedelta(days=2) if state != pr.REQUESTED else None
        duration = rng.choice([30, 90, 365, None])
        requests.append(PermissionRequest(
            content=post, creator_id=post.creator_id, campaign_id=post.campaign_id,
            channels=["organic_social", "paid_ads"], territory="GB,IE,US", duration_days=duration,
            terms_url="https://acme.example/terms", terms_version="v1", terms_text=terms,
            terms_sha256=PermissionRequest.hash_terms(terms), approval_hashtag="yesacme",
            request_text="May we reuse your post? Reply #YesAcme", status=state, requested_at=requested_at,
            decided_at=decided, created_by=manager,
            rights_expire_at=(now + datetime.timedelta(days=rng.randint(-30, 60))) if state == pr.GRANTED else None,
        ))  # fmt: skip
    with transaction.atomic():
        insert_rows(Content, posts)
        for request in requests:
            request.content_id = request.content.pk
        insert_rows(PermissionRequest, requests)
        kinds = {pr.GRANTED: "rights_granted", pr.DECLINED: "rights_declined", pr.EXPIRED: "rights_expired"}
        for request in requests:
            if request.status in kinds:
                event = ConsentEvent(
                    kind=kinds[request.status], creator_id=request.creator_id, permission_request_id=request.pk,
                    occurred_at=request.decided_at, recorded_at=request.decided_at, recorded_by=manager,
                    recorded_by_label="manager", rule="a person read it", channel="instagram",
                    terms_sha256=request.terms_sha256, scope=request.scope, previous_hash="",
                )  # fmt: skip
                event.entry_hash = event.compute_hash()
                events.append(event)
        insert_rows(ConsentEvent, events)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_creator SET ledger_head = e.entry_hash FROM crm_consentevent e "
                "WHERE e.creator_id = crm_creator.id"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    granted = next(r for r in requests if r.status == pr.GRANTED)
    return {"big": big.pk, "granted": granted.pk, "post": granted.content.url}


def launch_campaign_ready(rng: random.Random) -> int:
    """A second campaign of 5,000 members with nothing sent yet: what a launch preview renders for all."""
    from django.db import connection

    from crm.importer import insert_rows
    from crm.models import Campaign, CampaignMember, Creator

    name = "Summer launch (nothing sent yet)"
    found = Campaign.objects.filter(name=name).first()
    if found:
        return found.pk
    campaign = Campaign.objects.create(name=name, brand="Acme", owner=Campaign.objects.order_by("id")[0].owner,
                                       status="active", approval_hashtag="YesAcme")  # fmt: skip
    creator_ids = list(Creator.objects.order_by("id").values_list("id", flat=True))
    insert_rows(CampaignMember, [CampaignMember(campaign=campaign, creator_id=creator_id)
                                 for creator_id in rng.sample(creator_ids, BIG_CAMPAIGN_MEMBERS)])  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_campaignmember")  # as autovacuum would soon: plans for the new rows
    return campaign.pk


def pages(ids: dict) -> list[tuple[str, str, str, dict | None]]:
    """(name, method, url, POST data) for every page; the ids come from the database itself."""
    from django.contrib.auth import get_user_model

    from crm.models import CampaignMember, Creator, SocialAccount
    from outreach.models import Conversation, MessageTemplate, SenderAccount
    from web import bulk
    from web.pagination import _write

    big = ids["big"]
    member = CampaignMember.objects.filter(campaign_id=big, creator__content__isnull=False).first()
    creator = member.creator_id
    account = SocialAccount.objects.filter(platform="instagram").order_by("-id").first()
    fiftieth = Creator.objects.order_by("name", "id")[49 * 50 - 1]
    cursor = _write(fiftieth.name, fiftieth.pk)
    conversation = Conversation.objects.filter(creator_id=creator).first() or Conversation.objects.first()
    sender = SenderAccount.objects.get(platform="instagram")
    template = MessageTemplate.objects.first()
    preview = {"sender_account": sender.pk, "template": template.pk, "member": "", "find": ""}
    link = f"https://www.instagram.com/{account.handle}/?igsh=MXh2bWQ"
    # "Select all matching" over the whole list: the count to confirm, then the job it queues (no
    # worker runs here: the request's own cost is measured) and that job's page.
    every_creator = {"action": "tag", "tag": "bench-all", "scope": "all", "filter": ""}
    manager = get_user_model().objects.get(username="manager")
    job = bulk.start_bulk_job("tag", actor=manager, filter_query="", tag_name="bench-all")
    ids["handle"] = account.handle
    return [
        ("dashboard", "get", "/", None),
        ("creators: default", "get", "/creators/", None),
        ("creators: search muller", "get", "/creators/?q=muller", None),
        ("creators: pasted profile link", "get", "/creators/?" + _query(q=link), None),
        ("creators: sort by followers", "get", "/creators/?sort=followers", None),
        ("creators: tag", "get", "/creators/?tag=beauty", None),
        ("creators: campaign", "get", f"/creators/?campaign={big}", None),
        ("creators: country", "get", "/creators/?country=DE", None),
        ("creators: tag+country+followers", "get", "/creators/?tag=beauty&country=DE&sort=followers", None),
        ("creators: page 50", "get", "/creators/?" + _query(after=cursor), None),
        ("creators: CSV export (filtered)", "get", "/creators/export.csv?tag=beauty&country=DE", None),
        ("creator detail + timeline", "get", f"/creators/{creator}/", None),
        ("campaign list", "get", "/campaigns/", None),
        ("campaign board (5,000)", "get", f"/campaigns/{big}/", None),
        ("campaign report", "get", f"/campaigns/{big}/report/", None),
        ("launch page", "get", f"/campaigns/{big}/launch/", None),
        ("launch picker search", "get", f"/campaigns/{big}/launch/?find=muller", None),
        ("launch preview (all queued)", "post", f"/campaigns/{big}/launch/", preview),
        ("launch preview (5,000 to send)", "post", f"/campaigns/{ids['launch']}/launch/", preview),
        ("manual queue", "get", "/manual-queue/", None),
        ("manual queue: failed", "get", "/manual-queue/?show=failed", None),
        ("inbox", "get", "/inbox/", None),
        ("conversation", "get", f"/inbox/{conversation.pk}/", None),
        ("content list", "get", "/content/", None),
        ("content: granted", "get", "/content/?rights=granted", None),
        ("content: creator name", "get", "/content/?creator=muller", None),
        (
            "may we use it?",
            "get",
            "/content/may-use/?" + _query(url=ids["post"], channel="paid_ads", territory="DE"),
            None,
        ),
        ("select all: confirm tag (count all)", "post", "/creators/bulk/", every_creator),
        ("select all: confirmed, queued (302)", "post", "/creators/bulk/", {**every_creator, "confirmed": "on"}),
        ("select all: the job's page", "get", f"/creators/bulk/{job.pk}/", None),
        ("rights list", "get", "/permission-requests/", None),
        ("permission request", "get", f"/permission-requests/{ids['granted']}/", None),
        ("proof page", "get", f"/permission-requests/{ids['granted']}/proof/", None),
    ]


def _query(**params) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def fetch(client, method, url, data) -> tuple[int, bytes]:
    response = client.post(url, data) if method == "post" else client.get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def measure(client, plan, runs: int) -> list[dict]:
    from django.db import connection

    results = []
    for name, method, url, data in plan:
        fetch(client, method, url, data)  # warm
        queries = []

        def count(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            status, body = fetch(client, method, url, data)
        timings, cpu = [], []
        for _ in range(runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            status, body = fetch(client, method, url, data)
            timings.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.process_time() - started_cpu))
        ordered = sorted(timings)
        results.append({
            "name": name, "status": status, "queries": len(queries), "bytes": len(body), "body": body,
            "p50": statistics.median(timings), "p95": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
            "cpu": statistics.median(cpu),
        })  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=9, help="warm runs per page")
    parser.add_argument("--database", default="crm_bench_pages")
    parser.add_argument("--keep", action="store_true", help="keep the database for another run (--reuse)")
    parser.add_argument("--reuse", action="store_true", help="use a kept database as it is (migrations applied)")
    parser.add_argument("--only", default="", help="only the pages whose name contains this")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even above the target")
    parser.add_argument(
        "--no-gc-freeze", action="store_true", help="skip config.startup.settle (gc.freeze) that the server runs"
    )
    args = parser.parse_args()

    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
    fresh = not (args.reuse and exists)
    if fresh:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')
    os.environ.update({
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{args.database}",
        "DJANGO_SETTINGS_MODULE": "config.settings", "LOG_LEVEL": "WARNING",
    })  # fmt: skip
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    try:
        call_command("migrate", verbosity=0)
        seed_seconds = None
        if fresh:
            started = time.perf_counter()
            ids = seed(args.creators, random.Random(13))
            seed_seconds = time.perf_counter() - started
        else:
            from crm.models import Campaign, PermissionRequest

            granted = PermissionRequest.objects.filter(status="granted").select_related("content").order_by("id")[0]
            ids = {"big": Campaign.objects.order_by("id")[0].pk, "granted": granted.pk, "post": granted.content.url}
        ids["launch"] = launch_campaign_ready(random.Random(17))
        from django.contrib.auth import get_user_model

        client = Client()
        client.force_login(get_user_model().objects.get(username="manager"))
        plan = [page for page in pages(ids) if args.only.lower() in page[0].lower()]
        if not args.no_gc_freeze:
            from config.startup import settle

            settle()  # what config/wsgi.py does once the server has started
        results = measure(client, plan, args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')

    from crm.models import Creator  # noqa: F401 (settings are loaded)

    seeded = f"seeded in {seed_seconds:.0f} s" if seed_seconds is not None else "database reused"
    print(
        f"creators: {args.creators:,} ({seeded}); a manager signed in through the test client; PostgreSQL; "
        f"{args.runs} warm runs per page; {'no gc.freeze' if args.no_gc_freeze else 'gc.freeze after startup'}; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print("(cpu: the median CPU time of this process, Django's side without PostgreSQL; less moved by the load)")
    print(f"{'page':36} {'p50 ms':>8} {'p95 ms':>8} {'cpu ms':>8} {'queries':>8} {'status':>7} {'KB':>7}")
    for row in results:
        print(f"{row['name']:36} {row['p50']:8.1f} {row['p95']:8.1f} {row['cpu']:8.1f} {row['queries']:8d} "
              f"{row['status']:7d} {row['bytes'] / 1024:7.0f}")  # fmt: skip
    checks = {
        "creators: search muller": "Müller",
        "creators: pasted profile link": ids.get("handle", "@"),
    }
    expected = {name: 302 for name, *_ in plan if "(302)" in name}  # a confirmed action goes to its page
    wrong = [
        r["name"]
        for r in results
        if r["status"] != expected.get(r["name"], 200) or checks.get(r["name"], "") not in r["body"].decode()
    ]
    if wrong:
        print("WRONG ANSWERS (status or content): " + ", ".join(wrong))
    slowest = max(results, key=lambda row: row["p50"])
    print(f"slowest page: {slowest['name']} {slowest['p50']:.0f} ms (target {TARGET_MS} ms)")
    sys.exit(1 if (slowest["p50"] >= TARGET_MS or wrong) and not args.no_fail else 0)


if __name__ == "__main__":
    main()
