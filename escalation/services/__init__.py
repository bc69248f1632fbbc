"""Every change on the ladder. One function per business action (see ``ladder`` and ``auto``).

- ``ladder``: escalate, take_over, return_with_coaching, reassign, de_escalate
- ``auto``: apply_rules (automatic escalation), breaches, fire
- approvals are the remedies' own: ``inquiries.services.remedy_approve`` / ``remedy_deny``
"""

from .auto import apply_rules
from .ladder import de_escalate, escalate, reassign, return_with_coaching, staff_at, take_over

__all__ = ["apply_rules", "de_escalate", "escalate", "reassign", "return_with_coaching", "staff_at", "take_over"]
