"""Reaching a dev server from elsewhere: URLs on the request's host, CORS by origin list, the
registration throttle under DJANGO_DEBUG, and `make run`'s derived environment."""

from __future__ import annotations

import copy
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.api_support import published_event, published_news

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import dev_server_env  # noqa: E402

pytestmark = pytest.mark.django_db

EMULATOR = "10.0.2.2:8123"


def test_urls_use_site_url_by_default(client, settings):
    settings.SITE_URL = "https://api.ville.example"
    event = published_event()
    body = client.get(f"/api/v1/events/{event.pk}/", HTTP_HOST="127.0.0.1").json()
    assert body["url"] == f"https://api.ville.example/api/v1/events/{event.pk}/"
    assert body["ical_url"] == f"https://api.ville.example/api/v1/events/{event.pk}/ical/"


@override_settings(SITE_URL_FROM_REQUEST=True, ALLOWED_HOSTS=["*"])
def test_urls_follow_the_request_host_on_a_dev_server(client):
    event = published_event()
    published_news()
    detail = client.get(f"/api/v1/events/{event.pk}/", HTTP_HOST=EMULATOR).json()
    assert detail["url"] == f"http://{EMULATOR}/api/v1/events/{event.pk}/"
    assert detail["ical_url"] == f"http://{EMULATOR}/api/v1/events/{event.pk}/ical/"
    # The same list asked under two names: each gets its own host (the response cache keys on
    # the host, so one never replays the other's URLs).
    for host in (EMULATOR, "192.168.1.20:8123", EMULATOR):
        listing = client.get("/api/v1/news/", HTTP_HOST=host).json()
        assert {item["url"].split("/api/")[0] for item in listing["results"]} == {f"http://{host}"}


@override_settings(SITE_URL_FROM_REQUEST=True, ALLOWED_HOSTS=["127.0.0.1"])
def test_a_host_outside_allowed_hosts_is_a_400_and_never_echoed(client):
    response = client.get("/api/v1/news/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert b"evil.example/api" not in response.content


WEB_APP = "http://localhost:5173"


@override_settings(CORS_ALLOWED_ORIGINS=[WEB_APP])
def test_cors_allows_the_listed_origins_only(client):
    published_news()
    allowed = client.get("/api/v1/news/", HTTP_ORIGIN=WEB_APP)
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == WEB_APP
    assert "etag" in allowed["Access-Control-Expose-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in allowed

    other = client.get("/api/v1/news/", HTTP_ORIGIN="http://evil.example")
    assert other.status_code == 200
    assert "Access-Control-Allow-Origin" not in other


@override_settings(CORS_ALLOWED_ORIGINS=[WEB_APP])
def test_cors_preflight_of_an_authenticated_write(client):
    response = client.options(
        "/api/v1/news/",
        HTTP_ORIGIN=WEB_APP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == WEB_APP
    allowed_headers = response["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "POST" in response["Access-Control-Allow-Methods"]


@override_settings(CORS_ALLOWED_ORIGINS=[WEB_APP])
def test_cors_stays_off_outside_the_api(client):
    response = client.get("/admin/login/", HTTP_ORIGIN=WEB_APP)
    assert "Access-Control-Allow-Origin" not in response


@override_settings(CORS_ALLOWED_ORIGINS=[WEB_APP])
def test_cors_headers_on_api_errors_too(client):
    response = client.get("/api/v1/news/?near=91,4.83", HTTP_ORIGIN=WEB_APP)
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == WEB_APP


def _setting_with(monkeypatch, name: str, **variables):
    """The value of setting ``name`` computed by the settings module with ``variables`` set."""
    import backend.settings

    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    try:
        return copy.deepcopy(getattr(importlib.reload(backend.settings), name))
    finally:
        for variable in variables:
            monkeypatch.delenv(variable)
        importlib.reload(backend.settings)


def test_registration_throttle_is_relaxed_under_debug(monkeypatch):
    def registration_rate(**variables) -> str:
        rest = _setting_with(monkeypatch, "REST_FRAMEWORK", **variables)
        return rest["DEFAULT_THROTTLE_RATES"]["registration"]

    assert registration_rate(DJANGO_DEBUG="true") == "1000/hour"
    assert registration_rate(DJANGO_DEBUG="false") == "20/hour"
    tuned = registration_rate(DJANGO_DEBUG="true", API_THROTTLE_RATES="registration=5/min")
    assert tuned == "5/min"


def test_cors_origins_come_from_the_environment(monkeypatch):
    origins = _setting_with(
        monkeypatch,
        "CORS_ALLOWED_ORIGINS",
        CORS_ALLOWED_ORIGINS="http://localhost:5173,https://app.ville.example",
    )
    assert origins == ["http://localhost:5173", "https://app.ville.example"]


@pytest.mark.parametrize(
    ("host", "site_url", "allowed", "addr"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000", "127.0.0.1,localhost,[::1]", "127.0.0.1:8000"),
        ("0.0.0.0", "http://192.168.1.20:8000", "*", "0.0.0.0:8000"),
        ("::", "http://192.168.1.20:8000", "*", "[::]:8000"),
        (
            "laptop.local",
            "http://laptop.local:8000",
            "laptop.local,127.0.0.1,localhost,[::1]",
            "laptop.local:8000",
        ),
    ],
)
def test_make_run_derives_site_url_and_allowed_hosts(host, site_url, allowed, addr):
    derived = dev_server_env.derive(host, "8000", {}, "192.168.1.20")
    assert derived == {
        "SITE_URL": site_url,
        "DJANGO_ALLOWED_HOSTS": allowed,
        "SITE_URL_FROM_REQUEST": "true",
        "QUARTIER_RUNSERVER_ADDR": addr,
    }


def test_make_run_keeps_what_the_environment_sets():
    derived = dev_server_env.derive("0.0.0.0", "8123", {"SITE_URL": "https://tunnel.example"}, None)
    assert derived["SITE_URL"] == "https://tunnel.example"
    assert derived["DJANGO_ALLOWED_HOSTS"] == "*"
    # No LAN address (offline laptop): the loopback one.
    assert dev_server_env.derive("0.0.0.0", "8123", {}, None)["SITE_URL"] == (
        "http://127.0.0.1:8123"
    )


@pytest.mark.parametrize("port", ["", "80a", "0", "70000"])
def test_make_run_refuses_a_bad_port(port):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/dev_server_env.py"), "0.0.0.0", port],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "PORT" in result.stderr and result.stdout == ""
