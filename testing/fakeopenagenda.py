"""A local fake of the OpenAgenda v3 API that checks the contract and injects faults.

It serves ``GET /agendas/{uid}/events`` (cursor pagination, ``limit`` 1..100, ``detailed``,
``after``) and the by-external-id writes ``PUT``/``DELETE /agendas/{uid}/events/ext/{key}/{id}``
from in-memory agendas. Every request is checked against the contract: the bearer key, the
query parameters' schemas, the bodies against ``EventInput``; a request that breaks it gets the
contract's ``400``/``401`` error shape and is recorded in ``violations``. Faults are queued:
``fail_next(status, headers, body)`` answers the next requests with that response (a ``429``
with ``Retry-After``, a ``503``…), ``hang_next()`` makes the next request time out.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import deque
from copy import deepcopy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from jsonschema import Draft202012Validator

_EVENTS = re.compile(r"^/v3/agendas/(\d+)/events$")
_EXT = re.compile(r"^/v3/agendas/(\d+)/events/ext/([^/]+)/([^/]+)$")


class Contract:
    """The contract's schemas, for the server's own checks (independent of the app's code)."""

    def __init__(self, standards_dir: str | Path) -> None:
        path = Path(standards_dir) / "openagenda-v3/openapi.yaml"
        self.spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        self._validators: dict[str, Draft202012Validator] = {}

    def validator(self, name: str) -> Draft202012Validator:
        if name not in self._validators:
            schema = {"$ref": f"#/components/schemas/{name}", "components": self.spec["components"]}
            self._validators[name] = Draft202012Validator(schema)
        return self._validators[name]

    def errors(self, document: Any, name: str) -> list[str]:
        return [
            f"{e.json_path}: {e.message[:200]}" for e in self.validator(name).iter_errors(document)
        ]

    def parameter_errors(self, name: str, value: Any) -> list[str]:
        schema = self.spec["components"]["parameters"][name]["schema"]
        return [e.message for e in Draft202012Validator(schema).iter_errors(value)]


class FakeOpenAgenda:
    """The fake server; ``agendas[uid]`` is the list of ``Event`` documents it publishes."""

    def __init__(self, standards_dir: str | Path, *, key: str = "oa_sk_test") -> None:
        self.contract = Contract(standards_dir)
        self.key = key
        self.agendas: dict[int, list[dict[str, Any]]] = {}
        #: Events written by external id: ``{(agenda, key, id): Event}``.
        self.by_ext: dict[tuple[int, str, str], dict[str, Any]] = {}
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.faults: deque[tuple[int, dict[str, str], bytes]] = deque()
        self.hangs = 0
        self.lock = threading.Lock()
        self._next_uid = 900_000
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- control ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v3"

    def start(self) -> FakeOpenAgenda:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(
        self,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self.faults.append((status, headers or {}, body))

    def hang_next(self, times: int = 1) -> None:
        self.hangs += times

    # --- handling ----------------------------------------------------------------------------

    def _error(self, status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
        document = {"error": {"code": code, "message": message}}
        assert not self.contract.errors(document, "Error")
        return status, {}, json.dumps(document).encode()

    def handle(
        self, method: str, raw_path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self.lock:
            self.requests.append(
                {"method": method, "path": parts.path, "query": query, "body": body}
            )
            if self.hangs:
                self.hangs -= 1
                return -1, {}, b""
            if self.faults:
                return self.faults.popleft()
        if headers.get("Authorization") != f"Bearer {self.key}":
            return self._error(401, "unauthorized", "unknown API key")
        if match := _EVENTS.match(parts.path):
            if method != "GET":
                return self._error(405, "method_not_allowed", method)
            return self._list(int(match.group(1)), query)
        if match := _EXT.match(parts.path):
            agenda, key, ext_id = (
                int(match.group(1)),
                unquote(match.group(2)),
                unquote(match.group(3)),
            )
            if method == "PUT":
                return self._set(agenda, key, ext_id, body)
            if method == "DELETE":
                return self._delete(agenda, key, ext_id)
        return self._error(404, "not_found", "no such route")

    def _violation(self, text: str) -> tuple[int, dict[str, str], bytes]:
        self.violations.append(text)
        return self._error(400, "bad_request", text)

    def _list(self, agenda: int, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        known = {"after", "limit", "detailed"}
        if set(query) - known:
            return self._violation(f"unexpected parameters {sorted(set(query) - known)}")
        try:
            limit = int(query.get("limit", ["20"])[0])
        except ValueError:
            return self._violation("limit is not an integer")
        if errors := self.contract.parameter_errors("Limit", limit):
            return self._violation(f"limit: {errors}")
        if query.get("detailed", ["false"])[0] not in ("true", "false", "1", "0"):
            return self._violation("detailed is not a boolean")
        offset = 0
        if "after" in query:
            try:
                offset = json.loads(base64.urlsafe_b64decode(query["after"][0]))["offset"]
            except (ValueError, KeyError, TypeError):
                return self._error(400, "bad_request", "invalid cursor")
        if agenda not in self.agendas:
            return self._error(404, "not_found", "agenda not found")
        events = self.agendas[agenda]
        page = events[offset : offset + limit]
        after = None
        if offset + limit < len(events):
            after = base64.urlsafe_b64encode(
                json.dumps({"offset": offset + limit}).encode()
            ).decode()
        document = {
            "data": page,
            "pagination": {
                "after": after,
                "limit": limit,
                "total": len(events),
                "totalRelation": "exact",
            },
        }
        return 200, {}, json.dumps(document).encode()

    def _set(
        self, agenda: int, key: str, ext_id: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            document = json.loads(body)
        except ValueError:
            return self._violation("body is not JSON")
        if errors := self.contract.errors(document, "EventInput"):
            return self._violation(f"EventInput: {errors[:3]}")
        if not document.get("title") or not document.get("timings"):
            return self._error(422, "validation_error", "title and timings are required")
        with self.lock:
            existing = self.by_ext.get((agenda, key, ext_id))
            if existing is None:
                self._next_uid += 1
                uid, status = self._next_uid, 201
            else:
                uid, status = existing["uid"], 200
            event = {"uid": uid, **deepcopy(document), "extIds": [{"key": key, "value": ext_id}]}
            self.by_ext[(agenda, key, ext_id)] = event
        headers = {"Location": f"/agendas/{agenda}/events/{uid}"} if status == 201 else {}
        return status, headers, json.dumps(event_document(event)).encode()

    def _delete(self, agenda: int, key: str, ext_id: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            event = self.by_ext.pop((agenda, key, ext_id), None)
        if event is None:
            return self._error(404, "not_found", "event not found")
        return 200, {}, json.dumps({"uid": event["uid"], "deleted": True}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = fake.handle(self.command, self.path, self.headers, body)
                if status == -1:  # hang: hold the connection past the client's timeout
                    time.sleep(5)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_DELETE = do_POST = do_PATCH = _serve  # noqa: N815

        return Handler


def event_document(event: dict[str, Any]) -> dict[str, Any]:
    """A full ``Event`` (every required field present, as the API's empty-as-empty rule says)."""
    timings = event.get("timings") or []
    document = {
        "uid": event["uid"],
        "slug": event.get("slug", f"event-{event['uid']}"),
        "title": event.get("title", {}),
        "description": event.get("description", {}),
        "status": event.get("status", 1),
        "dateRange": {},
        "featured": False,
        "image": event.get("image")
        if isinstance(event.get("image"), dict) and "srcset" in event["image"]
        else None,
        "imageCredits": event.get("imageCredits"),
        "keywords": event.get("keywords", {}),
        "originAgenda": None,
        "timings": timings,
        "location": event.get("location")
        if isinstance(event.get("location"), dict) and "name" in event["location"]
        else None,
        "timezone": "Europe/Paris",
        "attendanceMode": event.get("attendanceMode", 1),
        "onlineAccessLink": event.get("onlineAccessLink"),
        "firstTiming": timings[0] if timings else None,
        "lastTiming": timings[-1] if timings else None,
        "nextTiming": None,
        "additionalFields": event.get("additionalFields", {}),
        "longDescription": event.get("longDescription", {}),
        "conditions": event.get("conditions", {}),
        "country": None,
        "registration": event.get("registration", []),
        "createdAt": event.get("createdAt", "2026-01-01T00:00:00+01:00"),
        "updatedAt": event.get("updatedAt", "2026-01-01T00:00:00+01:00"),
        "accessibility": event.get("accessibility"),
        "age": event.get("age"),
        "state": event.get("state", 2),
        "links": [],
        "extIds": event.get("extIds", []),
        "sourceAgendas": [],
    }
    return document
