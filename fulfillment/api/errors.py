"""One JSON error shape for every API response that is not a success (RFC 9457 style):

    {"type": "/problems/invalid", "title": "Invalid input.", "status": 400,
     "detail": "…", "errors": {"lines.0.quantity": ["…"]}}

409 responses for a refused transition add ``"allowed": [...]``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from fulfillment import errors as domain

CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: _("Invalid input."),
    401: _("Authentication required."),
    403: _("Not allowed."),
    404: _("Not found."),
    405: _("Method not allowed."),
    406: _("Not acceptable."),
    409: _("Conflict."),
    412: _("Precondition failed."),
    413: _("Request body too large."),
    415: _("Unsupported media type."),
    422: _("Unprocessable request."),
    428: _("Precondition required."),
    429: _("Too many requests."),
}


def problem(status_code: int, code: str, detail, *, errors=None, **extra) -> dict:
    body = {
        "type": f"/problems/{code}",
        "title": str(TITLES.get(status_code, _("Error."))),
        "status": status_code,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error dicts/lists → {"lines.0.quantity": ["…"]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            out.update(flatten_errors(value, f"{prefix}.{name}" if prefix and name else (prefix or name)))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return out


def domain_problem(exc: domain.DomainError) -> tuple[int, dict]:
    if isinstance(exc, domain.TransitionNotAllowed):
        return 409, problem(
            409, exc.code, exc.message, current=exc.current, requested=exc.requested, allowed=exc.allowed
        )
    if isinstance(exc, domain.Conflict):
        return 412, problem(412, "stale_version", exc.message)
    if isinstance(exc, domain.PermissionDenied):
        return 403, problem(403, exc.code, exc.message)
    if isinstance(exc, domain.NotFound):
        return 404, problem(404, exc.code, exc.message)
    return 400, problem(400, exc.code, exc.message, errors=exc.field_errors or None)


def exception_handler(exc, context):
    """DRF's exception handler, answering in the one shape."""
    if isinstance(exc, domain.DomainError):
        status_code, body = domain_problem(exc)
        return Response(body, status=status_code, content_type=CONTENT_TYPE)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        body = problem(400, "invalid", _("The request has invalid fields."), errors=flatten_errors(exc.detail))
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else exc
        if isinstance(detail, (dict, list)):
            body = problem(
                response.status_code, code, TITLES.get(response.status_code, ""), errors=flatten_errors(detail)
            )
        else:
            body = problem(response.status_code, code, detail)
    response.data = body
    response.content_type = CONTENT_TYPE
    return response


def json_problem(status_code: int, code: str, detail) -> JsonResponse:
    """For the places outside DRF views (middleware, URL fallbacks)."""
    return JsonResponse(problem(status_code, code, detail), status=status_code, content_type=CONTENT_TYPE)


def not_found(request, exception=None):
    return json_problem(status.HTTP_404_NOT_FOUND, "not_found", _("No such endpoint."))
