"""Domain errors raised by services. No HTTP here: each face maps them to its own output.

The browser shows the message; the API (next issue) maps them to its one error shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule was broken. ``message`` is safe to show to the user."""

    code = "domain_error"
    default_message = _("The action could not be completed.")

    def __init__(self, message=None, *, field_errors: Mapping[str, list] | None = None):
        self.message = message or self.default_message
        self.field_errors = dict(field_errors or {})
        super().__init__(str(self.message))


class PermissionDenied(DomainError):
    code = "permission_denied"
    default_message = _("You do not have permission to do that.")


class NotFound(DomainError):
    code = "not_found"
    default_message = _("Not found.")


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule (e.g. a refund above what was paid)."""

    code = "invalid"
    default_message = _("The input is not valid.")


class TransitionNotAllowed(DomainError):
    """A state change the transition table does not allow; carries the allowed moves."""

    code = "transition_not_allowed"

    def __init__(
        self, *, current: str, requested: str, allowed: Iterable[str], labels: Mapping[str, str] | None = None
    ):
        self.current = current
        self.requested = requested
        self.allowed = sorted(allowed)
        labels = labels or {}

        def name(code: str) -> str:
            return str(labels.get(code, code))

        message = _("Cannot go from “%(current)s” to “%(requested)s”. Allowed: %(allowed)s.") % {
            "current": name(current),
            "requested": name(requested),
            "allowed": ", ".join(name(code) for code in self.allowed) or _("none"),
        }
        super().__init__(message)


class Conflict(DomainError):
    """The row changed since the caller read it (a stale version)."""

    code = "conflict"
    default_message = _("Someone else changed this in the meantime. Reload and try again.")
