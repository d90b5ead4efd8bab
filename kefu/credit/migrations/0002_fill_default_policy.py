"""The one CreditPolicy row, with the defaults of domain.md §3 (docs/credit.md)."""

from typing import Any

from django.db import migrations


def fill_default_policy(apps: Any, schema_editor: Any) -> None:
    from kefu.credit.models import default_policy

    CreditPolicy = apps.get_model("credit", "CreditPolicy")
    if not CreditPolicy.objects.exists():
        CreditPolicy.objects.create(config=default_policy())


def remove_policy(apps: Any, schema_editor: Any) -> None:
    apps.get_model("credit", "CreditPolicy").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunPython(fill_default_policy, remove_policy)]
