"""Every change to inquiries. One function per business action.

Each one: open a transaction → lock the inquiry → check the actor's permission, tier and the
transition table → write → record the timeline event. A broken rule raises a domain error
from ``fulfillment.errors``; nothing is written then. Split by subject:

- ``intake``: inquiry_create, message_receive, call_log, phone_intake, callbacks
- ``work``: replies and notes, status, details, claim and assign, orders, hand-offs, presence
- ``remedies``: remedy_propose, remedy_decide (and the one authority check)
- ``plans``: plan steps
- ``compose``: templates, greeting and closing in the customer's language
"""

from .intake import (
    call_log,
    callback_complete,
    callback_promise,
    inquiry_create,
    message_receive,
    phone_intake,
)
from .plans import plan_step_add, plan_step_set_done
from .remedies import check_authority, offered_kinds, remedy_decide, remedy_propose
from .work import (
    StaleReply,
    customer_adjust,
    handoff_to_department,
    inquiry_assign,
    inquiry_claim,
    inquiry_set_status,
    inquiry_update,
    link_order,
    note_add,
    presence_leave,
    presence_others,
    presence_ping,
    reply_send,
    unlink_order,
)

__all__ = [
    "StaleReply",
    "call_log",
    "callback_complete",
    "callback_promise",
    "check_authority",
    "customer_adjust",
    "handoff_to_department",
    "inquiry_assign",
    "inquiry_claim",
    "inquiry_create",
    "inquiry_set_status",
    "inquiry_update",
    "link_order",
    "message_receive",
    "note_add",
    "offered_kinds",
    "phone_intake",
    "plan_step_add",
    "plan_step_set_done",
    "presence_leave",
    "presence_others",
    "presence_ping",
    "remedy_decide",
    "remedy_propose",
    "reply_send",
    "unlink_order",
]
