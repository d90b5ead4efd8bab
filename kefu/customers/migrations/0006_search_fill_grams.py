"""Build the name bigram index (CustomerSearchGram) for the customers that exist already; from
here on the post_save receiver (kefu.customers.search_signals) and search_index_customers keep
it current. Reversing leaves the rows: the table itself belongs to 0004."""

from django.db import migrations


def fill(apps, schema_editor):
    from kefu.customers.search import write_grams

    write_grams(
        gram_table=apps.get_model("customers", "CustomerSearchGram")._meta.db_table,
        customer_table=apps.get_model("customers", "Customer")._meta.db_table,
        customer_ids=None,
        using=schema_editor.connection,
    )


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_search_mobile_tail")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
