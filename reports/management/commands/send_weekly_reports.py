"""Send last week's report now to whoever is due it and was not told yet (beat does it hourly
from Monday FD_WEEKLY_REPORT_HOUR; see docs/reports.md)."""

from django.core.management.base import BaseCommand

from fulfillment import clock
from reports import weekly_mail
from reports.forms import iso_week


class Command(BaseCommand):
    help = "Tell supervisors, senior reps and specialists last week's headline figures (once per person per week)."

    def handle(self, *args, **options):
        week = weekly_mail.due_week(clock.now())
        if week is None:
            self.stdout.write(
                "Nothing due: the weekly report is off (FD_WEEKLY_REPORT_HOUR=off) "
                "or it is Monday before the sending hour."
            )
            return
        told = weekly_mail.send()
        self.stdout.write(
            self.style.SUCCESS(f"Week {iso_week(week[0])}: {told} told now (those told before are not told again).")
        )
