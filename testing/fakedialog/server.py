"""The fake DiaLog server (see the package docstring)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_PATH = Path(__file__).with_name("regulation.schema.json")
_formats = FormatChecker()


@_formats.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("a date-time needs its UTC offset")
    return True


VALIDATOR = Draft202012Validator(json.loads(SCHEMA_PATH.read_text()), format_checker=_formats)
MAX_BODY = 1024 * 1024


@dataclass
class Fault:
    """One scripted answer: ``status`` with ``body``; ``hang_s`` before answering; ``apply``:
    carry the request out first (the answer is then delayed or lost, DiaLog did it)."""

    status: int = 503
    body: dict[str, Any] | None = None
    hang_s: float = 0.0
    apply: bool = False
    method: str = ""  # only for requests of this method ("" any)


@dataclass
class Regulation:
    identifier: str
    body: dict[str, Any]
    status: str = "draft"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    writes: int = 1


@dataclass
class Logged:
    method: str
    path: str
    status: int
    identifier: str = ""


def _violations(body: Any) -> list[dict[str, Any]]:
    found = []
    for error in sorted(VALIDATOR.iter_errors(body), key=lambda e: list(e.absolute_path)):
        path = ".".join(
            f"[{p}]" if isinstance(p, int) else str(p) for p in error.absolute_path
        ).replace(".[", "[")
        found.append(
            {
                "propertyPath": path,
                "title": f"Cette valeur n'est pas valide ({error.validator}).",
                "parameters": {"message": error.message[:300]},
            }
        )
    return found


class FakeDialog:
    """One fake DiaLog; ``start()`` serves it from a background thread."""

    def __init__(self, clients: dict[str, str] | None = None) -> None:
        self.clients = dict(clients or {"quartier-client": "s3cret-dialog"})
        self.regulations: dict[tuple[str, str], Regulation] = {}
        self.log: list[Logged] = []
        self.headers_seen: list[dict[str, str]] = []
        self._faults: list[Fault] = []
        self._storm_until = 0.0
        self._storm_status = 503
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- control -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeDialog:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        with self._lock:
            self.regulations.clear()
            self.log.clear()
            self.headers_seen.clear()
            self._faults.clear()
            self._storm_until = 0.0

    def script(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def storm(self, status: int, duration_s: float) -> None:
        with self._lock:
            self._storm_status = status
            self._storm_until = time.monotonic() + duration_s

    def regulation(self, identifier: str, client: str = "quartier-client") -> Regulation | None:
        return self.regulations.get((client, identifier))

    def requests(self, method: str = "", ok: bool | None = None) -> list[Logged]:
        return [
            entry
            for entry in list(self.log)
            if (not method or entry.method == method)
            and (ok is None or (200 <= entry.status < 300) == ok)
        ]

    # -- behaviour ---------------------------------------------------------------------------

    def _fault_for(self, method: str) -> Fault | None:
        with self._lock:
            if time.monotonic() < self._storm_until:
                return Fault(self._storm_status, {"status": self._storm_status, "detail": "storm"})
            for index, fault in enumerate(self._faults):
                if not fault.method or fault.method == method:
                    return self._faults.pop(index)
        return None

    def handle(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any], float]:
        """The answer (status, body, seconds to hang first) to one request."""
        self.headers_seen.append(headers)
        client = headers.get("x-client-id", "")
        if not client or self.clients.get(client) != headers.get("x-client-secret"):
            return 401, {"message": "Unauthorized"}, 0.0
        fault = self._fault_for(method)
        if fault is not None and not fault.apply:
            body = fault.body
            if body is None:
                body = {"status": fault.status, "detail": "Erreur simulée"}
            return fault.status, body, fault.hang_s
        status, answer = self._apply(client, method, path, headers, raw)
        if fault is not None:  # applied, then the answer hangs or is replaced
            return fault.status, fault.body or {}, fault.hang_s
        return status, answer, 0.0

    def _apply(
        self, client: str, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        if method in ("POST", "PUT") and path == "/api/regulations":
            if not headers.get("content-type", "").startswith("application/json"):
                return 415, {"status": 415, "detail": "Content-Type: application/json attendu"}
            try:
                body = json.loads(raw)
            except ValueError:
                return 400, {"status": 400, "detail": "JSON invalide"}
            violations = _violations(body)
            violations += _geometry_violations(body) if not violations else []
            if violations:
                return 422, {"status": 422, "detail": "Validation failed", "violations": violations}
            key = (client, body["identifier"])
            with self._lock:
                existing = self.regulations.get(key)
                if method == "POST":
                    if existing is not None:
                        return 422, {
                            "status": 422,
                            "detail": "Validation failed",
                            "violations": [
                                {
                                    "propertyPath": "identifier",
                                    "title": "Un arrêté avec cet identifiant existe déjà.",
                                    "parameters": {},
                                }
                            ],
                        }
                    regulation = Regulation(body["identifier"], body, body.get("status", "draft"))
                    self.regulations[key] = regulation
                    return 201, {"message": f"Regulation {regulation.uuid} created"}
                if existing is None:
                    return 404, {"status": 404, "detail": "Not Found"}
                if existing.status == "published" and body.get("status") == "draft":
                    return 400, {
                        "status": 400,
                        "detail": "Un arrêté publié ne repasse pas en brouillon.",
                    }
                existing.body = body
                existing.status = body.get("status", existing.status)
                existing.writes += 1
                return 200, {"message": f"Regulation {existing.uuid} updated"}
        if method == "PUT" and path.startswith("/api/regulations/publish/"):
            identifier = unquote(path.rsplit("/", 1)[1])
            with self._lock:
                existing = self.regulations.get((client, identifier))
                if existing is None:
                    return 404, {"status": 404, "detail": "Not Found"}
                existing.status = "published"
                return 200, {"message": "Regulation published"}
        if method == "DELETE" and path.startswith("/api/regulations/"):
            identifier = unquote(path.rsplit("/", 1)[1])
            with self._lock:
                if self.regulations.pop((client, identifier), None) is None:
                    return 404, {"status": 404, "detail": "Not Found"}
                return 204, {}
        if method == "GET" and path == "/api/organization/identifiers":
            with self._lock:
                found = sorted(i for c, i in self.regulations if c == client)
            return 200, {"identifiers": found}
        return 404, {"status": 404, "detail": "Not Found"}


def _geometry_violations(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for m, measure in enumerate(body.get("measures", [])):
        for n, location in enumerate(measure.get("locations", [])):
            raw = (location.get("rawGeoJSON") or {}).get("geometry")
            if raw is None:
                continue
            try:
                geometry = json.loads(raw)
                ok = isinstance(geometry, dict) and "type" in geometry and "coordinates" in geometry
            except ValueError:
                ok = False
            if not ok:
                found.append(
                    {
                        "propertyPath": f"measures[{m}].locations[{n}].rawGeoJSON.geometry",
                        "title": "La géométrie n'est pas un GeoJSON valide.",
                        "parameters": {},
                    }
                )
    return found


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeDialog
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, MAX_BODY)) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path.split("?", 1)[0]
        status, body, hang_s = self.server_fake.handle(self.command, path, headers, raw)
        identifier = ""
        if path.startswith("/api/regulations/"):
            identifier = unquote(path.rsplit("/", 1)[1])
        elif raw:
            try:
                identifier = str(json.loads(raw).get("identifier", ""))
            except (ValueError, AttributeError):
                identifier = ""
        self.server_fake.log.append(Logged(self.command, path, status, identifier))
        if hang_s:
            time.sleep(hang_s)
        payload = json.dumps(body).encode() if status != 204 else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (timeout) or died
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815
