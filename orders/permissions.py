"""Who may do what with customers and orders. Checked by services.

Refunds need a senior rep for now; the escalation issue replaces that with authority limits.
"""

from fulfillment.permissions import Rule
from fulfillment.tiers import Tier

VIEW = Rule("orders.view", api_scope="read")
CREATE = Rule("orders.create")
CHANGE = Rule("orders.change")
FULFIL = Rule("orders.fulfil")  # confirm, process, pack, ship, deliver, hold, release, return
CANCEL = Rule("orders.cancel")
PAYMENT = Rule("orders.payment")
REFUND = Rule("orders.refund", min_tier=Tier.SENIOR_REP)
EXPEDITE = Rule("orders.expedite")
HANDOFF = Rule("orders.handoff")
NOTE = Rule("orders.note")

CUSTOMER_VIEW = Rule("customers.view", api_scope="read")
CUSTOMER_CHANGE = Rule("customers.change")
