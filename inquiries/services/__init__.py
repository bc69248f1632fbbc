"""Every change to inquiries. One function per business action.

Each one: open a transaction → lock the inquiry → check the actor's permission, tier and the
transition table → write → record the timeline event. A broken rule raises a domain error
from ``fulfillment.errors``; nothing is written then. Split by subject:

- ``intake``: inquiry_create, message_receive, call_log, phone_intake, callbacks
- ``work``: replies and notes, status, details, claim and assign, orders, hand-offs, presence
- ``remedies``: remedy_propose, remedy_decide, remedy_approve, remedy_deny (and the one
  authority rule, ``may_grant``, over the ``AuthorityLimit`` table)
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
from .remedies import (
    approval_tier,
    check_authority,
    may_grant,
    offered_kinds,
    remedy_approve,
    remedy_decide,
    remedy_deny,
    remedy_propose,
)
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
    "approval_tier",
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
    "may_grant",
    "message_receive",
    "note_add",
    "offered_kinds",
    "phone_intake",
    "plan_step_add",
    "plan_step_set_done",
    "presence_leave",
    "presence_others",
    "presence_ping",
    "remedy_approve",
    "remedy_decide",
    "remedy_deny",
    "remedy_propose",
    "reply_send",
    "unlink_order",
]
