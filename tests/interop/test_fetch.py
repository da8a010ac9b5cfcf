"""URL sources through the bounded client, against a local HTTP server (never the network)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.interop.models import Source, SourceFormat
from apps.interop.sources.fetch import FetchError, fetch
from apps.interop.sources.services import SourceError, source_run
from apps.works.models import Works
from tests.factories import CategoryFactory, OrganizationFactory
from tests.interop.conftest import STANDARDS

FEED = (STANDARDS / "wzdx-4.2/examples/scenario1_simple_linestring_example.geojson").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/feed.geojson":
            self._send(200, FEED)
        elif self.path == "/big":
            self._send(200, b" " * 5000)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/feed.geojson")
            self.end_headers()
        else:
            self._send(500, b"oops")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_fetch_reads_a_feed_and_follows_a_redirect(server):
    assert json.loads(fetch(f"{server}/moved"))["type"] == "FeatureCollection"


def test_fetch_refuses_an_oversized_body(server):
    with pytest.raises(FetchError, match="trop gros"):
        fetch(f"{server}/big", max_bytes=1000)


def test_fetch_reports_a_server_error(server):
    with pytest.raises(FetchError, match="500"):
        fetch(f"{server}/broken")


def test_fetch_refuses_other_schemes():
    with pytest.raises(FetchError, match="http"):
        fetch("file:///etc/passwd")


def test_fetch_reports_an_unreachable_source():
    with pytest.raises(FetchError, match="injoignable"):
        fetch("http://127.0.0.1:9/feed.geojson")


def test_fetch_url_source_imports_and_a_failing_one_records_its_error(db, server):
    owner = {"organization": OrganizationFactory(), "category": CategoryFactory()}
    good = Source.objects.create(
        name="ok", format=SourceFormat.WZDX, url=f"{server}/feed.geojson", **owner
    )
    bad = Source.objects.create(
        name="ko", format=SourceFormat.WZDX, url=f"{server}/broken", **owner
    )

    report = source_run(source=good)
    with pytest.raises(SourceError):
        source_run(source=bad)

    assert report.created == Works.objects.count() == 5
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (good.last_error, good.created_count) == ("", 5)
    assert "500" in bad.last_error and bad.last_run_at is not None
