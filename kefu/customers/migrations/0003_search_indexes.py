"""Trigram indexes so name and phone-tail search stay fast at 100,000+ customers on PostgreSQL.

SQLite has no equivalent; a LIKE scan of the narrow columns is what it does there.
"""

from django.db import migrations

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customers_customer_name_trgm ON customers_customer USING gin (UPPER((name)::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_customer_mobile_trgm ON customers_customer USING gin (((mobile)::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_contact_mobile_trgm ON customers_contact USING gin (((mobile)::text) gin_trgm_ops)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS customers_customer_name_trgm",
    "DROP INDEX IF EXISTS customers_customer_mobile_trgm",
    "DROP INDEX IF EXISTS customers_contact_mobile_trgm",
]


def up(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_UP:
            schema_editor.execute(statement)


def down(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_DOWN:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [migrations.RunPython(up, down)]
