"""A bounded HTTP client for CAP sources: http(s) only, timeouts, a size limit, no cookies."""

from __future__ import annotations

import time

import httpx
from django.conf import settings
from django.utils.translation import gettext as _


class FetchError(Exception):
    """The document could not be read; the message says why (shown to staff)."""


def fetch(url: str) -> bytes:
    """GET ``url`` and return its body, at most ``CAP_FETCH_MAX_BYTES``, within
    ``CAP_FETCH_TIMEOUT_S`` per step; any failure is a ``FetchError``."""
    if not url.startswith(("http://", "https://")):
        raise FetchError(_("Adresse non prise en charge : %(url)s") % {"url": url[:100]})
    max_bytes: int = settings.CAP_FETCH_MAX_BYTES
    timeout = httpx.Timeout(settings.CAP_FETCH_TIMEOUT_S)
    headers = {
        "User-Agent": "Quartier-CAP/1.0",
        "Accept": "application/cap+xml, application/atom+xml, application/rss+xml, "
        "application/xml;q=0.9, */*;q=0.1",
    }
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=3) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:
                raise FetchError(
                    _("Réponse HTTP %(status)s de %(url)s")
                    % {"status": response.status_code, "url": url[:100]}
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    _("Document trop gros (%(size)s octets, max %(max)s).")
                    % {"size": declared, "max": max_bytes}
                )
            body = bytearray()
            # A server that drips bytes resets the read timeout forever: a total deadline too.
            deadline = time.monotonic() + 3 * settings.CAP_FETCH_TIMEOUT_S
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(
                        _("Document trop gros (plus de %(max)s octets).") % {"max": max_bytes}
                    )
                if time.monotonic() > deadline:
                    raise FetchError(_("Délai total dépassé pour %(url)s.") % {"url": url[:100]})
            return bytes(body)
    except httpx.TimeoutException as error:
        raise FetchError(
            _("Délai dépassé pour %(url)s (%(kind)s).")
            % {"url": url[:100], "kind": type(error).__name__}
        ) from None
    except httpx.HTTPError as error:
        raise FetchError(
            (_("Lecture impossible de %(url)s : %(error)s") % {"url": url[:100], "error": error})[
                :300
            ]
        ) from None
