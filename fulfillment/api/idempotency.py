"""``Idempotency-Key`` on POST: a retry returns the first response and changes nothing.

The record is inserted in the same transaction as the work it guards. A second request with
the same key waits on the unique index until the first commits, then replays its response;
if the first failed, nothing was stored and the retry runs afresh. The same key with a
different body is refused with 422. Records are kept for FD_IDEMPOTENCY_HOURS (≥ 24).
"""

from __future__ import annotations

import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from fulfillment.models import ApiClient, IdempotencyRecord

from .errors import CONTENT_TYPE, problem

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _owner(request) -> str:
    if isinstance(request.auth, ApiClient):
        return f"client:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def run_idempotent(request, handler) -> Response:
    """Run ``handler()`` (which returns a Response) at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        with transaction.atomic():
            return handler()
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        return Response(
            problem(400, "invalid_idempotency_key", _("Idempotency-Key must be 1 to 255 characters.")),
            status=400,
            content_type=CONTENT_TYPE,
        )
    owner, fingerprint = _owner(request), _fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(owner=owner, key=key, fingerprint=fingerprint, status_code=0)
        except IntegrityError:
            record = IdempotencyRecord.objects.get(owner=owner, key=key)
            if record.fingerprint != fingerprint:
                return Response(
                    problem(422, "idempotency_key_reused", _("This Idempotency-Key was used for a different request.")),
                    status=422,
                    content_type=CONTENT_TYPE,
                )
            body = json.loads(record.response_body) if record.response_body is not None else None
            response = Response(body, status=record.status_code, headers=record.response_headers)
            response[REPLAY_HEADER] = "true"
            return response
        response = handler()
        record.status_code = response.status_code
        record.response_body = JSONRenderer().render(response.data).decode() if response.data is not None else None
        record.response_headers = {name: response[name] for name in ("Location", "ETag") if response.has_header(name)}
        record.save(update_fields=["status_code", "response_body", "response_headers"])
        return response
