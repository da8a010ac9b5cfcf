"""gunicorn under test (``bench.settings``): started on the bench database, watched, stopped."""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ServerConfig:
    database_url: str
    cache_url: str
    port: int
    workers: int = 2
    threads: int = 4
    #: Niceness of gunicorn (and locust): negative on a machine shared with other work.
    nice: int = 0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def database_name(self) -> str:
        from bench.machine import database_settings

        return str(database_settings(self.database_url)["NAME"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": self.database_url,
            "CACHE_URL": self.cache_url,
            "CELERY_BROKER_URL": "",
            "DJANGO_DEBUG": "0",
            # Production settings refuse the default key and a silent push backend
            # (apps/core/checks.py); this server sends no pushes.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "PUSH_BACKEND": "log",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "API_DIAGNOSTICS": "1",
            # Residents reach the app through a proxy: each request carries its own client
            # address, so per-IP throttles (history of that IP) cost what they cost in reality.
            "API_NUM_PROXIES": "1",
            # The registration limits (per address, all together), raised so that a long run
            # never trips them.
            "API_THROTTLE_RATES": "registration=100000/hour,registration_all=100000/min",
            "SITE_URL": self.url,
            "LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            "GUNICORN_LOGLEVEL": "warning",
            # No recycling of workers mid-run: a respawn would be measured as a hiccup.
            "GUNICORN_MAX_REQUESTS": "0",
        }
        env.pop("GUNICORN_ACCESSLOG", None)
        env.update(self.extra_env)
        return env


class Sampler(threading.Thread):
    """Samples the RSS and CPU time of gunicorn's master and workers every ``interval`` s."""

    def __init__(self, master_pid: int, database: str = "", interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.master = psutil.Process(master_pid)
        self.database = database
        self.interval = interval
        #: (time, CPU seconds per PostgreSQL backend serving ``database``)
        self.db_samples: list[tuple[float, dict[int, float]]] = []
        #: (time, CPU seconds per worker pid, RSS bytes per worker pid)
        self.samples: list[tuple[float, dict[int, float], dict[int, int]]] = []
        self._halt = threading.Event()

    def workers(self) -> list[psutil.Process]:
        try:
            return self.master.children(recursive=True)
        except psutil.Error:
            return []

    def sample(self) -> tuple[float, dict[int, float], dict[int, int]]:
        cpu: dict[int, float] = {}
        rss: dict[int, int] = {}
        for process in self.workers():
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                cpu[process.pid] = times.user + times.system
                rss[process.pid] = process.memory_info().rss
        return time.time(), cpu, rss

    def backends(self) -> dict[int, float]:
        """CPU seconds of the PostgreSQL backends connected to the bench database."""
        out: dict[int, float] = {}
        if not self.database:
            return out
        for process in psutil.process_iter(["name", "cmdline"]):
            with contextlib.suppress(psutil.Error):
                words = " ".join(process.info["cmdline"] or []).split()
                if words[:1] == ["postgres:"] and self.database in words:
                    times = process.cpu_times()
                    out[process.pid] = times.user + times.system
        return out

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append(self.sample())
            self.db_samples.append((time.time(), self.backends()))
            self._halt.wait(self.interval)

    def db_cpu_between(self, start: float, end: float) -> float | None:
        """CPU seconds the bench database's backends used between two times."""
        inside = [cpu for t, cpu in self.db_samples if start <= t <= end]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        return sum(used - first.get(pid, 0.0) for pid, used in last.items())

    def stop(self) -> None:
        self._halt.set()
        self.join(5)

    def cpu_between(self, start: float, end: float) -> float | None:
        """Worker CPU seconds used between two wall-clock times (nearest samples).

        Summed per process, so a worker replaced meanwhile counts from its start.
        """
        inside = [cpu for t, cpu, _rss in self.samples if start <= t <= end]
        if len(inside) < 2:
            return None
        first, last = inside[0], inside[-1]
        return sum(used - first.get(pid, 0.0) for pid, used in last.items())

    def rss_between(self, start: float, end: float) -> int:
        """The largest worker RSS (bytes) seen between two times."""
        values = [max(rss.values(), default=0) for t, _c, rss in self.samples if start <= t <= end]
        return max(values, default=0)

    def memory_now(self) -> dict[str, Any]:
        """RSS and USS (pages the process alone holds) of every worker, in MiB."""
        out = []
        for process in self.workers():
            with contextlib.suppress(psutil.Error):
                full = process.memory_full_info()
                out.append(
                    {"pid": process.pid, "rss_mib": full.rss / 2**20, "uss_mib": full.uss / 2**20}
                )
        return {"workers": out}


def niceness(value: int) -> Any:
    """A ``preexec_fn`` setting the child's niceness (negative values need root)."""
    if not value:
        return None
    return lambda: os.nice(value)


def wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    last: Exception | None = None
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/v1/health/", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = exc
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not become healthy at {url}: {last}")


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextlib.contextmanager
def gunicorn(config: ServerConfig, log_path: Path) -> Iterator[Sampler]:
    """Run gunicorn until the block ends; yields its sampler (started)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "backend.wsgi"],
            cwd=ROOT,
            env=config.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=niceness(config.nice),
        )
        sampler = Sampler(process.pid, database=config.database_name)
        try:
            wait_healthy(config.url)
            sampler.start()
            yield sampler
        finally:
            sampler.stop()
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
