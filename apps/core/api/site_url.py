"""The origin of absolute URLs: ``SITE_URL``, or the request's own host on a dev server.

Production answers under one name, ``SITE_URL``. A development server reached from several
places at once (``make run HOST=0.0.0.0``: the Android emulator's ``10.0.2.2``, a phone on the
LAN, the laptop's own browser) has no single right name: with ``SITE_URL_FROM_REQUEST`` on,
every absolute URL built while a request is served (``url``, ``ical_url``, images,
attachments, pagination links) starts with the scheme, host and port that request used — a
host ``ALLOWED_HOSTS`` already accepted. Outside a request (pushes, tasks) ``SITE_URL`` stays.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_request_origin: ContextVar[str | None] = ContextVar("quartier_request_origin", default=None)


def site_url() -> str:
    """The origin (``scheme://host[:port]``, no trailing slash) of absolute URLs now."""
    return _request_origin.get() or settings.SITE_URL


class RequestSiteURLMiddleware:
    """With ``SITE_URL_FROM_REQUEST`` on, absolute URLs follow the host the request used.

    It sits after ``CommonMiddleware``-independent host validation: ``request.get_host()``
    raises ``DisallowedHost`` (a 400) for a host outside ``ALLOWED_HOSTS``, so only accepted
    names are ever echoed back.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.SITE_URL_FROM_REQUEST:
            return self.get_response(request)
        token = _request_origin.set(f"{request.scheme}://{request.get_host()}")
        try:
            return self.get_response(request)
        finally:
            _request_origin.reset(token)
