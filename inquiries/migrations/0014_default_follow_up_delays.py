"""Follow-up calls out of the box: a day after resolution for everything, four hours for urgent
inquiries and complaints, none for account changes (nothing to follow up); the scheduled-work
settings row with its defaults. Both are edited in the admin."""

from django.db import migrations

#: (category, priority, delay in minutes, enabled); "" / None: any.
DELAYS = [
    ("", None, 24 * 60, True),
    ("", 4, 4 * 60, True),
    ("complaint", None, 4 * 60, True),
    ("account_change", None, 24 * 60, False),
]


def create(apps, schema_editor):
    FollowUpDelay = apps.get_model("inquiries", "FollowUpDelay")
    SchedulePolicy = apps.get_model("inquiries", "SchedulePolicy")
    for category, priority, minutes, enabled in DELAYS:
        FollowUpDelay.objects.get_or_create(
            category=category, priority=priority, defaults={"delay_minutes": minutes, "enabled": enabled}
        )
    SchedulePolicy.objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0013_scheduled_work")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
