"""The HTTP client under firebase-admin's messaging service: httpx's client layer on aiohttp.

It fills the role of firebase-admin's ``HttpxAsyncClient`` (``request()`` returns the response
after ``raise_for_status()``, so the SDK's error parsing is unchanged) but sends through
aiohttp's HTTP/1.1 transport (``httpx-aiohttp``), which costs about a fifth of the CPU of
httpx's own (httpcore, anyio, h11) per request. Measurements: bench/README.md.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Mapping
from typing import Any

import httpx
from httpx_aiohttp import AiohttpTransport

KEEPALIVE_S = 30.0  # idle pooled connections live this long (httpx's default 5 s re-handshakes)


class AiohttpClient:
    """A pooled HTTP client (``connections`` keep-alive connections) for one event loop."""

    def __init__(
        self,
        *,
        auth: httpx.Auth,
        headers: Mapping[str, str],
        timeout_s: float,
        connections: int,
    ) -> None:
        limits = httpx.Limits(max_connections=connections, keepalive_expiry=KEEPALIVE_S)
        self._client = httpx.AsyncClient(
            timeout=timeout_s,
            headers=dict(headers),
            auth=auth,
            transport=AiohttpTransport(verify=ssl_context(), limits=limits),
        )

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await self._client.request(method, url, **kwargs)
        return response.raise_for_status()

    async def aclose(self) -> None:
        await self._client.aclose()


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA bundle takes a good 0.1 s)."""
    return httpx.create_ssl_context()
