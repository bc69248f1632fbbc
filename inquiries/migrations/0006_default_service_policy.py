"""A fresh desk has one calendar (Monday to Friday, 09:00–17:00 in the desk's time zone) and one
default policy, so every inquiry has targets from the first day. Both are edited in the admin."""

import datetime as dt

from django.conf import settings
from django.db import migrations

#: Business minutes per priority (4 urgent … 1 low): first response, next reply, resolution.
DEFAULT_TARGETS = {
    4: (60, 60, 480),
    3: (240, 240, 1440),
    2: (480, 480, 2400),
    1: (960, 960, 4800),
}


def create(apps, schema_editor):
    Calendar = apps.get_model("inquiries", "BusinessCalendar")
    Hours = apps.get_model("inquiries", "OpeningHours")
    Policy = apps.get_model("inquiries", "ServicePolicy")
    Target = apps.get_model("inquiries", "PolicyTarget")
    if Policy.objects.filter(is_default=True).exists():
        return
    calendar, _ = Calendar.objects.get_or_create(
        name="Standard hours", defaults={"team": "Customer fulfillment", "time_zone": settings.TIME_ZONE}
    )
    if not Hours.objects.filter(calendar=calendar).exists():
        Hours.objects.bulk_create(
            Hours(calendar=calendar, weekday=day, opens=dt.time(9), closes=dt.time(17)) for day in range(5)
        )
    policy = Policy.objects.create(
        name="Standard", calendar=calendar, is_default=True, description="Targets for every inquiry no rule picks."
    )
    Target.objects.bulk_create(
        Target(
            policy=policy,
            priority=p,
            channel="",
            first_response_minutes=fr,
            next_reply_minutes=nr,
            resolution_minutes=res,
        )
        for p, (fr, nr, res) in DEFAULT_TARGETS.items()
    )


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0005_service_targets")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
