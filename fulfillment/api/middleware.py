"""Refuse oversized API bodies before anything reads them (413 in the API's error shape)."""

from django.conf import settings
from django.utils.translation import gettext as _

from .errors import json_problem


class ApiBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return json_problem(400, "invalid_content_length", _("Content-Length is not a number."))
            if length > settings.FD_API_MAX_BODY_BYTES:
                return json_problem(
                    413,
                    "body_too_large",
                    _("The body is %(size)d bytes; the limit is %(limit)d.")
                    % {"size": length, "limit": settings.FD_API_MAX_BODY_BYTES},
                )
        return self.get_response(request)
