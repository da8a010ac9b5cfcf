"""A local fake of a BAN-compatible geocoder (Géoplateforme ``/geocodage``, addok) with faults.

``GET {url}/search/?q=&limit=[&lat=&lon=]`` answers a GeoJSON FeatureCollection of the
``places`` whose label contains the query (case-insensitive), in the BAN shape (``label``,
``score``, ``type``, ``postcode``, ``city``). It refuses what the BAN API refuses (``q``
shorter than 3 characters, ``limit`` outside 1..20: 400). Faults: ``status`` answers every
request with that code, ``hang`` holds every request past the client's timeout, ``garbage``
answers invalid JSON. ``requests`` records what was asked.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class FakeGeocoder:
    def __init__(self, *, prefix: str = "/geocodage") -> None:
        self.prefix = prefix
        self.places: list[dict[str, Any]] = []
        self.requests: list[dict[str, list[str]]] = []
        self.status: int | None = None
        self.hang = False
        self.garbage = False
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"

    def start(self) -> FakeGeocoder:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, label: str, lon: float, lat: float, *, kind: str = "street", score: float = 0.9,
            postcode: str = "69990", city: str = "Lyonnay") -> None:  # fmt: skip
        self.places.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "label": label,
                    "score": score,
                    "type": kind,
                    "postcode": postcode,
                    "city": city,
                    "name": label.split(",")[0],
                },
            }
        )

    def answer(self, path: str) -> tuple[int, bytes]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        self.requests.append(query)
        if self.status is not None:
            return self.status, b'{"code": 500, "message": "boom"}'
        if self.garbage:
            return 200, b"<html>maintenance</html>"
        if parts.path != f"{self.prefix}/search/":
            return 404, b'{"code": 404, "message": "not found"}'
        q = query.get("q", [""])[0]
        try:
            limit = int(query.get("limit", ["5"])[0])
        except ValueError:
            limit = 0
        if len(q.strip()) < 3 or not 1 <= limit <= 20:
            return 400, b'{"code": 400, "message": "q must contain between 3 and 200 chars"}'
        found = [p for p in self.places if q.lower() in p["properties"]["label"].lower()][:limit]
        body = {
            "type": "FeatureCollection",
            "version": "draft",
            "features": found,
            "attribution": "BAN",
            "licence": "ETALAB-2.0",
            "query": q,
            "limit": limit,
        }
        return 200, json.dumps(body).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                if fake.hang:
                    time.sleep(3)
                    return
                status, body = fake.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
