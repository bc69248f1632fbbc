"""The inquiry page's customer-portal panel (an inclusion tag, so inquiries' Python never imports
this app): the rating of each resolution, the status links, issue and revoke buttons."""

from __future__ import annotations

from django import template

from fulfillment import clock
from fulfillment.actors import as_actor
from fulfillment.permissions import can
from inquiries import permissions as inquiry_perms

from .. import selectors

register = template.Library()


@register.inclusion_tag("portal/_panel.html")
def portal_panel(inquiry, user):
    """Two queries: the ratings and the status links."""
    return {
        "inquiry": inquiry,
        "ratings": list(selectors.ratings_for(inquiry)),
        "links": list(selectors.status_links(inquiry)[:5]),
        "now": clock.now(),
        "may_work": can(as_actor(user), inquiry_perms.WORK),
    }
