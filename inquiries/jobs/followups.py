"""Follow-up call jobs (see inquiries.services.followups), one pair per attempt of a call:

- ``inquiries.follow_up_due`` at ``due_at``: the call comes due (calls-due queue) and its
  caller is told, in the app and by email;
- ``inquiries.follow_up_window`` at ``window_ends_at``: a call still not made is missed, and the
  escalation rule "Follow-up call missed" sees it.

Each re-checks the call under a row lock: logged, cancelled, retried (another attempt) or
already moved on means nothing to do, which is success.
"""

from __future__ import annotations

from fulfillment import clock, scheduling
from fulfillment.actors import Actor
from fulfillment.models import Job

from .. import events
from ..enums import FOLLOW_UP_OPEN, EventType, FollowUpState
from ..models import FollowUpCall
from ..services import followups

ACTOR = Actor.system("follow-up calls")


def _call(job: Job, states) -> FollowUpCall | None:
    """The job's call, locked, when it is still in ``states`` at the job's attempt."""
    call = (
        FollowUpCall.objects.select_for_update(of=("self",))
        .select_related("inquiry__customer", "assignee")
        .filter(pk=job.payload.get("call"), state__in=states)
        .first()
    )
    if call is None or call.attempts != job.payload.get("attempt"):
        return None
    return call


@scheduling.handler(followups.DUE_KIND, max_attempts=8)
def follow_up_due(job: Job) -> None:
    call = _call(job, [FollowUpState.SCHEDULED])
    if call is None:
        return
    call.state, call.updated_at = FollowUpState.DUE, clock.now()
    call.save(update_fields=["state", "updated_at"])
    events.follow_up(call.inquiry, ACTOR, EventType.FOLLOW_UP_DUE, call=call)
    followups.tell_caller(call, call.inquiry)


@scheduling.handler(followups.WINDOW_KIND, max_attempts=8)
def follow_up_window(job: Job) -> None:
    call = _call(job, FOLLOW_UP_OPEN)
    now = clock.now()
    if call is None or call.window_ends_at > now:
        return
    call.state, call.updated_at = FollowUpState.MISSED, now
    call.save(update_fields=["state", "updated_at"])
    events.follow_up(
        call.inquiry, ACTOR, EventType.FOLLOW_UP_MISSED, call=call, window_ends_at=call.window_ends_at.isoformat()
    )
