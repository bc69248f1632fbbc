"""Who may write the help center. Checked by the services, so every face behaves alike.

Reps write drafts (they know what customers ask); a senior rep or above publishes, takes an
article down, and edits a published one (an edit of a live article goes live at once).
"""

from fulfillment.permissions import Rule
from fulfillment.tiers import Tier

DRAFT = Rule("helpcenter.draft", min_tier=Tier.REP, api_scope=None)
PUBLISH = Rule("helpcenter.publish", min_tier=Tier.SENIOR_REP, api_scope=None)
#: The reports (FAQ candidates, articles whose readers still write in).
REPORTS = Rule("helpcenter.reports", min_tier=Tier.SENIOR_REP, api_scope=None)
