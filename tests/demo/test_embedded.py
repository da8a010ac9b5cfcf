"""The embedded mode of ``make run``, for real: no DATABASE_URL, SpatiaLite, a live server.

Subprocesses run exactly what ``make run`` runs — ``migrate``, ``seed_demo``, ``runserver`` —
with ``DATABASE_URL`` and ``CELERY_BROKER_URL`` unset and a fresh ``QUARTIER_VAR_DIR``, then
the test talks HTTP to the server: health, static files and an admin login with the printed
demo login.
"""

from __future__ import annotations

import base64
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django_otp.oath import totp

BASE_DIR = Path(settings.BASE_DIR)
LOGIN = re.compile(r"Demo editor login: (\S+) / (\S+)")
TOTP_KEY = re.compile(r"Demo editor TOTP key: (\S+)")
SERVER_START_TIMEOUT_S = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _embedded_env(var_dir: Path) -> dict[str, str]:
    """The environment of a fresh shell running ``make run``: nothing of the test settings."""
    dropped = {"DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_SETTINGS_MODULE"}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(QUARTIER_VAR_DIR=str(var_dir), DJANGO_DEBUG="1", PYTHONUNBUFFERED="1")
    return env


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _wait_for_health(client: httpx.Client, server: subprocess.Popen) -> httpx.Response:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server exited"
        try:
            return client.get("/api/v1/health/")
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("the server did not answer in time")


@pytest.mark.slow
def test_embedded_mode_migrates_seeds_and_serves_without_database_url(tmp_path):
    env = _embedded_env(tmp_path)
    _manage(env, "migrate", "--noinput", "-v0")
    output = _manage(env, "seed_demo")
    username, password = LOGIN.search(output).groups()
    totp_key = TOTP_KEY.search(output).group(1)
    assert "news 3" in output and "works 4" in output and "events 5" in output
    assert (tmp_path / "quartier.sqlite3").exists()

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            health = _wait_for_health(client, server)
            assert health.status_code == 200
            assert health.json() == {
                "status": "ok",
                "database": "ok",
                "cache": "local",
                "broker": "eager",
            }

            css = client.get("/static/admin/css/base.css")
            assert css.status_code == 200 and "text/css" in css.headers["content-type"]

            login_page = client.get("/admin/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
            response = client.post(
                "/admin/login/?next=/admin/",
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    "username": username,
                    "password": password,
                    "next": "/admin/",
                },
            )
            assert response.status_code == 302 and response.headers["location"] == "/admin/"
            # An editor can notify residents: the admin asks for the printed key's TOTP code.
            second = client.get("/admin/", follow_redirects=True)
            assert second.url.path == "/admin/mfa/verify/"
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', second.text)
            code = totp(base64.b32decode(totp_key))
            response = client.post(
                "/admin/mfa/verify/",
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    "otp_token": f"{code:06d}",
                    "next": "/admin/",
                },
            )
            assert response.status_code == 302 and response.headers["location"] == "/admin/"
            index = client.get("/admin/")
            assert index.status_code == 200 and 'id="logout-form"' in index.text
    finally:
        server.terminate()
        server.wait(timeout=10)
