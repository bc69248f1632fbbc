"""The inquiries app's scheduled-job handlers (``fulfillment.scheduling``), registered on import:

- ``followups``: follow-up calls after resolution (due, retried, missed);
- ``reminders``: callback reminders, expedite reminders, orders at risk, customer updates,
  service-target warnings.
"""

from . import followups, reminders  # noqa: F401
