"""Words to the customer: response templates with placeholders, and a greeting and closing
in the customer's language."""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext as _

from fulfillment.actors import Actor

from ..models import Inquiry, ResponseTemplate

PLACEHOLDERS = ("first_name", "customer_name", "order_number", "reference", "rep_name")


def first_name(full_name: str) -> str:
    parts = (full_name or "").split()
    return parts[0] if parts else ""


def placeholder_values(inquiry: Inquiry, actor: Actor, *, order_number: str = "") -> dict[str, str]:
    customer = inquiry.customer
    if not order_number:
        first_link = next(iter(inquiry.order_links.all()), None)
        order_number = str(first_link.order) if first_link else ""
    rep = actor.user
    rep_name = (rep.get_full_name() or rep.get_username()) if rep else actor.name
    return {
        "first_name": first_name(customer.name),
        "customer_name": customer.name,
        "order_number": order_number,
        "reference": inquiry.reference,
        "rep_name": rep_name,
    }


#: ``{name}``: a placeholder. Anything else in braces (``{0}``, ``{}``, a stray ``{``) is text.
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_]\w*)\}")


def fill(text: str, values: dict[str, str]) -> str:
    """Fill the known placeholders; unknown ones and unmatched braces stay as typed (a stray
    brace must not keep the other placeholders from being filled)."""
    return _PLACEHOLDER_RE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def greeting(inquiry: Inquiry, values: dict[str, str]) -> str:
    with translation.override(inquiry.customer.preferred_language or "en"):
        if values["first_name"]:
            return _("Dear %(first_name)s,") % values
        return _("Hello,")


def closing(inquiry: Inquiry, values: dict[str, str]) -> str:
    with translation.override(inquiry.customer.preferred_language or "en"):
        return _("Kind regards,\n%(rep_name)s\nCustomer fulfillment team") % values


def compose_reply(
    inquiry: Inquiry, actor: Actor, body: str, *, template: ResponseTemplate | None = None, frame: bool = True
) -> str:
    """The text that goes out: the template (or the rep's words) with placeholders filled,
    framed by a greeting and a closing in the customer's language."""
    values = placeholder_values(inquiry, actor)
    text = fill(body if body.strip() else (template.body if template else ""), values).strip()
    if not frame:
        return text
    return f"{greeting(inquiry, values)}\n\n{text}\n\n{closing(inquiry, values)}"


def template_for(name_or_id, language: str) -> ResponseTemplate | None:
    """A template in the customer's language, falling back to English."""
    queryset = ResponseTemplate.objects.filter(active=True)
    base = queryset.filter(pk=name_or_id) if str(name_or_id).isdigit() else queryset.filter(name=name_or_id)
    chosen = base.first()
    if chosen is None:
        return None
    for lang in (language, "en"):
        match = queryset.filter(name=chosen.name, language=lang).first()
        if match:
            return match
    return chosen
