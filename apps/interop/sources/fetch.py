"""A bounded HTTP client for import sources: http(s) only, timeouts, a size limit."""

from __future__ import annotations

import httpx

#: Seconds to connect, and between two reads.
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: A source document larger than this is refused (1,000 WZDx road events weigh about 2 MB).
MAX_BYTES = 20 * 1024 * 1024


class FetchError(Exception):
    """The source could not be read; the message says why, for the staff."""


def fetch(url: str, *, max_bytes: int = MAX_BYTES) -> bytes:
    """GET ``url`` and return its body, refusing other schemes, errors and oversized bodies."""
    if not url.startswith(("http://", "https://")):
        raise FetchError(f"Adresse refusée (http ou https seulement) : {url[:200]}")
    try:
        with (
            httpx.Client(timeout=TIMEOUT, follow_redirects=True, max_redirects=3) as client,
            client.stream(
                "GET", url, headers={"Accept": "application/json, application/xml"}
            ) as response,
        ):
            if response.status_code != 200:
                raise FetchError(f"La source a répondu {response.status_code}.")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(f"Document trop gros ({declared} octets, max {max_bytes}).")
            body = bytearray()
            for chunk in response.iter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise FetchError(f"Document trop gros (plus de {max_bytes} octets).")
            return bytes(body)
    except httpx.TimeoutException as exc:
        raise FetchError("La source ne répond pas à temps.") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"La source est injoignable : {exc.__class__.__name__}.") from exc
