"""Recount the search vocabulary now (Celery beat does it nightly). PostgreSQL only."""

import time

from django.core.management.base import BaseCommand
from django.db import connection

from inquiries.services.search_terms import search_terms_refresh


class Command(BaseCommand):
    help = "Recount every word of the inquiries' messages and subjects (the search vocabulary)."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("The search vocabulary is used on PostgreSQL only: nothing to do.")
            return
        started = time.monotonic()
        words = search_terms_refresh()
        self.stdout.write(self.style.SUCCESS(f"{words:,} words counted in {time.monotonic() - started:.1f} s."))
