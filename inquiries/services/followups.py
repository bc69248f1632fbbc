"""Follow-up calls after resolution (being written). ``status_changed`` is called by every
inquiry status move, in its transaction. Do not import ``.work`` at module level (it imports
this module)."""

from __future__ import annotations


def status_changed(inquiry, actor, *, old: str, new: str) -> None:
    """Schedule a follow-up call when an inquiry is resolved; cancel an open one when it reopens."""
