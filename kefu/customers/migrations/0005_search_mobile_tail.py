"""Indexes on the last four digits of every mobile, so that the commonest phone search (the
tail an agent reads off a masked 138****5678) is an index equality instead of a
``LIKE '%5678'`` over every number (kefu.customers.search.MobileTail spells the same
expression in queries: SQLite matches an expression index only to the very same expression).
"""

from django.db import migrations

TABLES = ("customers_customer", "customers_contact")


def up(apps, schema_editor):
    tail = (
        "substr(mobile, -4)" if schema_editor.connection.vendor == "sqlite" else "right(mobile, 4)"
    )
    for table in TABLES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {table}_mobile_tail ON {table} ({tail})")


def down(apps, schema_editor):
    for table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_mobile_tail")


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_tag_alter_customer_options_contact_role_and_more")]

    operations = [migrations.RunPython(up, down)]
