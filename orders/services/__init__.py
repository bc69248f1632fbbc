"""Every change to customers and orders. One function per business action.

Each one: open a transaction → lock the row → check the actor's permission and the
transition table → write → record the timeline event. A broken rule raises a domain error
from ``fulfillment.errors``; nothing is written then. Split by subject:

- ``customers``: customer_create, customer_update, customer_add_external_ref
- ``creation``: order_create, order_update_details, order_replace_lines
- ``status``: confirm, process, pack, ship, deliver, hold, release, cancel, return; shipments
- ``money``: order_record_payment, order_refund
- ``work``: expedite (and its reminders), notes, department hand-offs, the at-risk flag
"""

from ._common import (
    CUSTOMER_FIELDS,
    LINES_EDITABLE,
    MAX_LINES,
    MAX_MONEY,
    MAX_QUANTITY,
    ORDER_DETAIL_FIELDS,
    LineInput,
    _payment_status,
)
from .creation import order_create, order_create_many, order_replace_lines, order_update_details
from .customers import customer_add_external_ref, customer_create, customer_create_many, customer_update
from .money import order_record_payment, order_refund
from .status import (
    order_cancel,
    order_confirm,
    order_deliver,
    order_hold,
    order_mark_returned,
    order_pack,
    order_release,
    order_ship,
    order_start_processing,
    shipment_update_status,
)
from .work import (
    handoff_create,
    handoff_set_state,
    order_add_note,
    order_clear_expedite,
    order_expedite_reminded,
    order_flag_at_risk,
    order_request_expedite,
)

__all__ = [
    "CUSTOMER_FIELDS",
    "LINES_EDITABLE",
    "MAX_LINES",
    "MAX_MONEY",
    "MAX_QUANTITY",
    "ORDER_DETAIL_FIELDS",
    "LineInput",
    "_payment_status",
    "customer_add_external_ref",
    "customer_create",
    "customer_create_many",
    "customer_update",
    "handoff_create",
    "handoff_set_state",
    "order_add_note",
    "order_cancel",
    "order_clear_expedite",
    "order_confirm",
    "order_create",
    "order_create_many",
    "order_deliver",
    "order_expedite_reminded",
    "order_flag_at_risk",
    "order_hold",
    "order_mark_returned",
    "order_pack",
    "order_record_payment",
    "order_refund",
    "order_release",
    "order_replace_lines",
    "order_request_expedite",
    "order_ship",
    "order_start_processing",
    "order_update_details",
    "shipment_update_status",
]
