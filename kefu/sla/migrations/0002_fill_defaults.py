"""Defaults of domain.md §5 and §4.2: SLA policies P1–P4 (normal = P3, low = P4 with P3's
targets doubled), the company's business hours 09:00–12:00 and 13:00–18:00, and the complaint
closing deadlines 5/10/15 working days. Managers edit them in 系统管理 afterwards."""

from datetime import timedelta

from django.db import migrations

POLICIES = (
    # name, priority, response, resolution, business hours
    ("P1 紧急（7×24）", "urgent", timedelta(minutes=30), timedelta(hours=4), False),
    ("P2 高", "high", timedelta(hours=2), timedelta(hours=8), True),
    ("P3 普通（3个工作日）", "normal", timedelta(hours=4), timedelta(hours=24), True),
    ("P4 低（6个工作日）", "low", timedelta(hours=8), timedelta(hours=48), True),
)
DEADLINES = (("general", 5), ("serious", 10), ("major", 15))


def fill(apps, schema_editor):
    SlaPolicy = apps.get_model("sla", "SlaPolicy")
    BusinessHours = apps.get_model("sla", "BusinessHours")
    ComplaintDeadline = apps.get_model("sla", "ComplaintDeadline")
    if not SlaPolicy.objects.exists():
        for name, priority, response, resolution, business_hours in POLICIES:
            SlaPolicy.objects.create(
                name=name,
                priority=priority,
                response_target=response,
                resolution_target=resolution,
                business_hours=business_hours,
            )
    if not BusinessHours.objects.filter(team__isnull=True).exists():
        BusinessHours.objects.create(
            team=None, intervals=[["09:00", "12:00"], ["13:00", "18:00"]], follow_calendar=True
        )
    for level, days in DEADLINES:
        ComplaintDeadline.objects.get_or_create(level=level, defaults={"close_workdays": days})


def unfill(apps, schema_editor):
    apps.get_model("sla", "SlaPolicy").objects.filter(
        name__in=[name for name, *_rest in POLICIES], code="", ticket_type="", tier=""
    ).delete()
    apps.get_model("sla", "BusinessHours").objects.filter(team__isnull=True).delete()
    apps.get_model("sla", "ComplaintDeadline").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(fill, unfill)]
