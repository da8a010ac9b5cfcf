"""Refuse oversized API request bodies with 413 before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from apps.core.api.errors import error_body


class ApiBodySizeLimitMiddleware:
    """413 for /api/ requests whose declared body exceeds ``API_MAX_BODY_BYTES``.

    Bodies without a Content-Length (chunked) are still capped by Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, which the exception handler turns into a 413 too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.API_MAX_BODY_BYTES:
                return JsonResponse(
                    error_body(
                        "payload_too_large",
                        _("Corps de requête trop volumineux (%(n)d octets au plus).")
                        % {"n": settings.API_MAX_BODY_BYTES},
                    ),
                    status=413,
                )
        return self.get_response(request)
