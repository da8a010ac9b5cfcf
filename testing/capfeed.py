"""A fake CAP source (a city's view of MeteoAlarm, a prefecture, a river authority): an HTTP
server publishing CAP 1.2 files and an Atom feed linking them, with faults on demand.

It checks the contract a polite client keeps: ``GET`` only, a ``User-Agent``, an ``Accept``
that names XML (else 400); it records every request. Faults per path: an HTTP status, a delay
(a timeout for the client), a body larger than announced, bytes dripped slowly.

    with FakeCapSource() as source:
        source.publish("/alerts/flood.xml", cap_bytes)
        source.feed("/feed.atom", ["/alerts/flood.xml"])
        source.fault("/alerts/flood.xml", status=503)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class Fault:
    status: int = 0
    delay_s: float = 0.0
    drip_s: float = 0.0


class FakeCapSource:
    def __init__(self) -> None:
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, Fault] = {}
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        port = int(self.server.server_address[1])
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> FakeCapSource:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the source publishes ---------------------------------------------------------
    def publish(self, path: str, body: bytes, content_type: str = "application/cap+xml") -> str:
        self.documents[path] = (body, content_type)
        return self.url + path

    def feed(self, path: str, entries: list[str], *, title: str = "Alertes") -> str:
        """An Atom feed at ``path`` with one entry per CAP path of ``entries``."""
        items = "".join(
            f"<entry><id>{escape(self.url + p)}</id><title>{escape(p)}</title>"
            "<updated>2026-12-07T10:00:00+01:00</updated>"
            f'<link rel="alternate" type="application/cap+xml" href="{escape(self.url + p)}"/>'
            "</entry>"
            for p in entries
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<id>{escape(self.url + path)}</id><title>{escape(title)}</title>"
            f"<updated>2026-12-07T10:00:00+01:00</updated>{items}</feed>"
        ).encode()
        return self.publish(path, body, "application/atom+xml")

    def fault(self, path: str, **kwargs: Any) -> None:
        self.faults[path] = Fault(**kwargs)

    def clear_faults(self) -> None:
        self.faults.clear()

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if request["path"] == path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_GET(self) -> None:
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers)})
                accept = self.headers.get("Accept", "")
                if not self.headers.get("User-Agent") or "xml" not in accept:
                    fake.violations.append(f"{self.path}: no User-Agent or XML Accept")
                    return self._send(400, b"User-Agent and an XML Accept header required")
                fault = fake.faults.get(self.path, Fault())
                if fault.delay_s:
                    time.sleep(fault.delay_s)
                if fault.status:
                    return self._send(fault.status, b"fault")
                if self.path not in fake.documents:
                    return self._send(404, b"not found")
                body, content_type = fake.documents[self.path]
                if fault.drip_s:
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.end_headers()
                    for byte in body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(fault.drip_s)
                    return None
                return self._send(200, body, content_type)

            def do_POST(self) -> None:
                fake.violations.append(f"{self.path}: POST")
                self._send(405, b"GET only")

            def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler
