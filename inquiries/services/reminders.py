"""Reminders (being written). ``callback_promised`` is called in the transaction that records a
callback promise."""

from __future__ import annotations


def callback_promised(callback) -> None:
    """Schedule the reminder before the callback is due."""


def sweep(*, now=None) -> int:
    """Create the jobs the clock made due; returns how many."""
    return 0
