"""Recompute service-target deadlines now: the waiting jobs, or every open inquiry."""

import time

from django.core.management.base import BaseCommand, CommandError

from fulfillment.actors import Actor
from inquiries.models import RecomputeState, TargetRecompute
from inquiries.services.targets import BATCH_SIZE, recompute_claim, recompute_request, recompute_run


class Command(BaseCommand):
    help = (
        "Run the deadline recomputes that are waiting (a worker normally does this after an admin edit), "
        "or with --all recompute every open inquiry now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Recompute every open inquiry now.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="Inquiries per transaction.")

    def handle(self, *args, **options):
        batch_size = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["all"]:
            job = recompute_request(
                actor=Actor.system("recompute_targets"), reason="manage.py recompute_targets --all", enqueue=False
            )
            job_ids = [job.pk] if recompute_claim(job.pk) else []
        else:
            job_ids = []
            while (job_id := recompute_claim()) is not None:
                job_ids.append(job_id)
                self._run(job_id, batch_size)
            if not job_ids:
                self.stdout.write("No recompute is waiting.")
            return
        for job_id in job_ids:
            self._run(job_id, batch_size)

    def _run(self, job_id: int, batch_size: int) -> None:
        started = time.monotonic()
        try:
            job = recompute_run(job_id, batch_size=batch_size)
        except Exception as exc:
            failed = TargetRecompute.objects.get(pk=job_id)
            raise CommandError(f"Recompute {job_id} failed after {failed.done:,} inquiries: {exc}") from exc
        seconds = time.monotonic() - started
        if job.state != RecomputeState.DONE:
            raise CommandError(f"Recompute {job_id} stopped in state {job.state}.")
        self.stdout.write(
            self.style.SUCCESS(f"{job.reason}: {job.done:,} open inquiries recomputed in {seconds:.1f} s.")
        )
