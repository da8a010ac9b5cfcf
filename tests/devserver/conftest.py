"""A live demo server started exactly as a developer starts it: `make run HOST=0.0.0.0 PORT=…`.

It serves the embedded SpatiaLite demo (migrate + seed_demo) from a throwaway var directory,
with DJANGO_DEBUG on and no DATABASE_URL, broker or cache: what `make run` gives on a laptop.
`make -o .venv/.requirements` only skips re-installing the shared virtualenv from the lock
file; everything else is the target as written. Started once per session, stopped by its
process group.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The variables of the test run that `make run` must not inherit (tests use PostGIS).
NOT_INHERITED = (
    "DATABASE_URL",
    "CACHE_URL",
    "CELERY_BROKER_URL",
    "DJANGO_SETTINGS_MODULE",
    "SITE_URL",
    "SITE_URL_FROM_REQUEST",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_DEBUG",
    "API_THROTTLE_RATES",
    "CORS_ALLOWED_ORIGINS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)
START_TIMEOUT_S = 240


@dataclass(frozen=True)
class DemoServer:
    port: int
    var_dir: Path
    env: dict[str, str]
    log: Path

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory) -> Iterator[DemoServer]:
    var_dir = tmp_path_factory.mktemp("demo-var")
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env["QUARTIER_VAR_DIR"] = str(var_dir)
    port = free_port()
    log = var_dir / "make-run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", "-o", ".venv/.requirements", "run", "HOST=0.0.0.0", f"PORT={port}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DemoServer(port=port, var_dir=var_dir, env={**env, "DJANGO_DEBUG": "1"}, log=log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"make run exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{server.url()}/api/v1/health/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"make run not serving after {START_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
