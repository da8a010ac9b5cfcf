"""A bounded HTTP client of the OpenAgenda v3 API: cursor pages, rate limits, contract checks.

Every page read is validated against the contract (``EventList``, each item a detailed
``Event``) and every body sent against ``EventInput`` before it leaves. ``429`` and ``503``
are retried after ``Retry-After`` (or a short backoff), a few times and never longer than
``MAX_WAIT_S`` in all: a limit that asks for more fails the run, which the next poll retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from django.conf import settings
from jsonschema import Draft202012Validator

from apps.interop.openagenda import contract
from apps.interop.standards import InvalidDocumentError

#: Events per page: the contract's maximum (``Limit``).
PAGE_SIZE = 100
#: At most this many pages per run (100,000 events): a cursor that never ends is an error.
MAX_PAGES = 1000
#: A page larger than this is refused (100 events of 800 timings weigh about 8 MB).
MAX_PAGE_BYTES = 32 * 1024 * 1024
#: Attempts of one request (the first and the retries after 429/503/timeouts).
MAX_ATTEMPTS = 4
#: Longest total wait for rate limits in one request; a longer ``Retry-After`` fails the run.
MAX_WAIT_S = 60.0
RETRYABLE = {429, 502, 503, 504}


class OpenAgendaError(Exception):
    """OpenAgenda could not be read or written; the message says why, in French, for staff."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def retry_after_s(value: str | None, attempt: int) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or HTTP date), else a backoff."""
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
        else:
            return max(0.0, when.timestamp() - time.time())
    return float(min(2**attempt, 8))


def _ext_path(agenda_uid: int, ext_key: str, ext_id: str) -> str:
    return f"/agendas/{agenda_uid}/events/ext/{quote(ext_key, safe='')}/{quote(ext_id, safe='')}"


def _check_parameter(name: str, value: Any) -> None:
    schema = contract.parameter_schema(name)
    problems = [e.message for e in Draft202012Validator(schema).iter_errors(value)]
    if problems:
        raise InvalidDocumentError(contract.STANDARD, f"paramètre {name} : {problems[0]}")


class OpenAgendaClient:
    """Calls on one OpenAgenda API with one key."""

    def __init__(
        self,
        *,
        base_url: str,
        key: str,
        timeout: httpx.Timeout | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise OpenAgendaError(f"Adresse refusée (http ou https seulement) : {base_url[:200]}")
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep
        if timeout is None:
            seconds = settings.OPENAGENDA_TIMEOUT_S
            timeout = httpx.Timeout(seconds, connect=min(5.0, seconds))
        self.http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> OpenAgendaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """Send one request, retrying rate limits and unavailability; the status and JSON body."""
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        waited = 0.0
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = self._send(method, path, params, content, headers)
            except httpx.TimeoutException as exc:
                if attempt + 1 >= MAX_ATTEMPTS:
                    raise OpenAgendaError("OpenAgenda ne répond pas à temps.") from exc
                continue
            except httpx.HTTPError as exc:
                raise OpenAgendaError(
                    f"OpenAgenda est injoignable : {exc.__class__.__name__}."
                ) from exc
            status, payload = response
            if status in RETRYABLE and attempt + 1 < MAX_ATTEMPTS:
                wait = retry_after_s(self._retry_after, attempt)
                if waited + wait > MAX_WAIT_S:
                    raise OpenAgendaError(
                        f"OpenAgenda limite le débit : réessayer dans {int(wait)} s.", status=status
                    )
                waited += wait
                self.sleep(wait)
                continue
            if status >= 400:
                raise OpenAgendaError(self._error_text(status, payload), status=status)
            return status, payload
        raise OpenAgendaError(f"OpenAgenda n'a pas répondu après {MAX_ATTEMPTS} essais.")

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        content: bytes | None,
        headers: dict[str, str],
    ) -> tuple[int, Any]:
        with self.http.stream(
            method, self.base_url + path, params=params, content=content, headers=headers
        ) as response:
            self._retry_after = response.headers.get("Retry-After")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > MAX_PAGE_BYTES:
                raise OpenAgendaError(f"Réponse trop grosse ({declared} octets).")
            raw = bytearray()
            for chunk in response.iter_bytes():
                raw.extend(chunk)
                if len(raw) > MAX_PAGE_BYTES:
                    raise OpenAgendaError(f"Réponse trop grosse (plus de {MAX_PAGE_BYTES} octets).")
            status = response.status_code
        if not raw:
            return status, None
        try:
            return status, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if status >= 400:
                return status, None
            raise OpenAgendaError("OpenAgenda a répondu un JSON illisible.", status=status) from exc

    _retry_after: str | None = None

    @staticmethod
    def _error_text(status: int, payload: Any) -> str:
        detail = ""
        if isinstance(payload, dict) and not contract.errors(payload, "Error", limit=1):
            detail = f" ({payload['error']['code']} : {payload['error']['message'][:200]})"
        if status == 401:
            return f"OpenAgenda refuse la clé d'API{detail}."
        if status == 403:
            return f"OpenAgenda refuse l'accès à cet agenda{detail}."
        if status == 404:
            return f"Agenda ou événement introuvable sur OpenAgenda{detail}."
        return f"OpenAgenda a répondu {status}{detail}."

    # --- operations --------------------------------------------------------------------------

    def events(self, *, agenda_uid: int) -> Iterator[dict[str, Any]]:
        """Every published event of the agenda, detailed, following the cursor to its end.

        Each page is validated against ``EventList`` and each item against ``Event``
        (``InvalidDocumentError``, the whole run is refused).
        """
        after: str | None = None
        for _page in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE, "detailed": "true"}
            _check_parameter("Limit", PAGE_SIZE)
            if after is not None:
                _check_parameter("AfterCursor", after)
                params["after"] = after
            _status, document = self.request("GET", f"/agendas/{agenda_uid}/events", params=params)
            # The envelope against ``EventList``, each item against ``Event`` (once): the page's
            # ``oneOf`` Event | EventSummary would validate every item twice more, and the two
            # branches exclude each other, so a valid ``Event`` satisfies it.
            items = document.get("data") if isinstance(document, dict) else None
            if not isinstance(items, list):
                contract.validate(document, "EventList")  # refused, with the contract's words
                return
            contract.validate({**document, "data": []}, "EventList")
            for item in items:
                contract.validate(item, "Event")
                yield item
            after = document["pagination"]["after"]
            if not after or not document["data"]:
                return
        raise OpenAgendaError(f"Plus de {MAX_PAGES} pages : pagination interrompue.")

    def event_set(
        self, *, agenda_uid: int, ext_key: str, ext_id: str, body: dict[str, Any]
    ) -> tuple[bool, dict[str, Any]]:
        """Upsert by external id (``setByExtId``); (created, the ``Event`` answered)."""
        contract.validate(body, "EventInput")
        status, document = self.request(
            "PUT",
            _ext_path(agenda_uid, ext_key, ext_id),
            body=body,
        )
        contract.validate(document, "Event")
        return status == 201, document

    def event_delete(self, *, agenda_uid: int, ext_key: str, ext_id: str) -> bool:
        """Delete by external id (``deleteByExtId``); ``False`` if OpenAgenda did not know it."""
        try:
            _status, document = self.request(
                "DELETE",
                _ext_path(agenda_uid, ext_key, ext_id),
            )
        except OpenAgendaError as exc:
            if exc.status == 404:
                return False
            raise
        contract.validate(document, "DeletionResult")
        return True
