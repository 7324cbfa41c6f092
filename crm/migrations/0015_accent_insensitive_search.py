"""Accent-insensitive search at 100,000 creators on PostgreSQL: the unaccent and pg_trgm extensions,
an IMMUTABLE wrapper `immutable_unaccent` (unaccent itself is only STABLE, so no index could hold it)
and trigram indexes on lower(immutable_unaccent(...)) of creators' names and emails (crm/search.py
queries exactly that expression). SQLite gets the same function from Python on each connection, so
this migration does nothing there. CREATE EXTENSION needs a role allowed to create them (the owner of
the database on PostgreSQL 13+ for these trusted extensions)."""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE OR REPLACE FUNCTION immutable_unaccent(text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
       AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$""",
    "CREATE INDEX IF NOT EXISTS crm_creator_name_folded_trgm ON crm_creator "
    "USING gin (lower(immutable_unaccent(name)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS crm_creator_email_folded_trgm ON crm_creator "
    "USING gin (lower(immutable_unaccent(email)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS crm_socialaccount_handle_trgm ON crm_socialaccount "
    "USING gin (lower(immutable_unaccent(handle)) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS crm_socialaccount_handle_trgm",
    "DROP INDEX IF EXISTS crm_creator_email_folded_trgm",
    "DROP INDEX IF EXISTS crm_creator_name_folded_trgm",
    "DROP FUNCTION IF EXISTS immutable_unaccent(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("crm", "0014_normalise_permission_territories")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
