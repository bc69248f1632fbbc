"""Every change on the ladder. One function per business action.

- ``ladder``: escalate, take_over, return_with_coaching, reassign, de_escalate
- ``auto``: apply_rules (automatic escalation), breaches, fire
- ``rules``: set_rules_active (switch automatic-escalation rules on or off)
- approvals are the remedies' own: ``inquiries.services.remedy_approve`` / ``remedy_deny``
"""

from .auto import apply_rules
from .ladder import de_escalate, escalate, reassign, return_with_coaching, staff_at, take_over
from .rules import set_rules_active

__all__ = [
    "apply_rules",
    "de_escalate",
    "escalate",
    "reassign",
    "return_with_coaching",
    "set_rules_active",
    "staff_at",
    "take_over",
]
