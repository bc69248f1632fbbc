"""Customer links and ratings: issue, reuse, resolve and revoke signed links; record a rating;
schedule the satisfaction survey after a resolution (docs/customer-portal.md)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fulfillment import clock, scheduling
from fulfillment.actors import Actor, as_actor
from fulfillment.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from fulfillment.models import Job
from fulfillment.permissions import require
from inquiries import events
from inquiries import permissions as inquiry_perms
from inquiries.enums import DONE, Channel, EventType
from inquiries.models import Inquiry
from inquiries.services import followups, intake

from . import conf
from .enums import LOW_SCORE, SCORES, LinkPurpose
from .models import CustomerLink, SatisfactionRating

SURVEY_KIND = "portal.survey"
#: How far back the survey sweep looks for resolutions (a resolution older than this gets none).
SURVEY_LOOKBACK_DAYS = 3
CUSTOMER = Actor.system("customer portal")


class LinkExpired(DomainError):
    code = "link_expired"
    default_message = gettext_lazy("This link has expired.")


class LinkRevoked(DomainError):
    code = "link_revoked"
    default_message = gettext_lazy("This link is no longer valid.")


# --- tokens ----------------------------------------------------------------------------------


def _token(salt: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"portal-link:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link_token(link: CustomerLink) -> str:
    """The token of a link this server issued (for putting a live link into another mail)."""
    return _token(link.salt)


# --- issuing, reusing, revoking --------------------------------------------------------------


def link_issue(
    *, actor: Actor, inquiry: Inquiry, purpose: str = LinkPurpose.STATUS, cycle: int = 0
) -> tuple[CustomerLink, str]:
    """A new link to ``inquiry`` (and its token, shown once). Staff issue status links from the
    inquiry page; the system issues them for mails and the survey."""
    actor = as_actor(actor)
    require(actor, inquiry_perms.WORK)
    if purpose not in LinkPurpose.values:
        raise InvalidInput(field_errors={"purpose": [_("Choose one of the offered values.")]})
    lifetime = conf.status_link_lifetime() if purpose == LinkPurpose.STATUS else conf.survey_link_lifetime()
    now = clock.now()
    salt = secrets.token_urlsafe(24)
    token = _token(salt)
    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        link = CustomerLink.objects.create(
            inquiry=inquiry,
            purpose=purpose,
            cycle=cycle,
            salt=salt,
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + lifetime,
        )
        if purpose == LinkPurpose.STATUS:
            events.customer_portal(
                inquiry, actor, EventType.STATUS_LINK_ISSUED, link=link.pk, expires_at=link.expires_at.isoformat()
            )
    return link, token


def status_token(*, inquiry: Inquiry) -> str:
    """A status-link token for a mail to the customer: a live link's (one with at least a week
    left), else a new one."""
    now = clock.now()
    live = (
        CustomerLink.objects.filter(
            inquiry_id=inquiry.pk,
            purpose=LinkPurpose.STATUS,
            revoked_at__isnull=True,
            expires_at__gt=now + min(conf.status_link_lifetime() / 4, conf.status_link_lifetime()),
        )
        .order_by("-expires_at")
        .first()
    )
    if live is not None:
        return link_token(live)
    return link_issue(actor=Actor.system("mail"), inquiry=inquiry)[1]


def link_revoke(*, actor: Actor, link: CustomerLink | int) -> CustomerLink:
    """Staff end a link at once (sent to the wrong address, forwarded…). Revoking twice is one."""
    actor = as_actor(actor)
    require(actor, inquiry_perms.WORK)
    pk = link.pk if isinstance(link, CustomerLink) else link
    with transaction.atomic():
        inquiry_id = CustomerLink.objects.filter(pk=pk).values_list("inquiry_id", flat=True).first()
        if inquiry_id is None:
            raise NotFound(_("This link does not exist."))
        inquiry = Inquiry.objects.select_for_update().get(pk=inquiry_id)
        link = CustomerLink.objects.select_for_update().get(pk=pk)
        if link.revoked_at is not None:
            return link
        link.revoked_at, link.revoked_by_name = clock.now(), actor.name[:150]
        link.save(update_fields=["revoked_at", "revoked_by_name"])
        events.customer_portal(inquiry, actor, EventType.STATUS_LINK_REVOKED, link=link.pk, purpose=link.purpose)
    return link


def link_resolve(*, token: str, purpose: str) -> CustomerLink:
    """The live link of ``token`` for ``purpose``, with its inquiry and customer. Found by the
    hash of the token (an indexed equality on a hash: no timing on the token). Unknown → NotFound,
    expired → LinkExpired, revoked → LinkRevoked."""
    if not token or len(token) > 100:
        raise NotFound(_("This link is not valid."))
    wanted = _hash(token)
    link = CustomerLink.objects.select_related("inquiry__customer").filter(token_hash=wanted, purpose=purpose).first()
    if link is None or not hmac.compare_digest(link.token_hash, wanted):
        raise NotFound(_("This link is not valid."))
    if link.revoked_at is not None:
        raise LinkRevoked()
    now = clock.now()
    if link.expires_at <= now:
        raise LinkExpired()
    return link


def link_used(link: CustomerLink) -> None:
    """Remember when the customer last opened the link (at most once a minute)."""
    now = clock.now()
    if link.last_used_at is None or (now - link.last_used_at).total_seconds() >= 60:
        CustomerLink.objects.filter(pk=link.pk).update(last_used_at=now)
        link.last_used_at = now


# --- the customer's reply --------------------------------------------------------------------


def portal_reply(*, link: CustomerLink, body: str):
    """The customer wrote on the status page: a web message on the inquiry, as an email reply
    would be (a resolved or closed inquiry reopens)."""
    inquiry = link.inquiry
    return intake.message_receive(
        actor=CUSTOMER,
        inquiry=inquiry,
        body=body,
        channel=Channel.WEB,
        sender_email=inquiry.customer.email,
    )


# --- the survey ------------------------------------------------------------------------------


def survey_key(inquiry_id: int, cycle: int) -> str:
    return f"portal.survey:{inquiry_id}:{cycle}"


def survey_schedule_due(*, now=None, limit: int = 1000) -> int:
    """The higher app does the looking (ARCHITECTURE.md): schedule a survey mail for each
    inquiry resolved in the last days whose resolution cycle has none yet. Run by beat."""
    now = now or clock.now()
    key = Concat(
        Value("portal.survey:"),
        Cast("pk", CharField()),
        Value(":"),
        Cast("reopen_count", CharField()),
        output_field=CharField(),
    )
    rows = (
        Inquiry.objects.filter(
            status__in=DONE,
            resolved_at__isnull=False,
            resolved_at__gte=now - dt.timedelta(days=SURVEY_LOOKBACK_DAYS),
        )
        .annotate(survey_key=key)
        .exclude(Exists(Job.objects.filter(key=OuterRef("survey_key"))))
        .values_list("pk", "reopen_count", "resolved_at")[:limit]
    )
    count = 0
    for pk, cycle, resolved_at in rows:
        with transaction.atomic():
            scheduling.schedule(
                kind=SURVEY_KIND,
                key=survey_key(pk, cycle),
                due_at=resolved_at + conf.survey_delay(),
                ref=f"inquiry:{pk}",
                payload={"inquiry": pk, "cycle": cycle},
            )
        count += 1
    return count


def rating_record(*, link: CustomerLink, score: int, comment: str = "") -> tuple[SatisfactionRating, bool]:
    """The customer's rating of the link's resolution cycle. The first answer counts: a second
    returns the first with ``False``. A low score (≤ 2) gives the cycle's follow-up call to a
    senior rep, due now."""
    if score not in SCORES:
        raise InvalidInput(field_errors={"score": [_("Choose a score from 1 to 5.")]})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise InvalidInput(field_errors={"comment": [_("Please keep your comment under 2,000 characters.")]})
    if link.purpose != LinkPurpose.SURVEY:
        raise PermissionDenied()
    with transaction.atomic():
        inquiry = Inquiry.objects.select_for_update().get(pk=link.inquiry_id)
        existing = SatisfactionRating.objects.filter(inquiry=inquiry, cycle=link.cycle).first()
        if existing is not None:
            return existing, False
        rating = SatisfactionRating.objects.create(
            inquiry=inquiry, cycle=link.cycle, score=score, comment=comment, created_at=clock.now()
        )
        events.customer_portal(inquiry, CUSTOMER, EventType.RATING_RECEIVED, score=score, cycle=link.cycle)
        if score <= LOW_SCORE:
            followups.follow_up_by_senior(
                actor=CUSTOMER,
                inquiry=inquiry,
                cycle=link.cycle,
                reason=_("The customer rated the resolution %(score)d of 5.") % {"score": score},
            )
    return rating, True
