from __future__ import annotations

from django.core.management import call_command

from kefu.customers.models import Customer
from kefu.org.models import User
from kefu.org.roles import ROLES


def _snapshot() -> list[tuple[str, str, str, str, str | None]]:
    return list(
        Customer.objects.order_by("id").values_list(
            "name", "kind", "region", "mobile", "serving_team__name"
        )
    )


def test_demo_seed_is_deterministic_and_covers_every_role(db: None) -> None:
    # given the demo company seeded with seed 7
    call_command("seed", "--size", "demo", "--seed", "7")
    first = _snapshot()
    # when the customers are wiped and seeded again with the same seed
    Customer.objects.all().delete()
    call_command("seed", "--size", "demo", "--seed", "7")
    # then the same customers come back, ~500 of them, with valid masked-able mobiles
    assert _snapshot() == first
    assert len(first) == 500
    assert all(row[3].startswith("+861") and len(row[3]) == 14 for row in first)
    # and there is a demo login for every role
    role_names = {role.name for role in ROLES}
    seeded_roles = set(User.objects.values_list("groups__name", flat=True))
    assert role_names <= seeded_roles


def test_a_different_seed_gives_a_different_company(db: None) -> None:
    call_command("seed", "--size", "demo", "--seed", "7")
    first = _snapshot()
    Customer.objects.all().delete()
    call_command("seed", "--size", "demo", "--seed", "8")
    assert [row[0] for row in _snapshot()] != [row[0] for row in first]


def test_if_empty_leaves_an_existing_company_alone(db: None) -> None:
    call_command("seed", "--size", "demo", "--seed", "7")
    before = Customer.objects.count()
    call_command("seed", "--size", "demo", "--if-empty")
    assert Customer.objects.count() == before
