"""The HTTP client under firebase-admin's messaging service: aiohttp, answering like httpx.

It fills the role of firebase-admin's ``HttpxAsyncClient``: ``send_each_async`` calls
``request("post", url, headers=…, json=…)`` and reads ``.json()`` of what comes back; a
failure must be an ``httpx.HTTPError`` — ``HTTPStatusError`` carrying an ``httpx.Response``
(the SDK's error parsing reads its body and headers) or a transport error (``ConnectError``,
``TimeoutException``, …), so the SDK picks the same exception classes as with its own client.

The request goes straight to one pooled aiohttp session (HTTP/1.1 keep-alive): httpx's client
layer (URL parsing, header models, auth-flow generators, the stream adapter of
``httpx-aiohttp``) cost more CPU per push than everything else of a send (bench/README.md).
The access token is applied like the SDK's ``GoogleAuthCredentialFlow``: before each request,
and on a 401 answer refreshed and the request sent again, at most twice
(``SharedTokenCredentials`` throttles the refreshes).
"""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp.transport import map_aiohttp_exceptions

from apps.notifications.gateway.credentials import SharedTokenCredentials

KEEPALIVE_S = 30.0  # idle pooled connections live this long (httpx's default 5 s re-handshakes)


class AiohttpClient:
    """A pooled HTTP client (``connections`` keep-alive connections) for one event loop.

    The aiohttp session is created by the first request, inside the loop that runs it.
    """

    MAX_REFRESHES = 2

    def __init__(
        self,
        *,
        credentials: SharedTokenCredentials,
        headers: Mapping[str, str],
        timeout_s: float,
        connections: int,
    ) -> None:
        self._credentials = credentials
        self._headers = {**headers, "Content-Type": "application/json"}
        # Like httpx's single timeout: each of connecting (pool wait included) and reading.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout_s, sock_connect=timeout_s, sock_read=timeout_s
        )
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _current_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._connections, keepalive_timeout=KEEPALIVE_S, ssl=ssl_context()
            )
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; the response, or ``httpx.HTTPStatusError`` for a 4xx/5xx."""
        if kwargs:
            raise TypeError(f"unsupported request arguments: {sorted(kwargs)}")
        session = self._current_session()
        request_headers = {**self._headers, **(headers or {})}
        body = _json_body(json)
        for attempt in range(self.MAX_REFRESHES + 1):
            self._credentials.before_request(None, method, url, request_headers)
            with map_aiohttp_exceptions():
                async with session.request(
                    method,
                    url,
                    data=body,
                    headers=request_headers,
                    timeout=self._timeout,
                    allow_redirects=False,
                ) as answer:
                    content = await answer.read()
            if answer.status != 401 or attempt == self.MAX_REFRESHES:
                break
            self._credentials.refresh(None)
        if 200 <= answer.status < 300:
            # What the SDK reads of a success is the body; a request object costs a URL parse.
            return httpx.Response(answer.status, content=content)
        response = httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=content,
            request=httpx.Request(method, url),
        )
        return response.raise_for_status()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _json_body(value: Any) -> bytes:
    """The body httpx would send for ``json=value``: compact, UTF-8, no NaN."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """One verifying TLS context per process (loading the CA bundle is slow: do it once)."""
    return httpx.create_ssl_context()
