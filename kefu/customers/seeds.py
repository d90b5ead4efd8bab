"""Demo customers: ~500 for the demo company, 100,000 more for benchmarks (--size large)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kefu.core.seeding import SeedContext, demo_mobile
from kefu.customers.models import Contact, Customer

REGIONS = (
    "上海市",
    "北京市",
    "广东省广州市",
    "广东省深圳市",
    "浙江省杭州市",
    "浙江省宁波市",
    "江苏省南京市",
    "江苏省苏州市",
    "四川省成都市",
    "湖北省武汉市",
    "山东省济南市",
    "山东省青岛市",
    "福建省厦门市",
    "河南省郑州市",
    "湖南省长沙市",
    "陕西省西安市",
    "天津市",
    "重庆市",
    "安徽省合肥市",
    "辽宁省沈阳市",
)
INDUSTRIES = (
    "制造业",
    "批发零售",
    "建筑工程",
    "餐饮酒店",
    "医疗器械",
    "教育培训",
    "物流运输",
    "电子科技",
    "房地产",
    "农业",
)
TITLES = ("采购经理", "总经理", "设备主管", "行政主管", "财务经理", "店长", "项目经理", "")
SERVICE_TEAMS = ("客服一组", "客服二组", "大客户服务组")

DEMO_COUNT = 500
LARGE_COUNT = 100_000
BATCH = 5_000


def _customers(
    ctx: SeedContext, count: int, start: int
) -> tuple[list[Customer], list[list[Contact]]]:
    teams = ctx.shared["teams"]
    staff = ctx.shared["staff"]
    rng, fake = ctx.rng, ctx.fake
    customers: list[Customer] = []
    contacts: list[list[Contact]] = []
    for index in range(start, start + count):
        is_company = rng.random() < 0.7
        name = fake.company() if is_company else fake.name()
        if is_company and index % 7 == 0:
            name = f"{rng.choice(REGIONS)[-3:-1]}{name}"  # two companies of one name in two cities
        mobile = demo_mobile(rng)
        customer = Customer(
            name=name,
            kind=Customer.Kind.COMPANY if is_company else Customer.Kind.PERSON,
            region=rng.choice(REGIONS),
            industry=rng.choice(INDUSTRIES) if is_company else "",
            mobile=mobile,
            serving_team=teams[rng.choice(SERVICE_TEAMS)],
            owner=staff["sales"] if rng.random() < 0.2 else None,
            created_by=staff["agent"],
        )
        people = [
            Contact(
                name=fake.name() if is_company else name,
                title=rng.choice(TITLES) if is_company else "",
                mobile=mobile,
                email=fake.email() if rng.random() < 0.4 else "",
                is_primary=True,
            )
        ]
        if is_company and rng.random() < 0.3:
            people.append(
                Contact(name=fake.name(), title=rng.choice(TITLES), mobile=demo_mobile(rng))
            )
        customers.append(customer)
        contacts.append(people)
    return customers, contacts


def _insert(customers: list[Customer], contacts: list[list[Contact]]) -> None:
    with transaction.atomic():
        Customer.objects.bulk_create(customers, batch_size=1000)
        rows = []
        for customer, people in zip(customers, contacts, strict=True):
            for contact in people:
                contact.customer = customer
                rows.append(contact)
        Contact.objects.bulk_create(rows, batch_size=1000)


def seed(ctx: SeedContext) -> None:
    if ctx.size == "demo":
        if Customer.objects.exists():
            ctx.out("  customers exist; demo customers not added again")
            return
        customers, contacts = _customers(ctx, DEMO_COUNT, 0)
        _insert(customers, contacts)
        # Spread the archive over the last two years so lists and charts look lived-in.
        now = timezone.now()
        for customer in customers:
            customer.created_at = now - timedelta(
                days=ctx.rng.randrange(730), minutes=ctx.rng.randrange(1440)
            )
        Customer.objects.bulk_update(customers, ["created_at"], batch_size=1000)
        ctx.out(f"  {DEMO_COUNT} customers")
        return
    done = 0
    while done < LARGE_COUNT:
        count = min(BATCH, LARGE_COUNT - done)
        customers, contacts = _customers(ctx, count, done)
        _insert(customers, contacts)
        done += count
    ctx.out(f"  {LARGE_COUNT} customers (large)")
