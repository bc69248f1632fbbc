"""Choices for inquiries, and the ONE inquiry transition table."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from fulfillment.tiers import ContactChannel, Specialty

Channel = ContactChannel


class Category(models.TextChoices):
    ORDER_STATUS = "order_status", _("Order status")
    DELIVERY = "delivery", _("Delivery")
    BILLING = "billing", _("Billing")
    TECHNICAL = "technical", _("Technical")
    PRODUCT = "product", _("Product")
    COMPLAINT = "complaint", _("Complaint")
    RETURN = "return", _("Return")
    ACCOUNT_CHANGE = "account_change", _("Account change")
    OTHER = "other", _("Other")


#: The specialty a category usually needs (the escalation issue routes by it).
CATEGORY_SPECIALTY: dict[str, str] = {
    Category.BILLING: Specialty.BILLING,
    Category.TECHNICAL: Specialty.TECHNICAL,
    Category.DELIVERY: Specialty.SHIPPING,
    Category.ORDER_STATUS: Specialty.SHIPPING,
    Category.RETURN: Specialty.RETURNS,
}


class Priority(models.IntegerChoices):
    """Higher value = more urgent; queues sort by deadline, then by this."""

    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class InquiryStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting on customer")
    WAITING_DEPARTMENT = "waiting_department", _("Waiting on department")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


S = InquiryStatus

#: The allowed moves. Services check it, the UI offers only these, the API answers 409 with them.
#: Resolved and closed inquiries go back to OPEN when the customer writes again (or a rep reopens).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.WAITING_CUSTOMER, S.WAITING_DEPARTMENT, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.WAITING_CUSTOMER, S.WAITING_DEPARTMENT, S.RESOLVED, S.CLOSED}),
    S.WAITING_CUSTOMER: frozenset({S.OPEN, S.WAITING_DEPARTMENT, S.RESOLVED, S.CLOSED}),
    S.WAITING_DEPARTMENT: frozenset({S.OPEN, S.WAITING_CUSTOMER, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset({S.OPEN}),
}

#: Statuses in which somebody still owes the customer something.
ACTIVE = (S.NEW, S.OPEN, S.WAITING_CUSTOMER, S.WAITING_DEPARTMENT)
#: Statuses that end the work (a customer reply reopens them).
DONE = (S.RESOLVED, S.CLOSED)


class ServiceState(models.TextChoices):
    """Where an active inquiry stands against its deadlines at a given time
    (docs/service-targets.md, R28). Resolved and closed inquiries have none."""

    BREACHED = "breached", _("Breached")
    AT_RISK = "at_risk", _("At risk")
    ON_TRACK = "on_track", _("On track")
    PAUSED = "paused", _("Paused")


class SlaFilter(models.TextChoices):
    """The queues' and the API's ``sla`` filter: at risk (not yet breached), breached, or either."""

    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    ATTENTION = "attention", _("Needs attention")


def allowed_targets(current: str) -> frozenset[str]:
    return TRANSITIONS.get(current, frozenset())


def can_move(current: str, target: str) -> bool:
    return target in allowed_targets(current)


class MessageKind(models.TextChoices):
    INBOUND = "inbound", _("From the customer")
    OUTBOUND = "outbound", _("To the customer")
    NOTE = "note", _("Internal note")


class CallDirection(models.TextChoices):
    INBOUND = "inbound", _("Incoming call")
    OUTBOUND = "outbound", _("Outgoing call")


class CallOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved on the call")
    INFO_GIVEN = "info_given", _("Information given")
    CALLBACK = "callback", _("Callback promised")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class CallbackState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class FollowUpState(models.TextChoices):
    """A follow-up call after resolution: scheduled → due (in the calls-due queue) → done;
    retried while the customer is not reached; missed when its window passes uncalled."""

    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", _("Due")
    DONE = "done", _("Done")
    UNREACHED = "unreached", _("Customer not reached")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


#: A follow-up that still asks for a call.
FOLLOW_UP_OPEN = (FollowUpState.SCHEDULED, FollowUpState.DUE)


class FollowUpOutcome(models.TextChoices):
    SATISFIED = "satisfied", _("Reached: satisfied")
    PROBLEM_REMAINS = "problem_remains", _("Reached: the problem remains")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    NO_ANSWER = "no_answer", _("No answer")


#: Outcomes that mean "try again later".
FOLLOW_UP_RETRY = (FollowUpOutcome.VOICEMAIL, FollowUpOutcome.NO_ANSWER)


class UpdateMode(models.TextChoices):
    """What the desk does when a customer would otherwise hear nothing."""

    OFF = "off", _("Nothing")
    REMIND = "remind", _("Remind the rep (propose an update)")
    AUTO = "auto", _("Send the update automatically")


class RemedyKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    REPLACEMENT = "replacement", _("Replacement")
    CREDIT = "credit", _("Goodwill credit")
    GIFT = "gift", _("Gift")
    EXTRA_HELP = "extra_help", _("Extra help")
    INFORMATION = "information", _("Information only")


#: Remedies that carry an amount of money.
REMEDY_WITH_AMOUNT = (RemedyKind.REFUND, RemedyKind.CREDIT, RemedyKind.GIFT)
#: Remedies that act on one order.
REMEDY_NEEDS_ORDER = (RemedyKind.REFUND, RemedyKind.REPLACEMENT)

#: Which remedies a category offers. Not every problem warrants a refund.
CATEGORY_REMEDIES: dict[str, tuple[str, ...]] = {
    Category.ORDER_STATUS: (RemedyKind.INFORMATION, RemedyKind.CREDIT, RemedyKind.GIFT),
    Category.DELIVERY: (
        RemedyKind.INFORMATION,
        RemedyKind.REPLACEMENT,
        RemedyKind.REFUND,
        RemedyKind.CREDIT,
        RemedyKind.GIFT,
    ),
    Category.BILLING: (RemedyKind.INFORMATION, RemedyKind.REFUND, RemedyKind.CREDIT),
    Category.TECHNICAL: (RemedyKind.INFORMATION, RemedyKind.EXTRA_HELP, RemedyKind.REPLACEMENT),
    Category.PRODUCT: (
        RemedyKind.INFORMATION,
        RemedyKind.REPLACEMENT,
        RemedyKind.REFUND,
        RemedyKind.EXTRA_HELP,
        RemedyKind.GIFT,
    ),
    Category.COMPLAINT: tuple(RemedyKind.values),
    Category.RETURN: (RemedyKind.INFORMATION, RemedyKind.REFUND, RemedyKind.REPLACEMENT),
    Category.ACCOUNT_CHANGE: (RemedyKind.INFORMATION,),
    Category.OTHER: (RemedyKind.INFORMATION, RemedyKind.CREDIT, RemedyKind.GIFT, RemedyKind.EXTRA_HELP),
}


class RemedyState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    DENIED = "denied", _("Not approved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


R = RemedyState

#: The ONE remedy transition table. A remedy within the proposer's authority is PROPOSED and the
#: customer's answer moves it on; one above it waits for approval (``remedy_approve`` accepts and
#: carries it out, ``remedy_deny`` refuses it); the proposer may withdraw either.
REMEDY_TRANSITIONS: dict[str, frozenset[str]] = {
    R.PROPOSED: frozenset({R.ACCEPTED, R.DECLINED, R.WITHDRAWN}),
    R.PENDING_APPROVAL: frozenset({R.ACCEPTED, R.DENIED, R.WITHDRAWN}),
    R.ACCEPTED: frozenset(),
    R.DECLINED: frozenset(),
    R.DENIED: frozenset(),
    R.WITHDRAWN: frozenset(),
}
#: The moves only an approver makes (from PENDING_APPROVAL); the customer's answer never does.
APPROVAL_MOVES = frozenset({R.ACCEPTED, R.DENIED})


class EventType(models.TextChoices):
    CREATED = "created", _("Inquiry opened")
    MESSAGE_IN = "message_in", _("Customer wrote")
    MESSAGE_OUT = "message_out", _("Reply sent")
    NOTE = "note", _("Internal note")
    CALL = "call", _("Call logged")
    STATUS_CHANGED = "status_changed", _("Status changed")
    FIELDS_CHANGED = "fields_changed", _("Details changed")
    ASSIGNED = "assigned", _("Assigned")
    ORDER_LINKED = "order_linked", _("Order linked")
    ORDER_UNLINKED = "order_unlinked", _("Order unlinked")
    CALLBACK_PROMISED = "callback_promised", _("Callback promised")
    CALLBACK_DONE = "callback_done", _("Callback done")
    REMEDY_PROPOSED = "remedy_proposed", _("Remedy proposed")
    REMEDY_DECIDED = "remedy_decided", _("Remedy decided")
    PLAN_STEP_ADDED = "plan_step_added", _("Plan step added")
    PLAN_STEP_DONE = "plan_step_done", _("Plan step done")
    PLAN_STEP_REOPENED = "plan_step_reopened", _("Plan step reopened")
    HANDOFF = "handoff", _("Handed off to a department")
    CUSTOMER_UPDATED = "customer_updated", _("Customer details changed")
    ATTACHMENT_REFUSED = "attachment_refused", _("Attachment refused")
    DEADLINES_RECOMPUTED = "deadlines_recomputed", _("Deadlines recomputed")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    REMEDY_APPROVED = "remedy_approved", _("Remedy approved")
    REMEDY_DENIED = "remedy_denied", _("Remedy not approved")
    ESCALATED = "escalated", _("Escalated")
    TAKEN_OVER = "taken_over", _("Taken over")
    RETURNED = "returned", _("Returned with coaching")
    REASSIGNED = "reassigned", _("Reassigned to a lower tier")
    DE_ESCALATED = "de_escalated", _("De-escalated")
    POLICY_CHANGED = "policy_changed", _("Service policy changed")
    FOLLOW_UP_SCHEDULED = "follow_up_scheduled", _("Follow-up call scheduled")
    FOLLOW_UP_DUE = "follow_up_due", _("Follow-up call due")
    FOLLOW_UP_LOGGED = "follow_up_logged", _("Follow-up call logged")
    FOLLOW_UP_MISSED = "follow_up_missed", _("Follow-up call missed")
    FOLLOW_UP_CANCELLED = "follow_up_cancelled", _("Follow-up call cancelled")
    CALLBACK_REMINDED = "callback_reminded", _("Callback reminder sent")
    TARGET_WARNING = "target_warning", _("Service target at risk")
    UPDATE_PROPOSED = "update_proposed", _("Customer update proposed")
    UPDATE_SENT = "update_sent", _("Automatic customer update sent")
    STATUS_LINK_ISSUED = "status_link_issued", _("Customer status link issued")
    STATUS_LINK_REVOKED = "status_link_revoked", _("Customer status link revoked")
    SURVEY_SENT = "survey_sent", _("Satisfaction survey sent")
    RATING_RECEIVED = "rating_received", _("Customer rated the resolution")
