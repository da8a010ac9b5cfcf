"""Access logs keep no precise position: gunicorn (the project's config) and runserver, for real."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from backend.access_log import redact_query, redact_text, redact_uri

ROOT = Path(settings.BASE_DIR)
LAT, LON = "45.764123", "4.835712"
#: Requests a phone makes with its position, in every parameter that carries one (the OpenAPI
#: schema's lat, lon, near, bbox), plus the same numbers hidden in other places.
REQUESTS = [
    f"/api/v1/feed/?lat={LAT}&lon={LON}",
    f"/api/v1/news/?near={LAT},{LON}&radius=500",
    "/api/v1/works/?bbox=4.821234,45.751234,4.851234,45.771234&page_size=5",
    f"/api/v1/areas/?LAT={LAT}&%6Con={LON}",
    f"/api/v1/events/?q={LAT}%2C{LON}",
]
REFERER = f"https://app.example/carte?lat={LAT}&lon={LON}"
# A decimal number with three decimals or more: about 100 m or better.
PRECISE = re.compile(r"\d(?:\.|%2[eE])\d{3,}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"lat={LAT}&lon={LON}", "lat=~&lon=~"),
        (f"near={LAT},{LON}&radius=500", "near=~&radius=500"),
        ("bbox=4.8212%2C45.7512%2C4.85%2C45.77&page=2", "bbox=~&page=2"),
        (f"Lat={LAT}&%6Con={LON}&lon", "Lat=~&%6Con=~&lon=~"),
        (f"q={LAT}%2C{LON}", "q=45.76%2C4.83"),
        ("q=45%2E764123", "q=45%2E76"),
        ("", ""),
    ],
)
def test_redact_query_drops_positions_and_cuts_decimals(raw, expected):
    assert redact_query(raw) == expected


def test_redact_uri_and_text_cover_paths_referers_and_bad_request_lines():
    assert redact_uri(f"/x/{LAT}/?lat=1.5#{LAT}") == "/x/45.76/?lat=~#~"
    assert redact_text(f"GET /api/v1/feed/?lat={LAT}&lon={LON} HTTP/1.1") == (
        "GET /api/v1/feed/?lat=~&lon=~ HTTP/1.1"
    )
    assert (
        PRECISE.search(redact_text(f"Bad request syntax ('GET /?near={LAT},{LON} HTTP')")) is None
    )


def test_gunicorn_error_log_redacts_request_uris():
    """A request that crashes a worker is logged with its URI: no position there either."""
    import io
    import logging

    from gunicorn.config import Config

    from backend.access_log import RedactingGunicornLogger

    logger = RedactingGunicornLogger(Config())
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.error_log.addHandler(handler)
    try:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("Error handling request %s", f"/api/v1/feed/?lat={LAT}&lon={LON}")
    finally:
        logger.error_log.removeHandler(handler)

    text = stream.getvalue()
    assert "Error handling request /api/v1/feed/?lat=~&lon=~" in text
    assert PRECISE.search(text) is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(tmp_path: Path, port: int) -> dict[str, str]:
    """Production-like settings on the test database (the tables exist; reads only)."""
    name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DATABASE_URL": f"postgis:///{name}",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "PUSH_BACKEND": "log",
        "CACHE_URL": "",
        "CELERY_BROKER_URL": "",
        "QUARTIER_VAR_DIR": str(tmp_path / "var"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_THREADS": "2",
        "GUNICORN_ACCESSLOG": str(tmp_path / "access.log"),
    }
    return env


def _wait_until_serving(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("server did not start in 90 s")


def _get(port: int, path: str) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Referer": REFERER})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _serve_and_request(command: list[str], env: dict, tmp_path: Path, port: int) -> list[int]:
    output = tmp_path / "server.out"
    with output.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_until_serving(port, process, output)
        statuses = [_get(port, path) for path in REQUESTS]
        # A server logs a request after sending its response: give the last line a moment
        # to be written before the server is stopped.
        logs = [output, tmp_path / "access.log"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = "".join(log.read_text() for log in logs if log.exists())
            if REQUESTS[-1].split("?")[0] + "?" in text:
                break
            time.sleep(0.05)
        return statuses
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _assert_no_position(text: str, statuses: list[int]) -> None:
    assert statuses[:3] == [200, 200, 200], statuses
    for path, status in zip(REQUESTS, statuses, strict=True):
        assert f"{path.split('?')[0]}?" in text and f" {status} " in text, (path, text)
    assert LAT not in text and LON not in text
    assert PRECISE.search(text) is None, PRECISE.search(text)
    assert "lat=~&lon=~" in text and "near=~" in text and "bbox=~" in text


@pytest.mark.slow
def test_gunicorn_access_log_keeps_no_position(db, tmp_path):
    port = _free_port()
    env = _environment(tmp_path, port)
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.wsgi"]

    statuses = _serve_and_request(command, env, tmp_path, port)

    access_log = (tmp_path / "access.log").read_text()
    assert len(access_log.splitlines()) == len(REQUESTS), access_log
    _assert_no_position(access_log, statuses)
    assert PRECISE.search((tmp_path / "server.out").read_text()) is None


@pytest.mark.slow
def test_runserver_log_keeps_no_position(db, tmp_path):
    port = _free_port()
    env = _environment(tmp_path, port)
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]

    statuses = _serve_and_request(command, env, tmp_path, port)

    _assert_no_position((tmp_path / "server.out").read_text(), statuses)
