"""A bounded HTTP client of DiaLog's write API (headers ``X-Client-Id``/``X-Client-Secret``).

Every call returns an ``Answer`` (no exception for HTTP errors, timeouts or refused
connections: ``status`` 0 with ``failure``); the policy decides what each means.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings

#: An answer body larger than this is not read (DiaLog's answers are a few hundred bytes).
MAX_ANSWER_BYTES = 256 * 1024


@dataclass(frozen=True)
class Answer:
    """``status`` (0: no answer), the JSON body when there was one, ``failure`` for no answer."""

    status: int
    data: dict[str, Any] = field(default_factory=dict)
    failure: str = ""
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class DialogClient:
    """One organisation's client; use as a context manager (one connection pool)."""

    def __init__(self, *, base_url: str, client_id: str, client_secret: str) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(settings.DIALOG_TIMEOUT_S, connect=5.0),
            headers={
                "X-Client-Id": client_id,
                "X-Client-Secret": client_secret,
                "Accept": "application/json",
                "User-Agent": "Quartier (interop DiaLog)",
            },
            follow_redirects=False,
        )

    def __enter__(self) -> DialogClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        try:
            with self._http.stream(method, path, json=body) as response:
                raw = bytearray()
                for chunk in response.iter_bytes():
                    raw.extend(chunk)
                    if len(raw) > MAX_ANSWER_BYTES:
                        break
                return Answer(
                    status=response.status_code,
                    data=_json(bytes(raw)),
                    retry_after_s=_retry_after(response.headers.get("Retry-After")),
                )
        except httpx.TimeoutException:
            return Answer(status=0, failure="timeout")
        except httpx.HTTPError as exc:
            return Answer(status=0, failure=exc.__class__.__name__)

    def create(self, body: dict[str, Any]) -> Answer:
        return self._call("POST", "/api/regulations", body)

    def update(self, body: dict[str, Any]) -> Answer:
        """Replace the whole regulation named by ``body["identifier"]`` (``PUT``)."""
        return self._call("PUT", "/api/regulations", body)

    def publish(self, identifier: str) -> Answer:
        return self._call("PUT", f"/api/regulations/publish/{quote(identifier, safe='')}")

    def delete(self, identifier: str) -> Answer:
        return self._call("DELETE", f"/api/regulations/{quote(identifier, safe='')}")

    def identifiers(self) -> Answer:
        """The identifiers the organisation already used (``{"identifiers": [...]}``)."""
        return self._call("GET", "/api/organization/identifiers")


def _json(raw: bytes) -> dict[str, Any]:
    import json

    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"items": value}


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return min(float(value.strip()), 3600.0)
    return None
