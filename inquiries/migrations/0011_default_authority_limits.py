"""The authority each tier had before it became configurable (the old ``AUTHORITY`` table):
reps refund up to 100.00 and give up to 50.00, seniors 500.00 / 200.00, specialists
1,000.00 / 500.00, supervisors without limit; every tier may replace and arrange extra help."""

from decimal import Decimal

from django.db import migrations

LIMITS = {
    1: (Decimal("100.00"), Decimal("50.00")),
    2: (Decimal("500.00"), Decimal("200.00")),
    3: (Decimal("1000.00"), Decimal("500.00")),
    4: (None, None),
}


def create(apps, schema_editor):
    AuthorityLimit = apps.get_model("inquiries", "AuthorityLimit")
    for tier, (refund, credit) in LIMITS.items():
        AuthorityLimit.objects.get_or_create(tier=tier, defaults={"max_refund": refund, "max_credit": credit})


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0010_authority_limits_approvals_tier_since")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
