"""Personas and shared fixtures.

alice owns campaigns and creators, bob is her teammate on them, charlie is another user of the
same instance who works on other things.
"""

import fcntl
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.database import flush_keeping_post_migrate_rows
from tests.factories import CampaignFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent

# Fixtures that start the loopback fake platforms, available to every test.
pytest_plugins = [
    "tests.fakes.meta",
    "tests.fakes.smtp",
    "tests.fakes.x",
    "tests.fakes.tiktok",
    "tests.fakes.imap",
    "tests.fakes.dkim",
]


def pytest_configure(config):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    flush_keeping_post_migrate_rows()  # a transactional test's teardown, without re-creating permissions
    settings.API_RATE_LIMIT = ""  # throttling has its own test; elsewhere it would only make tests flaky
    if os.environ.get("PYTEST_XDIST_WORKER") and "KEY_PREFIX" not in settings.CACHES["default"]:
        # With REDIS_URL set the cache is shared: each test process keeps its own keys (throttle counts).
        settings.CACHES["default"]["KEY_PREFIX"] = f"test-{os.environ['PYTEST_XDIST_WORKER']}"
    # The platform fakes listen on loopback, which core.netguard opens for platform calls only with
    # this (as in the sandbox); here and in the workers tests start. tests/security turns it off.
    settings.ALLOW_INSECURE_PLATFORM_URLS = True
    os.environ["ALLOW_INSECURE_PLATFORM_URLS"] = "true"
    if getattr(config.option, "maxschedchunk", 0) is None:
        # xdist would first hand each worker a quarter of its share in one block, the longest tests
        # (sorted first, see longest_first) all to the first worker; two at a time, they spread out.
        config.option.maxschedchunk = 2


def pytest_report_header(config):
    vendor = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    skipped = "" if vendor == "PostgreSQL" else " (tests marked 'postgres' are skipped; set DATABASE_URL to run them)"
    return f"database: {vendor}{skipped}"


def expected_seconds(item) -> float:
    """What a test's `slow` marker says it takes (`slow(seconds=90)`; 5 if it gives no figure); 0 unmarked."""
    marker = item.get_closest_marker("slow")
    return 0.0 if marker is None else float(marker.kwargs.get("seconds", 5))


def is_transactional(item) -> bool:
    """A test whose database changes are committed, then flushed (rows from data migrations too), as
    pytest-django tells them: such tests must run after all the others that use the database."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences")))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )


def longest_first(items) -> None:
    """The longest tests first (the rest keep their order), so that under xdist none of them starts late
    and holds up the end of the run; but, as pytest-django and Django order them, the transactional ones
    after every other test. xdist hands a worker two tests at a time (pytest_configure), and a worker
    runs its tests one after the other, so the longest one is paired with a quick one, never with the
    next long one, which would wait behind it."""
    items.sort(key=lambda item: (is_transactional(item), -expected_seconds(item)))  # stable
    quick = next((n for n, item in enumerate(items) if not expected_seconds(item)), None)
    if quick is not None and quick > 1:
        items.insert(1, items.pop(quick))


def pytest_collection_modifyitems(config, items):
    longest_first(items)
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgresql://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie", first_name="Charlie")


@pytest.fixture
def admin_user_persona(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def campaign(alice, bob):
    campaign = CampaignFactory(owner=alice)
    campaign.team.add(bob)
    return campaign


def run_manage(*args, env=None, timeout=120):
    """Run manage.py in a fresh process, as an operator would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory, request) -> Path:
    """A SQLite file made by `manage.py migrate` in a fresh process, once for the whole run: every test
    process of xdist shares it (a file lock; the run's own temp dir, so never an older run's file).
    The migrate itself is kept between runs in var/test-cache/, keyed by everything it depends on
    (`migration_state_key`): a run whose migrations did not change copies it instead of spending
    seconds on a migrate from nothing before any test starts. `--create-db` (CI) migrates from
    nothing all the same."""
    root = _shared_run_dir(tmp_path_factory)
    template = root / "migrated-template.sqlite3"
    with open(root / "migrated-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not template.is_file():
            cached = MIGRATED_CACHE / f"migrated-{migration_state_key()}.sqlite3"
            partial = root / "migrated-template.partial.sqlite3"
            partial.unlink(missing_ok=True)
            if request.config.getvalue("create_db") or not _copied(cached, partial):
                # Every test process waits for this one: a generous timeout on a machine others share.
                result = run_manage("migrate", "-v0", env={"DATABASE_URL": f"sqlite:///{partial}"}, timeout=900)
                assert result.returncode == 0, result.stderr
                _keep_in_cache(partial, cached)
            partial.rename(template)
    return template


MIGRATED_CACHE = ROOT / "var" / "test-cache"


def _copied(source: Path, target: Path) -> bool:
    try:
        shutil.copyfile(source, target)
    except FileNotFoundError:  # not cached yet, or another run's clean-up took it just now
        return False
    return True


def migration_state_key(*more: str) -> str:
    """A digest of what a migrate from nothing depends on: the project's migration files and the project
    modules they import (e.g. crm/ledger_guard.py's triggers), the settings, every installed package's
    version (third-party apps bring migrations of their own), Python's, and `more` (a tool's version)."""
    import ast
    import hashlib
    from importlib import metadata

    digest = hashlib.sha256("\0".join([sys.version, *more]).encode())
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}  # crm, core, outreach, …
    sources = {migration for package in packages for migration in ROOT.glob(f"{package}/**/migrations/*.py")}
    sources.add(ROOT / "config" / "settings.py")
    for migration in sorted(sources):
        for node in ast.walk(ast.parse(migration.read_bytes())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.split(".")[0] in packages:
                    module = ROOT.joinpath(*name.split("."))
                    sources |= {module.with_suffix(".py"), module / "__init__.py"}
    for source in sorted(path for path in sources if path.is_file()):
        digest.update(str(source.relative_to(ROOT)).encode() + b"\0" + source.read_bytes())
    installed = sorted(f"{dist.metadata['Name']}=={dist.version}" for dist in metadata.distributions())
    digest.update("\n".join(installed).encode())
    return digest.hexdigest()[:20]


def _keep_in_cache(migrated: Path, cached: Path, kind: str = "migrated-*.sqlite3") -> None:
    """Keep a fresh migrate for later runs (only the latest few of its `kind`: older states are of no
    use). A cache that cannot be written (a read-only checkout) only costs the next run its migrate."""
    staged = cached.with_suffix(f".{os.getpid()}.partial")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated, staged)
        staged.rename(cached)  # atomic: another run reads the whole file or none
        for old in sorted(cached.parent.glob(kind), key=lambda path: path.stat().st_mtime)[:-3]:
            old.unlink(missing_ok=True)
    except OSError:
        staged.unlink(missing_ok=True)


def _shared_run_dir(tmp_path_factory) -> Path:
    """This run's temp dir shared by all its xdist test processes (pytest-<n>/), never an older run's."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root


def postgres_server_url() -> str:
    """The PostgreSQL server the suite may create databases on: DATABASE_URL's, else the local one."""
    url = os.environ.get("DATABASE_URL", "")
    return url.rsplit("/", 1)[0] if url.startswith("postgres") else "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def migrated_postgres_dump(tmp_path_factory, request) -> Path:
    """A plain-SQL `pg_dump` of a PostgreSQL database made by `manage.py migrate` in a fresh process,
    once for the whole run (a file lock shares it between xdist processes). Tests that need a fresh
    database of their own on another server restore it (`restore_postgres_dump`) in a second instead
    of migrating for twenty: the schema, triggers and the migrations' rows are all in the dump.
    Kept between runs in var/test-cache/ as the SQLite template is (`migrated_sqlite_template`), keyed
    also by pg_dump's and the server's versions; `--create-db` migrates from nothing all the same."""
    psycopg = pytest.importorskip("psycopg")
    if not shutil.which("pg_dump") or not shutil.which("psql"):
        pytest.skip("no pg_dump/psql")
    root = _shared_run_dir(tmp_path_factory)
    dump = root / "migrated-postgres.sql"
    with open(root / "migrated-postgres.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if dump.is_file():
            return dump
        server = postgres_server_url()
        try:
            admin = psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3)
        except psycopg.OperationalError:
            pytest.skip(f"no PostgreSQL server at {server}")
        versions = (
            subprocess.run(["pg_dump", "--version"], capture_output=True, text=True, timeout=30).stdout,
            str(admin.execute("SHOW server_version_num").fetchone()[0]),  # the dump is the server's
        )
        cached = MIGRATED_CACHE / f"migrated-postgres-{migration_state_key(*versions)}.sql"
        partial = root / "migrated-postgres.partial.sql"
        if not request.config.getvalue("create_db") and _copied(cached, partial):
            admin.close()
            partial.rename(dump)
            return dump
        name = f"crm_template_{os.getpid()}"
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            result = run_manage("migrate", "-v0", env={"DATABASE_URL": f"{server}/{name}"}, timeout=900)
            assert result.returncode == 0, result.stderr
            dumped = subprocess.run(
                ["pg_dump", "--no-owner", "--no-privileges", "-f", str(partial), f"{server}/{name}"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert dumped.returncode == 0, dumped.stderr
            _keep_in_cache(partial, cached, kind="migrated-postgres-*.sql")
            partial.rename(dump)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
    return dump


def restore_postgres_dump(dump: Path, database_url: str) -> None:
    """Load `migrated_postgres_dump` into an empty database."""
    result = subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump), database_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, request):
    """On SQLite, each test process's in-memory test database starts as a copy of the run's migrated
    template (sqlite3's backup), so that the migrations run once per run, not once per xdist worker;
    Django's own `migrate` then still runs on it (finding nothing left to apply), as do its checks."""
    creation = connection.creation
    name = creation._get_test_db_name() if connection.vendor == "sqlite" else ""
    if not name or not creation.is_in_memory_db(name) or request.config.getvalue("nomigrations"):
        yield
        return
    keeper = sqlite3.connect(name, uri=True, check_same_thread=False)  # keeps the shared memory database
    source = sqlite3.connect(request.getfixturevalue("migrated_sqlite_template"))
    try:
        source.backup(keeper)
    finally:
        source.close()
    yield
    keeper.close()


@pytest.fixture
def migrated_sqlite(migrated_sqlite_template, tmp_path) -> dict:
    """A fresh, fully migrated SQLite database of this test's own, as `manage.py migrate` leaves one (a
    copy of the run's template: a migrate from nothing costs seconds of CPU); the env that points at it."""
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(migrated_sqlite_template, path)
    return {"DATABASE_URL": f"sqlite:///{path}"}


def is_postgres():
    return connection.vendor == "postgresql"


def test_database_url() -> str:
    """The URL of the database this test runs in, for worker processes started by the test."""
    settings_dict = connection.settings_dict
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgresql://{settings_dict['USER']}@{host}:{port}/{settings_dict['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def xdist_worker_number() -> int:
    """0 without xdist or on its first worker (gw0), 1 on gw1, and so on: for resources that every test
    process must have its own of (the test database is already one per worker: test_<name>_gw<n>)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def redis_test_url() -> str:
    """A Redis database of this test process's own (a test flushes it): 15 on the first worker, 14 on the
    next, down to 8, so that up to eight workers never share one and databases 0-7 stay the developer's."""
    return f"redis://127.0.0.1:6379/{15 - xdist_worker_number() % 8}"
