"""Replies by email, through Django's email backend, with threading headers.

The reply row is written in the service's transaction; the mail leaves after commit, so a
rolled-back reply is never sent. A failure is kept on the message (``send_error``) and logged.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction

from fulfillment import clock

from ..enums import MessageKind
from ..models import Inquiry, Message

logger = logging.getLogger(__name__)
MAX_REFERENCES = 20

#: Functions (inquiry → text, "" for none) whose text ends every mail to the customer. Apps above
#: this one register theirs at start-up (the customer portal: the status link), so this module
#: never imports them.
FOOTERS: list[Callable[[Inquiry], str]] = []


def register_footer(func: Callable[[Inquiry], str]) -> Callable[[Inquiry], str]:
    if func not in FOOTERS:
        FOOTERS.append(func)
    return func


def with_footers(body: str, inquiry: Inquiry) -> str:
    """``body`` with what the registered footers add for ``inquiry``."""
    extra = [text for text in (footer(inquiry) for footer in FOOTERS) if text]
    return "\n\n".join([body, *extra]) if extra else body


def mail_domain() -> str:
    return settings.FD_MAIL_DOMAIN


def new_message_id(message: Message) -> str:
    return f"<inq{message.inquiry_id}.m{message.pk}.{secrets.token_hex(4)}@{mail_domain()}>"


def thread_ids(message: Message) -> list[str]:
    """Message-IDs of the inquiry's earlier mails, oldest first (for References)."""
    ids = (
        Message.objects.filter(inquiry_id=message.inquiry_id, pk__lt=message.pk)
        .exclude(email_message_id="")
        .order_by("-pk")
        .values_list("email_message_id", flat=True)[:MAX_REFERENCES]
    )
    return list(reversed(list(ids)))


def build(message: Message) -> EmailMessage:
    references = thread_ids(message)
    last_inbound = (
        Message.objects.filter(inquiry_id=message.inquiry_id, kind=MessageKind.INBOUND, pk__lt=message.pk)
        .exclude(email_message_id="")
        .order_by("-pk")
        .values_list("email_message_id", flat=True)
        .first()
    )
    headers = {"Message-ID": message.email_message_id, "Reply-To": settings.FD_SUPPORT_EMAIL}
    if references:
        headers["References"] = " ".join(references)
        headers["In-Reply-To"] = last_inbound or references[-1]
    subject = message.subject
    if references and not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return EmailMessage(
        subject=subject,
        body=with_footers(message.body, message.inquiry),
        from_email=settings.FD_SUPPORT_EMAIL,
        to=[message.to_email],
        headers=headers,
    )


def deliver(message_id: int) -> bool:
    """Send one outbound message if it has not been sent. Safe to call twice."""
    message = Message.objects.filter(pk=message_id, kind=MessageKind.OUTBOUND).first()
    if message is None or message.sent_at is not None or not message.to_email:
        return False
    if not message.email_message_id:
        message.email_message_id = new_message_id(message)
        Message.objects.filter(pk=message.pk).update(email_message_id=message.email_message_id)
    try:
        build(message).send(fail_silently=False)
    except Exception as exc:  # SMTP down, refused recipient…: kept on the message, shown to the rep
        logger.exception("reply %s to inquiry %s could not be sent", message.pk, message.inquiry_id)
        Message.objects.filter(pk=message.pk).update(send_error=f"{type(exc).__name__}: {exc}"[:500])
        return False
    Message.objects.filter(pk=message.pk).update(sent_at=clock.now(), send_error="")
    return True


def deliver_on_commit(message_id: int) -> None:
    transaction.on_commit(partial(deliver, message_id))
