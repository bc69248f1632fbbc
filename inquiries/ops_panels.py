"""What the operations page (fulfillment.ops) shows of this app: the follow-up calls missed in the
last week, and where a job's ``inquiry:<id>`` / ``order:<id>`` ref links. Registered on import
(``InquiriesConfig.ready``): the kernel never imports the apps above it, so they register here.

Orders' links are registered here too: orders has no app hook of its own, and inquiries may read
orders (the dependency direction)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from fulfillment import ops
from orders.models import Order

from .enums import FollowUpState
from .models import FollowUpCall

MISSED_WINDOW = dt.timedelta(days=7)


@ops.panel
def missed_follow_up_calls(now: dt.datetime) -> ops.PanelFigure:
    missed = FollowUpCall.objects.filter(state=FollowUpState.MISSED, updated_at__gte=now - MISSED_WINDOW).count()
    return ops.PanelFigure(
        title=_("Follow-up calls missed in the last 7 days"),
        value=missed,
        note=_("window passed uncalled"),
    )


@ops.ref_link("inquiry")
def inquiry_links(ids: list[int]) -> dict[int, str]:
    return {pk: reverse("inquiries:detail", args=[pk]) for pk in ids}


@ops.ref_link("order")
def order_links(ids: list[int]) -> dict[int, str]:
    numbers = Order.objects.filter(pk__in=ids).values_list("pk", "number")
    return {pk: reverse("orders:detail", args=[number]) for pk, number in numbers}
