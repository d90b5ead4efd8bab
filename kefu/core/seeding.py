"""Demo data, built deterministically: the same --seed gives the same company.

Each app may offer ``<app>/seeds.py`` with ``seed(ctx: SeedContext) -> None``; the seed command
calls them in INSTALLED_APPS order, so later issues add their own data without touching this.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from faker import Faker


@dataclass
class SeedContext:
    size: str  # "demo" or "large"
    seed: int
    rng: random.Random
    fake: Faker
    out: Callable[[str], None]
    shared: dict[str, Any] = field(default_factory=dict)  # what one app's seeder hands the next


def make_context(*, size: str, seed: int, out: Callable[[str], None]) -> SeedContext:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    return SeedContext(size=size, seed=seed, rng=rng, fake=fake, out=out)


def seed_providers() -> list[tuple[str, Callable[[SeedContext], None]]]:
    providers = []
    for config in apps.get_app_configs():
        if not config.name.startswith("kefu."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.seeds")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.seeds":
                raise
            continue
        providers.append((config.label, module.seed))
    return providers


MOBILE_PREFIXES = (
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "173",
    "176",
    "177",
    "180",
    "181",
    "182",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
)


def demo_mobile(rng: random.Random) -> str:
    """A random, well-formed CN mobile in E.164."""
    return "+86" + rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def fast_insert(model: type[Model], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` (attname → value already in database form: str, int, bool, None, ISO
    dates) into ``model``'s table with ids assigned here, bypassing the ORM's per-value work:
    executemany on SQLite, COPY on PostgreSQL. Fields a row leaves out get their default (the
    timestamps: now). For bulk seeding only: no signals, no validation. Returns the new ids.

    Run it inside a transaction; on PostgreSQL the id sequence is moved past the new ids.
    """
    if not rows:
        return []
    table = model._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        elif f.has_default() or not f.null:
            defaults[f.attname] = f.get_db_prep_save(f.get_default(), connection)
        else:
            defaults[f.attname] = None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        found = cursor.fetchone()
    first = int(found[0]) + 1 if found else 1
    ids = list(range(first, first + len(rows)))
    columns = ["id", *[f.column for f in fields]]
    attnames = [f.attname for f in fields]
    values = [
        (pk, *[row.get(name, defaults[name]) for name in attnames])
        for pk, row in zip(ids, rows, strict=True)
    ]
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    raw: Any = connection.connection
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, ids[-1]])
    else:
        marks = ", ".join("?" * len(columns))
        raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)  # noqa: S608
    return ids
