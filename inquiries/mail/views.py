"""The inbound-mail webhook: a mail provider POSTs the raw RFC 822 message, signed.

``X-Desk-Signature: sha256=<hex HMAC-SHA256 of the raw body with FD_INBOUND_MAIL_SECRET>``.
Off (404) while the secret is empty. 413 over FD_INBOUND_MAIL_MAX_BYTES, 403 on a bad signature,
200 with the inquiry's reference when processed (or ignored as a duplicate), 202 when the mail
was kept but could not be processed (it waits in the admin; the provider need not retry).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fulfillment.api.errors import json_problem

from ..models import InboundMail
from .inbound import mail_ingest

SIGNATURE_HEADER = "X-Desk-Signature"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@csrf_exempt
@require_POST
def inbound_mail(request: HttpRequest) -> JsonResponse:
    secret = settings.FD_INBOUND_MAIL_SECRET
    if not secret:
        return json_problem(404, "not_found", _("The inbound-mail webhook is not enabled."))
    limit = settings.FD_INBOUND_MAIL_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return json_problem(400, "invalid_content_length", _("Content-Length is not a number."))
    too_large = json_problem(
        413, "body_too_large", _("The mail is larger than the limit of %(limit)d bytes.") % {"limit": limit}
    )
    if length > limit:
        return too_large
    raw = request.read(limit + 1)  # not request.body: its own size limit is not ours
    if len(raw) > limit:
        return too_large
    given = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    if not hmac.compare_digest(given.encode(), signature(secret, raw).encode()):
        return json_problem(403, "bad_signature", _("The signature does not match the body."))
    if not raw.strip():
        return json_problem(400, "empty", _("The body is empty; send the raw mail."))
    inbound = mail_ingest(raw, "webhook")
    data = {
        "inbound_mail": inbound.pk,
        "state": inbound.state,
        "inquiry": inbound.inquiry.reference if inbound.inquiry else None,
    }
    if inbound.state == InboundMail.State.FAILED:
        data["detail"] = inbound.error
        return JsonResponse(data, status=202)
    return JsonResponse(data, status=200)
