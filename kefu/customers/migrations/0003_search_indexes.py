"""Trigram indexes so name and phone-tail search stay fast at 100,000+ customers on PostgreSQL.

What kefu.customers.selectors asks, and the index that answers it:

* a name search with Latin letters (Django's icontains): ``UPPER(name) LIKE UPPER('%q%')`` →
  customers_customer_name_trgm, on UPPER(name);
* a name search without cased letters (Chinese, digits): ``name LIKE '%q%'``, the same answer
  without an UPPER() per row → customers_customer_name_text_trgm, on the name as stored;
* a phone tail (4+ digits): ``mobile LIKE '%5678'`` on customers and on contacts → the two
  mobile indexes.

A trigram index needs 3 characters of the search: one- and two-character searches (a surname,
"科技") read the caller's scope instead. SQLite has no equivalent; a LIKE scan of the narrow
columns is what it does there.
"""

from django.db import migrations

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customers_customer_name_trgm ON customers_customer USING gin (UPPER((name)::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_customer_name_text_trgm ON customers_customer USING gin (((name)::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_customer_mobile_trgm ON customers_customer USING gin (((mobile)::text) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS customers_contact_mobile_trgm ON customers_contact USING gin (((mobile)::text) gin_trgm_ops)",
]
PG_DOWN = [
    "DROP INDEX IF EXISTS customers_customer_name_trgm",
    "DROP INDEX IF EXISTS customers_customer_name_text_trgm",
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
