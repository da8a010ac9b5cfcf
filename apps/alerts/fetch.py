"""A bounded HTTP client for CAP sources: http(s) only, timeouts, a size limit, no cookies."""

from __future__ import annotations

import time

import httpx
from django.conf import settings


class FetchError(Exception):
    """The document could not be read; the message says why (shown to staff)."""


def fetch(url: str) -> bytes:
    """GET ``url`` and return its body, at most ``CAP_FETCH_MAX_BYTES``, within
    ``CAP_FETCH_TIMEOUT_S`` per step; any failure is a ``FetchError``."""
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"Adresse non prise en charge : {url[:100]}")
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
                raise FetchError(f"Réponse HTTP {response.status_code} de {url[:100]}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"Document trop gros ({declared} octets, max {max_bytes}).")
            body = bytearray()
            # A server that drips bytes resets the read timeout forever: a total deadline too.
            deadline = time.monotonic() + 3 * settings.CAP_FETCH_TIMEOUT_S
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise FetchError(f"Document trop gros (plus de {max_bytes} octets).")
                if time.monotonic() > deadline:
                    raise FetchError(f"Délai total dépassé pour {url[:100]}.")
            return bytes(body)
    except httpx.TimeoutException as error:
        raise FetchError(f"Délai dépassé pour {url[:100]} ({type(error).__name__}).") from None
    except httpx.HTTPError as error:
        raise FetchError(f"Lecture impossible de {url[:100]} : {error}"[:300]) from None
