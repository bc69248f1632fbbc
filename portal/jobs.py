"""The survey mail, a scheduled job per inquiry and resolution cycle (scheduled by
``services.survey_schedule_due``; docs/scheduled-work.md for the guarantees)."""

from __future__ import annotations

from fulfillment import scheduling
from fulfillment.actors import Actor
from fulfillment.models import Job
from inquiries import events
from inquiries.enums import DONE, EventType
from inquiries.models import Inquiry

from . import mail, services
from .enums import LinkPurpose
from .models import SatisfactionRating

ACTOR = Actor.system("survey")


@scheduling.handler(services.SURVEY_KIND, max_attempts=6)
def survey_send(job: Job) -> None:
    """Send the survey unless the inquiry was reopened since, was rated already or has no
    address. The link and the timeline event commit with the job; the mail is sent before (a
    failure undoes both and the job is tried again)."""
    cycle = job.payload["cycle"]
    inquiry = (
        Inquiry.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=job.payload["inquiry"])
        .first()
    )
    if inquiry is None or inquiry.status not in DONE or inquiry.reopen_count != cycle or not inquiry.customer.email:
        return
    if SatisfactionRating.objects.filter(inquiry=inquiry, cycle=cycle).exists():
        return
    link, token = services.link_issue(actor=ACTOR, inquiry=inquiry, purpose=LinkPurpose.SURVEY, cycle=cycle)
    events.customer_portal(inquiry, ACTOR, EventType.SURVEY_SENT, cycle=cycle, expires_at=link.expires_at.isoformat())
    mail.survey_message(inquiry, token).send(fail_silently=False)
