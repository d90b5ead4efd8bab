"""Demo customers: ~500 for the demo company with a full archive (code, credit code, tags,
contacts by role, addresses, installed products, marketing consent), and 100,000 more for
benchmarks (--size large) with codes and a few cheap extras.

Each demo customer also gets an order profile (``ctx.shared["order_profiles"]``: stable,
rising, falling, at_risk, churned, new, won_back, spike or prospect) that the orders seeder
turns into 24 months of orders; the archive fields (lifecycle stage, cooperation date,
created_at) are chosen to agree with it.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kefu.core.seeding import SeedContext, demo_mobile, fast_insert
from kefu.customers.identifiers import ric_check_char, uscc_check_char
from kefu.customers.models import Address, Asset, Contact, Customer, Tag
from kefu.customers.search import search_index_customers

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
# Administrative division codes (GB/T 2260) of a district in each region, for credit codes and
# ID numbers.
DIVISIONS = {
    "上海市": ("310104", "310105", "310115", "310112"),
    "北京市": ("110105", "110108", "110106", "110114"),
    "广东省广州市": ("440106", "440104", "440111", "440113"),
    "广东省深圳市": ("440304", "440305", "440306", "440307"),
    "浙江省杭州市": ("330106", "330108", "330110", "330102"),
    "浙江省宁波市": ("330203", "330212", "330206", "330211"),
    "江苏省南京市": ("320104", "320105", "320106", "320115"),
    "江苏省苏州市": ("320505", "320506", "320507", "320508"),
    "四川省成都市": ("510104", "510105", "510107", "510116"),
    "湖北省武汉市": ("420102", "420103", "420106", "420111"),
    "山东省济南市": ("370102", "370103", "370104", "370112"),
    "山东省青岛市": ("370202", "370203", "370211", "370212"),
    "福建省厦门市": ("350203", "350205", "350206", "350211"),
    "河南省郑州市": ("410102", "410103", "410105", "410122"),
    "湖南省长沙市": ("430102", "430103", "430104", "430111"),
    "陕西省西安市": ("610102", "610103", "610104", "610113"),
    "天津市": ("120101", "120103", "120104", "120116"),
    "重庆市": ("500103", "500105", "500106", "500112"),
    "安徽省合肥市": ("340102", "340103", "340104", "340111"),
    "辽宁省沈阳市": ("210102", "210103", "210104", "210106"),
}
DISTRICTS = {
    "上海市": ("黄浦区", "徐汇区", "浦东新区", "闵行区"),
    "北京市": ("朝阳区", "海淀区", "丰台区", "昌平区"),
}
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
SOURCES = (
    "老客户介绍",
    "展会",
    "官网咨询",
    "电话营销",
    "经销商推荐",
    "招投标",
    "线下门店",
    "400热线",
)
PERSON_SOURCES = ("线下门店", "官网咨询", "400热线", "电商平台", "老客户介绍")
TAGS = (
    "经销商",
    "终端用户",
    "重点客户",
    "政府采购",
    "连锁门店",
    "工程项目",
    "出口业务",
    "价格敏感",
)
# Contact roles of a company, with the titles that go with each.
ROLE_TITLES = {
    Contact.Role.DECISION: ("总经理", "董事长", "副总经理", "厂长"),
    Contact.Role.PURCHASING: ("采购经理", "采购专员", "供应链主管"),
    Contact.Role.FINANCE: ("财务经理", "会计", "出纳"),
    Contact.Role.TECHNICAL: ("设备主管", "技术工程师", "运维主管", "工程部经理"),
}
STREET_SUFFIXES = ("路", "大道", "街")
BUILDINGS = ("国际大厦", "科技园", "商务中心", "产业园", "广场", "工业区")
# Installed products: line, model, serial prefix, warranty years.
ASSET_MODELS = (
    ("空调", "KFR-35GW/BP3 挂式空调", "AC", 3),
    ("空调", "KFR-72LW/BP2 柜式空调", "AC", 3),
    ("空调", "MDV-280W 多联机中央空调", "VRF", 2),
    ("空调", "LSQWRF-65M 风冷模块机组", "CH", 2),
    ("净水器", "RO-600G 家用净水器", "WP", 1),
    ("净水器", "RO-2000G 商用净水器", "WPC", 2),
    ("净水器", "UF-1000 中央净水机", "WPU", 2),
    ("工业设备", "LSJ-20 工业冷水机", "IC", 2),
    ("工业设备", "SA-37A 螺杆空压机", "AP", 2),
    ("工业设备", "CT-100 冷却塔", "CT", 1),
)
CONSENT_CHANNELS = (
    ("微信公众号", "公众号授权记录 WX"),
    ("官网表单", "表单提交编号 F"),
    ("纸质登记表", "登记表扫描件 P"),
    ("电话录音", "通话录音 REC"),
)
PAYMENT_DAYS = (30, 30, 30, 45, 60, 60, 90, 0)  # 0 = cash on order (现款现货)
CAPITALS = (500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000, 50_000_000)

# How many demo customers get each order profile (the rest are "stable"); see the orders seeder.
PROFILE_COUNTS = {
    "spike": 1,
    "new": 12,
    "won_back": 3,
    "prospect": 20,
    "churned": 35,
    "at_risk": 25,
    "rising": 40,
    "falling": 40,
}
COMPANY_ONLY_PROFILES = ("spike", "rising", "falling", "won_back")

DEMO_COUNT = 500
LARGE_COUNT = 100_000
BATCH = 5_000


def month_window(today: date) -> tuple[date, date]:
    """The 24 complete months before ``today``'s month: (first day, last day)."""
    end = today.replace(day=1) - timedelta(days=1)
    year, month = end.year, end.month - 23
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1), end


def customer_code(number: int) -> str:
    return f"C{number:06d}"


def next_code_number() -> int:
    """1 + the highest seeded-style code (C000123) present, so a second large seed adds on."""
    top = Customer.objects.filter(code__regex=r"^C[0-9]{6}$").aggregate(top=Max("code"))["top"]
    return int(top[1:]) + 1 if top else 1


def make_uscc(rng: random.Random, division: str) -> str:
    """A well-formed 统一社会信用代码: 91 (enterprise registered with SAMR), the division, a
    9-character organisation code with its GB 11714 check character, then the GB 32100-2015
    check character."""
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    org_total = sum(
        int(char, 36) * weight for char, weight in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    org_check = (11 - org_total % 11) % 11
    org_code = body + ("X" if org_check == 10 else str(org_check))
    first17 = "91" + division + org_code
    return first17 + uscc_check_char(first17)


def make_id_number(rng: random.Random, division: str) -> str:
    birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    first17 = f"{division}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + ric_check_char(first17)


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
        region = rng.choice(REGIONS)
        customer = Customer(
            name=name,
            kind=Customer.Kind.COMPANY if is_company else Customer.Kind.PERSON,
            region=region,
            industry=rng.choice(INDUSTRIES) if is_company else "",
            mobile=mobile,
            serving_team=teams[rng.choice(SERVICE_TEAMS)],
            owner=staff["sales"] if rng.random() < 0.2 else None,
            created_by=staff["agent"],
            source=rng.choice(SOURCES if is_company else PERSON_SOURCES),
            payment_days=rng.choice(PAYMENT_DAYS) if is_company else 0,
        )
        people = [
            Contact(
                name=fake.name() if is_company else name,
                title=rng.choice(TITLES) if is_company else "",
                role=Contact.Role.PURCHASING if is_company else Contact.Role.USER,
                mobile=mobile,
                email=fake.email() if rng.random() < 0.4 else "",
                is_primary=True,
            )
        ]
        if is_company and rng.random() < 0.3:
            people.append(
                Contact(
                    name=fake.name(),
                    title=rng.choice(TITLES),
                    role=Contact.Role.OTHER,
                    mobile=demo_mobile(rng),
                )
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


# ---------------------------------------------------------------------------------------------
# demo: the full archive


def _assign_profiles(rng: random.Random, customers: list[Customer]) -> dict[int, str]:
    companies = [c.pk for c in customers if c.kind == Customer.Kind.COMPANY]
    everyone = [c.pk for c in customers]
    rng.shuffle(companies)
    rng.shuffle(everyone)
    profiles: dict[int, str] = {}
    for profile, count in PROFILE_COUNTS.items():
        pool = companies if profile in COMPANY_ONLY_PROFILES else everyone
        chosen = [pk for pk in pool if pk not in profiles][:count]
        for pk in chosen:
            profiles[pk] = profile
    for pk in everyone:
        profiles.setdefault(pk, "stable")
    return profiles


def _archive_fields(
    ctx: SeedContext, customers: list[Customer], profiles: dict[int, str], today: date
) -> None:
    """Stage, cooperation date, credit code / ID number, finance factors, consent, created_at."""
    rng = ctx.rng
    start, end = month_window(today)
    now = timezone.now()
    for number, customer in enumerate(customers, start=1):
        profile = profiles[customer.pk]
        division = rng.choice(DIVISIONS[customer.region])
        customer.code = customer_code(number)
        is_company = customer.kind == Customer.Kind.COMPANY
        if is_company:
            customer.uscc = make_uscc(rng, division)
        elif rng.random() < 0.3:
            customer.id_number = make_id_number(rng, division)
        customer.lifecycle_stage = {
            "prospect": Customer.Stage.PROSPECT,
            "churned": rng.choice((Customer.Stage.DORMANT, Customer.Stage.ENDED)),
        }.get(profile, Customer.Stage.ACTIVE)
        # When the sales relationship began: long-standing, inside the window, or this month.
        created = now - timedelta(days=rng.randrange(730), minutes=rng.randrange(1440))
        if profile == "new":
            first = end.replace(day=1) + timedelta(days=rng.randrange(end.day))
            customer.cooperation_since = first
            created = datetime.combine(first, datetime.min.time(), tzinfo=now.tzinfo) - timedelta(
                days=rng.randrange(10)
            )
        elif profile == "prospect":
            customer.cooperation_since = None
        elif rng.random() < 0.55 or profile in ("spike", "won_back"):
            customer.cooperation_since = start - timedelta(days=rng.randrange(30, 365 * 9))
        else:
            customer.cooperation_since = start + timedelta(days=rng.randrange(0, 540))
        customer.created_at = created
        if is_company:
            if rng.random() < 0.6:
                customer.registered_capital = Decimal(rng.choice(CAPITALS))
            if rng.random() < 0.45:
                customer.annual_turnover = Decimal(rng.randrange(2, 400) * 500_000)
            if rng.random() < 0.4:
                customer.finance_score = rng.randrange(4, 16)
            roll = rng.random()
            customer.legal_record = (
                Customer.LegalRecord.LAWSUIT
                if roll < 0.02
                else Customer.LegalRecord.MINOR
                if roll < 0.07
                else Customer.LegalRecord.CLEAN
                if roll < 0.55
                else Customer.LegalRecord.UNKNOWN
            )
        if rng.random() < 0.35:
            channel, evidence = rng.choice(CONSENT_CHANNELS)
            customer.marketing_consent = True
            customer.marketing_consent_at = created + timedelta(days=rng.randrange(1, 30))
            customer.marketing_consent_channel = channel
            customer.marketing_consent_evidence = f"{evidence}{rng.randrange(10**7):07d}"
            if rng.random() < 0.12:
                customer.marketing_opt_out = True
                customer.marketing_opt_out_at = customer.marketing_consent_at + timedelta(
                    days=rng.randrange(30, 300)
                )
        if customer.marketing_consent_at and customer.marketing_consent_at > now:
            customer.marketing_consent_at = now
        if customer.marketing_opt_out_at and customer.marketing_opt_out_at > now:
            customer.marketing_opt_out_at = now


def _street(ctx: SeedContext, region: str) -> tuple[str, str]:
    rng, fake = ctx.rng, ctx.fake
    district = rng.choice(DISTRICTS.get(region, ("高新区", "经开区", "中心城区", "新区")))
    road = f"{fake.last_name()}{rng.choice(('华', '兴', '安', '平', '和', '宁'))}"
    return f"{region}{district}", f"{road}{rng.choice(STREET_SUFFIXES)}{rng.randrange(1, 999)}号"


def _extras(ctx: SeedContext, customers: list[Customer], today: date) -> dict[str, int]:
    """Tags, more contacts by role, addresses and installed products of the demo customers."""
    rng, fake = ctx.rng, ctx.fake
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    tag_links: list[object] = []
    contacts: list[Contact] = []
    addresses: list[tuple[Address, list[Asset]]] = []
    serial = 0
    for customer in customers:
        is_company = customer.kind == Customer.Kind.COMPANY
        # Tags: dealers and end users among companies, key accounts and public procurement.
        names: set[str] = set()
        if is_company:
            names.add("经销商" if rng.random() < 0.3 else "终端用户")
            for name in ("重点客户", "政府采购", "连锁门店", "工程项目", "出口业务"):
                if rng.random() < 0.08:
                    names.add(name)
        elif rng.random() < 0.2:
            names.add("价格敏感")
        tag_links += [
            Customer.tags.through(customer_id=customer.pk, tag_id=tags[name].pk)
            for name in sorted(names)
        ]
        # Contacts: the primary one exists; a company gets two to four with distinct roles.
        if is_company:
            roles = [r for r in ROLE_TITLES if r != Contact.Role.PURCHASING]
            rng.shuffle(roles)
            for role in roles[: rng.randrange(1, 4)]:
                contacts.append(
                    Contact(
                        customer=customer,
                        name=fake.name(),
                        title=rng.choice(ROLE_TITLES[role]),
                        role=role,
                        mobile=demo_mobile(rng) if rng.random() < 0.85 else "",
                        email=fake.company_email() if rng.random() < 0.7 else "",
                    )
                )
        # Addresses: office (+ shipping) for companies, home for persons; sites carry assets.
        region, detail = _street(ctx, customer.region)
        if is_company:
            building = f"{rng.choice(BUILDINGS)}{rng.randrange(1, 30)}楼"
            office = Address(
                customer=customer,
                kind=Address.Kind.OFFICE,
                region=region,
                detail=detail + building,
                is_default=True,
            )
            addresses.append((office, []))
            if rng.random() < 0.6:
                ship_region, ship_detail = _street(ctx, customer.region)
                addresses.append(
                    (
                        Address(
                            customer=customer,
                            kind=Address.Kind.SHIPPING,
                            region=ship_region,
                            detail=f"{ship_detail}仓库",
                        ),
                        [],
                    )
                )
        else:
            home = Address(
                customer=customer,
                kind=Address.Kind.SITE,
                region=region,
                detail=f"{detail}{rng.randrange(1, 30)}栋{rng.randrange(1, 3000)}室",
                is_default=True,
            )
            addresses.append((home, []))
        # Installed products: a household unit or two for persons, up to a plant for companies.
        count = rng.choice((0, 1, 1, 2)) if not is_company else rng.choice((0, 1, 2, 3, 4, 6, 8))
        if count:
            if is_company:
                site_region, site_detail = _street(ctx, customer.region)
                site = Address(
                    customer=customer,
                    kind=Address.Kind.SITE,
                    region=site_region,
                    detail=f"{site_detail}{rng.choice(('厂区', '门店', '机房', '办公楼'))}",
                )
                addresses.append((site, []))
            assets = addresses[-1][1]
            choices = ASSET_MODELS[:5] if not is_company else ASSET_MODELS
            for _ in range(count):
                _line, model, prefix, years = rng.choice(choices)
                purchased = today - timedelta(days=rng.randrange(30, 365 * 6))
                serial += 1
                assets.append(
                    Asset(
                        customer=customer,
                        product_model=model,
                        serial_number=f"{prefix}{purchased:%y%m}{rng.randrange(10**4):04d}{serial:05d}",
                        purchase_date=purchased,
                        warranty_end=purchased.replace(year=purchased.year + years)
                        if not (purchased.month == 2 and purchased.day == 29)
                        else purchased + timedelta(days=365 * years),
                        note="延保" if rng.random() < 0.05 else "",
                    )
                )
    Customer.tags.through.objects.bulk_create(tag_links, batch_size=1000)
    Contact.objects.bulk_create(contacts, batch_size=1000)
    Address.objects.bulk_create([address for address, _assets in addresses], batch_size=1000)
    assets = []
    for address, items in addresses:
        for asset in items:
            asset.address = address
            assets.append(asset)
    Asset.objects.bulk_create(assets, batch_size=1000)
    return {
        "tags": len(tag_links),
        "contacts": len(contacts),
        "addresses": len(addresses),
        "assets": len(assets),
    }


def _seed_demo(ctx: SeedContext) -> None:
    customers, contacts = _customers(ctx, DEMO_COUNT, 0)
    today = timezone.localdate()
    with transaction.atomic():
        _insert(customers, contacts)
        profiles = _assign_profiles(ctx.rng, customers)
        _archive_fields(ctx, customers, profiles, today)
        Customer.objects.bulk_update(
            customers,
            [
                "code",
                "uscc",
                "id_number",
                "lifecycle_stage",
                "cooperation_since",
                "created_at",
                "registered_capital",
                "annual_turnover",
                "finance_score",
                "legal_record",
                "marketing_consent",
                "marketing_consent_at",
                "marketing_consent_channel",
                "marketing_consent_evidence",
                "marketing_opt_out",
                "marketing_opt_out_at",
            ],
            batch_size=500,
        )
        counts = _extras(ctx, customers, today)
    search_index_customers([c.pk for c in customers])
    ctx.shared["order_profiles"] = profiles
    ctx.shared["demo_customer_ids"] = [c.pk for c in customers]
    ctx.out(
        f"  {DEMO_COUNT} customers, {counts['contacts'] + DEMO_COUNT} contacts, "
        f"{counts['addresses']} addresses, {counts['assets']} assets"
    )


# ---------------------------------------------------------------------------------------------
# large: volume for the benchmark, cheap extras only


def _large_rows(
    ctx: SeedContext, count: int, start: int, number: int
) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """Customers and their contacts as rows for fast_insert (the ORM's per-value work is most
    of the time at 100,000 customers)."""
    teams = ctx.shared["teams"]
    staff = ctx.shared["staff"]
    rng, fake = ctx.rng, ctx.fake
    customers: list[dict[str, Any]] = []
    contacts: list[list[dict[str, Any]]] = []
    for index in range(start, start + count):
        is_company = rng.random() < 0.7
        name = fake.company() if is_company else fake.name()
        if is_company and index % 7 == 0:
            name = f"{rng.choice(REGIONS)[-3:-1]}{name}"
        mobile = demo_mobile(rng)
        customers.append(
            {
                "code": customer_code(number + index - start),
                "name": name,
                "kind": (Customer.Kind.COMPANY if is_company else Customer.Kind.PERSON).value,
                "region": rng.choice(REGIONS),
                "industry": rng.choice(INDUSTRIES) if is_company else "",
                "mobile": mobile,
                "serving_team_id": teams[rng.choice(SERVICE_TEAMS)].pk,
                "owner_id": staff["sales"].pk if rng.random() < 0.2 else None,
                "created_by_id": staff["agent"].pk,
                "source": rng.choice(SOURCES if is_company else PERSON_SOURCES),
                "payment_days": rng.choice(PAYMENT_DAYS) if is_company else 0,
            }
        )
        people = [
            {
                "name": fake.name() if is_company else name,
                "title": rng.choice(TITLES) if is_company else "",
                "role": (Contact.Role.PURCHASING if is_company else Contact.Role.USER).value,
                "mobile": mobile,
                "email": fake.email() if rng.random() < 0.4 else "",
                "is_primary": True,
            }
        ]
        if is_company and rng.random() < 0.3:
            people.append(
                {
                    "name": fake.name(),
                    "title": rng.choice(TITLES),
                    "role": Contact.Role.OTHER.value,
                    "mobile": demo_mobile(rng),
                    "is_primary": False,
                }
            )
        contacts.append(people)
    return customers, contacts


def _seed_large(ctx: SeedContext) -> None:
    today = timezone.localdate()
    rng = ctx.rng
    number = next_code_number()
    done = 0
    ids: list[int] = []
    assets = 0
    while done < LARGE_COUNT:
        count = min(BATCH, LARGE_COUNT - done)
        customers, contacts = _large_rows(ctx, count, done, number + done)
        with transaction.atomic():
            batch_ids = fast_insert(Customer, customers)
            fast_insert(
                Contact,
                [
                    {**person, "customer_id": pk}
                    for pk, people in zip(batch_ids, contacts, strict=True)
                    for person in people
                ],
            )
            # One installed product for a third of them: serial-number search has volume too.
            rows = []
            for pk in batch_ids:
                if rng.random() < 0.33:
                    _line, model, prefix, years = rng.choice(ASSET_MODELS)
                    purchased = today - timedelta(days=rng.randrange(30, 365 * 6))
                    rows.append(
                        {
                            "customer_id": pk,
                            "product_model": model,
                            "serial_number": f"{prefix}{purchased:%y%m}L{pk:08d}",
                            "purchase_date": purchased.isoformat(),
                            "warranty_end": (purchased + timedelta(days=365 * years)).isoformat(),
                        }
                    )
            fast_insert(Asset, rows)
        assets += len(rows)
        ids += batch_ids
        done += count
    ctx.shared["large_customer_ids"] = ids
    indexed = search_index_customers(None)
    ctx.out(f"  {LARGE_COUNT} customers (large), {assets} assets, {indexed} search index rows")


def seed(ctx: SeedContext) -> None:
    if ctx.size == "demo":
        if Customer.objects.exists():
            ctx.out("  customers exist; demo customers not added again")
            return
        _seed_demo(ctx)
        return
    _seed_large(ctx)
