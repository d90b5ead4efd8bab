"""The default rule set of domain.md §3: ABC on trailing-12-month gross profit, cumulative cuts
70/90, top 5% of A → diamond, credit caps on. Managers edit it in the UI afterwards."""

from decimal import Decimal

from django.db import migrations

DEFAULT_NAME = "默认规则（ABC毛利排名）"

# tier, sla_policy, priority_bump, followup_days, discount_rate
LEVELS = (
    ("diamond", "diamond", 1, 30, Decimal("0.05")),
    ("gold", "gold", 0, 30, Decimal("0.03")),
    ("silver", "", 0, 90, Decimal("0.01")),
    ("ordinary", "", 0, None, Decimal("0")),
)


def create_default(apps, schema_editor):
    TierRuleSet = apps.get_model("tiering", "TierRuleSet")
    TierLevel = apps.get_model("tiering", "TierLevel")
    if TierRuleSet.objects.filter(name=DEFAULT_NAME).exists():
        return
    active = not TierRuleSet.objects.filter(is_active=True).exists()
    rule_set = TierRuleSet.objects.create(
        name=DEFAULT_NAME,
        measure="gross_profit_t12",
        method="ranking",
        weights={},
        cut_a=Decimal("0.70"),
        cut_b=Decimal("0.90"),
        diamond_share=Decimal("0.05"),
        apply_credit_caps=True,
        is_active=active,
    )
    for tier, sla, bump, followup, discount in LEVELS:
        TierLevel.objects.create(
            rule_set=rule_set,
            tier=tier,
            sla_policy=sla,
            priority_bump=bump,
            followup_days=followup,
            discount_rate=discount,
        )


def remove_default(apps, schema_editor):
    TierRuleSet = apps.get_model("tiering", "TierRuleSet")
    TierRuleSet.objects.filter(name=DEFAULT_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("tiering", "0001_initial")]

    operations = [migrations.RunPython(create_default, remove_default)]
