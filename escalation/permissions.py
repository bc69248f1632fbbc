"""Who may move inquiries on the ladder. Checked by the services, so browser, admin and API
behave alike. Working an inquiry at all needs its tier or above (``require_workable``)."""

from fulfillment.permissions import Rule
from fulfillment.tiers import Tier

VIEW = Rule("escalation.view", api_scope="read")
#: Send an inquiry up: any staff member working it; API clients are nobody on the ladder.
ESCALATE = Rule("escalation.escalate", api_scope=None)
#: Take over, return with coaching, reassign, de-escalate: the tiers that review.
REVIEW = Rule("escalation.review", min_tier=Tier.SENIOR_REP, api_scope=None)
#: Automatic-escalation rules and authority limits (the admin).
CONFIGURE = Rule("escalation.configure", min_tier=Tier.SUPERVISOR, api_scope=None)
