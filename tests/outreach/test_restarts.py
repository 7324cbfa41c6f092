"""PostgreSQL restarted mid-launch, then Redis restarted mid-launch: sending resumes by itself, and
nothing goes out twice or is lost. Both servers are this test's OWN instances (initdb into a temp
dir, a redis-server on a free port), never the shared ones others' tests use."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.conftest import restore_postgres_dump, run_manage
from tests.fakes.meta import IG_ACCOUNT, IG_TOKEN
from tests.queue_process import enqueue, start_queue, stop_queue

pytestmark = [pytest.mark.slow(seconds=60)]
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1:] or [""]
MESSAGES = 400


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def as_postgres(*command, **kwargs):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], check=True, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture
def own_postgres(migrated_postgres_dump):
    if not os.path.exists(f"{PG_BIN[0]}/initdb"):
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
    tmp_path = Path(tempfile.mkdtemp(prefix="crm-restarts-pg-"))  # pytest's tmp dirs are root's only
    tmp_path.chmod(0o755)
    data = tmp_path / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp_path, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    as_postgres(f"{PG_BIN[0]}/initdb", "-D", str(data), "-U", "postgres", "--auth=trust")
    ctl = [f"{PG_BIN[0]}/pg_ctl", "-D", str(data), "-l", str(tmp_path / "pg.log"), "-w"]
    options = f"-p {port} -k {tmp_path} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_postgres(*ctl, "-o", options, "start")
    admin = psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True)
    admin.execute("CREATE DATABASE crm_restarts")
    admin.close()
    server = {"url": f"postgresql://postgres@127.0.0.1:{port}/crm_restarts", "restart": lambda: None}
    restore_postgres_dump(migrated_postgres_dump, server["url"])  # migrated once per run, not here
    server["restart"] = lambda: as_postgres(*ctl, "-o", options, "-m", "fast", "restart")
    yield server
    as_postgres(*ctl, "-m", "immediate", "stop")
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def own_redis(tmp_path):
    if not shutil.which("redis-server"):
        pytest.skip("no redis-server")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    state = {"process": subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=tmp_path)}

    def restart():
        state["process"].send_signal(signal.SIGTERM)
        state["process"].wait(timeout=30)
        time.sleep(1)
        state["process"] = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=tmp_path)

    deadline = time.monotonic() + 30
    while True:  # until it answers (it did within the half second this once slept, on an idle machine)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
    yield {"url": f"redis://127.0.0.1:{port}/0", "restart": restart}
    state["process"].kill()
    state["process"].wait()


SETUP = """
from django.utils import timezone
from crm.models import Campaign, Creator, SocialAccount
from outreach.models import Conversation, OutreachMessage, SenderAccount
sender = SenderAccount(name="restarts", platform="instagram", variant="instagram_login", account_id="{account}",
                       api_base_url="{url}", rate_per_second=40)
sender.set_access_token("{token}")
sender.save()
campaign = Campaign.objects.create(name="restarts", brand="Acme", status="active")
creators = Creator.objects.bulk_create([Creator(name=f"Creator {{n}}") for n in range({count})])
SocialAccount.objects.bulk_create([SocialAccount(creator=c, platform="instagram", handle=f"c{{c.pk}}",
                                   platform_user_id=f"ig{{c.pk}}") for c in creators])
Conversation.objects.bulk_create([Conversation(creator=c, platform="instagram", last_inbound_at=timezone.now())
                                  for c in creators])
OutreachMessage.objects.bulk_create([OutreachMessage(campaign=campaign, creator=c, sender_account=sender,
                                     platform="instagram", rendered_text="Hi") for c in creators])
print("IDS", min(c.pk for c in creators), max(c.pk for c in creators), sender.pk)
"""


def statuses(url) -> Counter:
    with psycopg.connect(url) as connection:
        rows = connection.execute("SELECT status, count(*) FROM outreach_outreachmessage GROUP BY 1").fetchall()
        return Counter(dict(rows))


def test_sending_resumes_after_postgres_and_then_redis_restart_mid_launch(fake_meta, own_postgres, own_redis, tmp_path):
    fake_meta.now = time.time
    fake_meta.latency = 0.05
    env = {
        **os.environ,
        "DATABASE_URL": own_postgres["url"],
        "REDIS_URL": own_redis["url"],
        "Q_WORKERS": "2",
        "OUTREACH_SEND_CONCURRENCY": "8",
        "OUTREACH_CLAIM_BATCH": "20",
        "OUTREACH_LEASE_SECONDS": "6",
        "OUTREACH_REAP_SECONDS": "2",
        "LOG_LEVEL": "WARNING",
    }
    made = run_manage(
        "shell", "-c", SETUP.format(account=IG_ACCOUNT, url=fake_meta.url, token=IG_TOKEN, count=MESSAGES),
        env=env, timeout=180,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr[-3000:]
    out = made.stdout
    first, last, sender_id = (int(x) for x in out.split("IDS", 1)[1].split())
    for pk in range(first, last + 1):
        fake_meta.user_wrote(IG_ACCOUNT, f"ig{pk}")
    cluster = start_queue("run_queue", env, tmp_path / "cluster.log")
    try:
        enqueue(env, "outreach.tasks.send_due_messages", sender_id, times=2, timeout=180)

        def wait_for_sent(count, seconds):
            deadline = time.monotonic() + seconds
            while fake_meta.sent_count(IG_ACCOUNT) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            assert fake_meta.sent_count(IG_ACCOUNT) >= count, f"stuck at {fake_meta.sent_count(IG_ACCOUNT)} sent"

        wait_for_sent(80, 60)
        # Each time sending resumes by itself within seconds: run_queue's reaper settles the dead run's
        # claims and queues a run for the account nobody works on (no waiting for the minute's dispatcher).
        own_postgres["restart"]()  # mid-launch
        wait_for_sent(fake_meta.sent_count(IG_ACCOUNT) + 60, 60)
        own_redis["restart"]()  # mid-launch again
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            counts = statuses(own_postgres["url"])
            if not counts["pending"] and not counts["sending"]:
                break
            time.sleep(0.2)
    finally:
        fake_meta.latency = 0.0
        signalled = time.monotonic()
        stop_queue(cluster, group=False, timeout=60)
        stopped_in = time.monotonic() - signalled
    delivered = Counter(m["recipient"] for m in fake_meta.sent(IG_ACCOUNT))
    counts = statuses(own_postgres["url"])
    print("statuses", dict(counts), "delivered", len(delivered))
    assert max(delivered.values()) == 1, "a message went out twice"
    assert set(counts) <= {"sent", "needs_review"}, counts  # nothing lost, nothing stuck
    assert counts["sent"] + counts["needs_review"] == MESSAGES
    assert counts["needs_review"] <= 2 * 2 * 8, counts  # at most the calls in flight at each restart
    assert stopped_in < 30, f"run_queue took {stopped_in:.0f} s to stop after the restarts"
