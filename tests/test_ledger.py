"""The consent ledger cannot be rewritten: not by the ORM, the admin, nor raw SQL, on both databases."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from crm import ledger_guard, services
from crm.models import AppendOnlyError, ConsentEvent
from crm.services import Evidence
from tests.conftest import ROOT, is_postgres, postgres_server_url, restore_postgres_dump, test_database_url
from tests.factories import ConsentEventFactory, CreatorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return ConsentEventFactory(kind=ConsentEvent.Kind.OPTED_OUT, text="STOP", rule="keyword STOP")


def test_the_orm_refuses_to_change_an_entry(event):
    event.rule = "something else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.filter(pk=event.pk).update(rule="edited")
    assert ConsentEvent.objects.get(pk=event.pk).rule == "keyword STOP"


def test_the_orm_refuses_to_delete_an_entry(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        ConsentEvent.objects.all().delete()
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE crm_consentevent SET rule = 'edited'",
        "DELETE FROM crm_consentevent",
    ],
)
def test_the_database_refuses_raw_updates_and_deletes(event, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert ConsentEvent.objects.get(pk=event.pk).rule == "keyword STOP"


@pytest.mark.postgres
def test_postgres_refuses_truncate(event):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts are still pending
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_consentevent CASCADE")
    assert ConsentEvent.objects.filter(pk=event.pk).exists()


def test_a_deleted_creator_cannot_take_their_ledger_with_them(event):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        event.creator.delete()


def test_tampering_past_the_trigger_is_detected_by_the_hash_chain(event):
    creator = event.creator
    ConsentEventFactory(creator=creator, kind=ConsentEvent.Kind.OPTED_IN, text="start again")
    assert services.verify_ledger(creator) == []
    with transaction.atomic():
        ledger_guard.remove(connection)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE crm_consentevent SET kind = 'opted_in' WHERE id = %s", [event.pk])
        assert services.verify_ledger(creator) == [f"entry {event.pk} was altered after it was recorded"]
        transaction.set_rollback(True)
    with transaction.atomic():
        ledger_guard.remove(connection)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_consentevent WHERE id = %s", [event.pk])
        assert services.verify_ledger(creator) == [
            f"entry {event.pk + 1} does not follow the entry before it (one is missing or altered)"
        ]
        transaction.set_rollback(True)
    assert services.verify_ledger(creator) == []


def test_the_admin_shows_the_ledger_read_only(client, event):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    change_url = reverse("admin:crm_consentevent_change", args=[event.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert b"STOP" in page.content
    assert b'name="_save"' not in page.content
    assert client.post(change_url, {"rule": "edited"}).status_code == 403
    assert client.post(reverse("admin:crm_consentevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:crm_consentevent_add")).status_code == 403
    listing = client.get(reverse("admin:crm_consentevent_changelist"))
    assert listing.status_code == 200
    assert b"action-select" not in listing.content
    assert ConsentEvent.objects.get(pk=event.pk).rule == "keyword STOP"


PROBE = textwrap.dedent(
    """
    import json, django
    django.setup()
    from django.core.management import call_command
    from django.db import DatabaseError, connection, transaction
    call_command("migrate", verbosity=0)
    from crm import services
    from crm.models import Creator
    creator = Creator.objects.create(name="Probe")
    services.opt_out(creator, actor=None, evidence=services.Evidence(rule="probe", text="STOP"))
    outcome = {"vendor": connection.vendor}
    statements = {"update": "UPDATE crm_consentevent SET note = 'x'", "delete": "DELETE FROM crm_consentevent"}
    if connection.vendor == "postgresql":
        statements["truncate"] = "TRUNCATE crm_consentevent CASCADE"
    for name, sql in statements.items():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
            outcome[name] = "allowed"
        except DatabaseError as error:
            outcome[name] = str(error).splitlines()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(note) FROM crm_consentevent")
        outcome["left"] = list(cursor.fetchone())
    print(json.dumps(outcome))
    """
)


@pytest.mark.parametrize("vendor", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow(seconds=8))])
def test_a_fresh_database_of_each_kind_refuses_to_rewrite_the_ledger(request, tmp_path, vendor):
    """Runs in its own process and database, so both kinds are proven whichever one the suite uses.
    The database is a copy of the run's own, made by `manage.py migrate` in a fresh process (the
    triggers come from the migrations), and the probe migrates it again, finding nothing left."""
    if vendor == "sqlite":
        database = tmp_path / "probe.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_template"), database)
        database_url = f"sqlite:///{database}"
        cleanup = None
    else:
        psycopg = pytest.importorskip("psycopg")
        dump = request.getfixturevalue("migrated_postgres_dump")
        server = postgres_server_url()
        name = f"ledger_probe_{uuid.uuid4().hex[:10]}"
        admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3)
        admin.execute(f'CREATE DATABASE "{name}"')
        database_url = f"{server}/{name}"

        def cleanup():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()

        try:
            restore_postgres_dump(dump, database_url)
        except BaseException:
            cleanup()
            raise

    try:
        result = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        if cleanup:
            cleanup()
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["vendor"] == vendor
    refused = {key: value for key, value in outcome.items() if key in {"update", "delete", "truncate"}}
    assert refused and all("append-only" in message for message in refused.values()), refused
    assert outcome["left"] == [1, ""]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_processes_appending_at_once_keep_one_linear_chain():
    """Writers on two processes lock the creator row; the chain's unique constraint would catch a fork."""
    creator = CreatorFactory()
    url = test_database_url()
    worker = textwrap.dedent(
        f"""
        import django, sys
        django.setup()
        from crm import services
        from crm.models import Creator
        creator = Creator.objects.get(pk={creator.pk})
        for n in range(40):
            verb = services.opt_out if n % 2 else services.allow_contact
            verb(creator, actor=None, evidence=services.Evidence(rule="race " + sys.argv[1], text=str(n)))
        """
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    processes = [
        subprocess.Popen([sys.executable, "-c", worker, str(n)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for n in range(2)
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0, process.stderr.read()
    assert creator.consent_events.count() == 80
    assert services.verify_ledger(creator) == []
    creator.refresh_from_db()
    assert (creator.opted_out_at, creator.contact_allowed_at) == services.derive_contactability(creator)


def test_a_transactional_flush_still_empties_a_database_with_a_ledger(event):
    """Test runs and demo resets use `flush`; it lifts the guard for its own transaction only."""
    from django.core.management import call_command

    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own inserts are still pending
    with transaction.atomic():
        call_command("flush", interactive=False, verbosity=0)
        assert not ConsentEvent.objects.exists()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            ConsentEventFactory(kind=ConsentEvent.Kind.OPTED_OUT, rule="r")
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM crm_consentevent")
        transaction.set_rollback(True)


def test_evidence_rule_is_kept_verbatim():
    creator = CreatorFactory()
    event = services.opt_out(creator, actor=None, evidence=Evidence(rule="keyword: unsubscribe", text="Unsubscribe"))
    assert ConsentEvent.objects.get(pk=event.pk).rule == "keyword: unsubscribe"


def test_message_bodies_live_apart_from_the_ledger_and_can_be_erased_without_breaking_it(event):
    """Erasing a creator's words (GDPR) leaves the decision, its hash and the chain intact."""
    from crm.models import EvidenceText

    assert event.inbound_text == "STOP"
    assert event.inbound_text_sha256 == EvidenceText.digest("STOP")
    EvidenceText.objects.filter(creator=event.creator).delete()
    event = ConsentEvent.objects.get(pk=event.pk)
    assert event.inbound_text is None
    assert event.inbound_text_sha256 == EvidenceText.digest("STOP")
    assert services.verify_ledger(event.creator) == []


def test_removing_the_newest_entries_past_the_trigger_is_detected(event):
    creator = event.creator
    last = ConsentEventFactory(creator=creator, kind=ConsentEvent.Kind.OPTED_IN, text="start again")
    with transaction.atomic():
        ledger_guard.remove(connection)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM crm_consentevent WHERE id = %s", [last.pk])
        assert services.verify_ledger(creator) == [
            "the newest entries are missing: the chain ends before its recorded head"
        ]
        transaction.set_rollback(True)
