"""The job the scheduling bench runs through a real worker (loaded there through
FD_JOB_MODULES=bench.scheduling_jobs; see bench/run_scheduling.py).

``bench.touch`` does what a staff reminder does in the database: re-reads what it is about
(the staff member), and writes one in-app notification for them (``notifications.notify``:
one INSERT, a repeat is no row). Its mail is left out: the bench measures the engine."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from fulfillment import scheduling
from fulfillment.models import Job
from fulfillment.notifications import notify

KIND = "bench.touch"


@scheduling.handler(KIND, max_attempts=3)
def touch(job: Job) -> None:
    user = get_user_model().objects.filter(pk=job.payload.get("user"), is_active=True).first()
    if user is None:
        return  # nothing to do is success
    notify(recipients=[user], key=f"bench-touch:{job.pk}", title=f"Bench reminder {job.ref}", url="/notifications/")
