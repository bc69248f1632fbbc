"""Who may do what with inquiries. Checked by services, so browser and API behave alike.

Staff see every inquiry and work those at or below their tier (``services._common.require_workable``);
API clients need the scope.
Remedy authority (how much a tier may grant) is the ``AuthorityLimit`` table, read by one rule,
``services.remedies.may_grant``.
"""

from fulfillment.permissions import Rule

VIEW = Rule("inquiries.view", api_scope="read")
CREATE = Rule("inquiries.create")
WORK = Rule("inquiries.work")  # reply, note, call, status, fields, link orders, plan
CLAIM = Rule("inquiries.claim", api_scope=None)  # staff only: an API client is nobody's assignee
ASSIGN = Rule("inquiries.assign", min_tier=2)  # hand an inquiry to someone else
REMEDY = Rule("inquiries.remedy", api_scope=None)
#: Answer an approval request (the request's own tier is checked by the service too).
APPROVE = Rule("inquiries.approve", min_tier=2, api_scope=None)
TEMPLATES = Rule("inquiries.templates", min_tier=2)
#: Service-target calendars, policies and rules (the admin), and recomputing deadlines.
CONFIGURE_TARGETS = Rule("inquiries.configure_targets", min_tier=4, api_scope=None)
