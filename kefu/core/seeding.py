"""Demo data, built deterministically: the same --seed gives the same company.

Each app may offer ``<app>/seeds.py`` with ``seed(ctx: SeedContext) -> None``; the seed command
calls them in INSTALLED_APPS order, so later issues add their own data without touching this.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
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
