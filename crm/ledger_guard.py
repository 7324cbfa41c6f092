"""Database triggers that make the consent ledger append-only, whoever connects.

The ORM refuses updates and deletes too, but a lawyer will ask whether anyone could have edited a
record: with these triggers, not without first dropping a trigger, which needs the schema owner.
"""

from django.core.exceptions import ImproperlyConfigured

TABLE = "crm_consentevent"
MESSAGE = "consent ledger is append-only"

POSTGRES_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION crm_consentevent_refuse_change() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % on {TABLE} refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$ LANGUAGE plpgsql;
    """,
    f"DROP TRIGGER IF EXISTS crm_consentevent_append_only ON {TABLE};",
    f"DROP TRIGGER IF EXISTS crm_consentevent_no_truncate ON {TABLE};",
    f"""
    CREATE TRIGGER crm_consentevent_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION crm_consentevent_refuse_change();
    """,
    f"""
    CREATE TRIGGER crm_consentevent_no_truncate
    BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION crm_consentevent_refuse_change();
    """,
]
POSTGRES_REMOVE = [
    f"DROP TRIGGER IF EXISTS crm_consentevent_no_truncate ON {TABLE};",
    f"DROP TRIGGER IF EXISTS crm_consentevent_append_only ON {TABLE};",
    "DROP FUNCTION IF EXISTS crm_consentevent_refuse_change();",
]

SQLITE_INSTALL = [
    f"""
    CREATE TRIGGER IF NOT EXISTS crm_consentevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: UPDATE on {TABLE} refused'); END;
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS crm_consentevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}: DELETE on {TABLE} refused'); END;
    """,
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS crm_consentevent_no_update;",
    "DROP TRIGGER IF EXISTS crm_consentevent_no_delete;",
]


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "postgresql":
        return POSTGRES_INSTALL if install else POSTGRES_REMOVE
    if vendor == "sqlite":
        return SQLITE_INSTALL if install else SQLITE_REMOVE
    raise ImproperlyConfigured(f"No append-only guard for the {vendor} database; use PostgreSQL or SQLite.")


def install(connection) -> None:
    """Create the guard (again); safe to repeat. On SQLite, any migration that rebuilds the table
    drops its triggers, so such a migration must end with this."""
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=True):
            cursor.execute(statement)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection.vendor, install=False):
            cursor.execute(statement)
