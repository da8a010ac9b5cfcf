"""Memory of a Celery worker under a burst of tasks, on the bench city.

    .venv/bin/python bench/celery_rss.py [--tasks 400] [--concurrency 2] [--queue default]
        [--task apps.core.tasks.content_lifecycle_tick ...]

Starts ``celery -A backend worker -Q <queue>`` (prefork, ``--concurrency`` children) on
``--database-url`` with the broker on Redis database 10 (flushed first), measures its idle
RSS, enqueues ``--tasks`` tasks — by default the periodic tasks of the beat schedule in turn
(the real work of the ``default`` queue: content lifecycle, works status, purges, the push
sweeper and reminders; not the nightly training, ``NOT_IN_BURST``) — and samples
the RSS of the main process and of every child every 0.2 s until the queue is drained. Reports
the peak RSS per process and in total, and the tasks per second. ``--queue push`` with the
notifications' task names measures a push worker the same way once they land. ``run()`` is
the entry point of ``bench/run_all.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/celery_rss.py
    sys.path.insert(0, str(ROOT))

TITLE = "Celery worker memory under a burst"

#: Nightly jobs left out of the default burst: training reads the whole interaction log for
#: minutes (its memory is the trainer's, measured by ``train_recommender``), and 400 tasks
#: cycling through the schedule would run it dozens of times.
NOT_IN_BURST = frozenset({"apps.recommend.tasks.recommender_train_nightly"})


@dataclass
class CeleryOptions:
    database_url: str = "postgis:///quartier_bench"
    broker_url: str = "redis://127.0.0.1:6379/10"
    cache_url: str = "redis://127.0.0.1:6379/9"
    queue: str = "default"
    concurrency: int = 2
    tasks: int = 400
    task_names: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> CeleryOptions:
    defaults = CeleryOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=defaults.database_url)
    parser.add_argument("--broker-url", default=defaults.broker_url, help="flushed first")
    parser.add_argument("--cache-url", default=defaults.cache_url)
    parser.add_argument("--queue", default=defaults.queue)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--tasks", type=int, default=defaults.tasks)
    parser.add_argument("--task", action="append", dest="task_names", default=[])
    return CeleryOptions(**vars(parser.parse_args(argv)))


def _environment(options: CeleryOptions) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DATABASE_URL": options.database_url,
        "CELERY_BROKER_URL": options.broker_url,
        "CACHE_URL": options.cache_url,
        "LOG_LEVEL": "WARNING",
        # Production settings refuse the default key and a silent push backend
        # (apps/core/checks.py); these workers send no pushes.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PUSH_BACKEND": "log",
    }


def _celery_app(options: CeleryOptions) -> Any:
    os.environ.update(_environment(options))
    import django

    django.setup()
    from backend.celery import app

    return app


def _rss(main: psutil.Process) -> dict[int, int]:
    out: dict[int, int] = {}
    for process in [main, *main.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            out[process.pid] = process.memory_info().rss
    return out


def _wait_ready(app: Any, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if app.control.ping(timeout=1.0):
            return
    raise RuntimeError("the Celery worker did not answer a ping")


def run(options: CeleryOptions | None = None) -> dict[str, Any]:
    """Run the burst; return ``{name, title, markdown, figures, targets}`` (run_all)."""
    import redis

    options = options or CeleryOptions()
    broker = redis.Redis.from_url(options.broker_url)
    broker.flushdb()
    app = _celery_app(options)
    names = options.task_names or sorted(
        {e["task"] for e in app.conf.beat_schedule.values()} - NOT_IN_BURST
    )
    command = [
        sys.executable, "-m", "celery", "-A", "backend", "worker", "-Q", options.queue,
        "--pool", "prefork", "--concurrency", str(options.concurrency), "-l", "WARNING",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    worker = subprocess.Popen(
        command, cwd=ROOT, env=_environment(options), stdout=subprocess.DEVNULL
    )
    try:
        _wait_ready(app)
        main = psutil.Process(worker.pid)
        time.sleep(1.0)
        idle = _rss(main)
        peaks = dict(idle)
        started = time.time()
        for index in range(options.tasks):
            app.send_task(names[index % len(names)], queue=options.queue)
        while broker.llen(options.queue) or broker.hlen("unacked"):
            for pid, rss in _rss(main).items():
                peaks[pid] = max(peaks.get(pid, 0), rss)
            time.sleep(0.2)
        elapsed = time.time() - started
    finally:
        worker.terminate()
        worker.wait(30)
    return _result(options, names, idle, peaks, elapsed, main_pid=worker.pid)


def _result(
    options: CeleryOptions,
    names: list[str],
    idle: dict[int, int],
    peaks: dict[int, int],
    elapsed: float,
    *,
    main_pid: int,
) -> dict[str, Any]:
    mib = 2**20
    children = [rss / mib for pid, rss in peaks.items() if pid != main_pid]
    figures = {
        "queue": options.queue,
        "concurrency": options.concurrency,
        "tasks": options.tasks,
        "task_names": names,
        "seconds": round(elapsed, 2),
        "tasks_per_second": round(options.tasks / elapsed, 1) if elapsed else None,
        "idle_rss_mib": round(sum(idle.values()) / mib, 1),
        "main_peak_rss_mib": round(peaks.get(main_pid, 0) / mib, 1),
        "child_peak_rss_mib": round(max(children, default=0), 1),
        "total_peak_rss_mib": round(sum(peaks.values()) / mib, 1),
    }
    markdown = (
        f"`celery -A backend worker -Q {options.queue} --concurrency {options.concurrency}` "
        f"(prefork) on the bench city: {options.tasks} tasks ({', '.join(names)}) in "
        f"{figures['seconds']} s ({figures['tasks_per_second']} tasks/s).\n\n"
        "| process | peak RSS (MiB) |\n|---|---:|\n"
        f"| main (consumer) | {figures['main_peak_rss_mib']} |\n"
        f"| each pool child, at most | {figures['child_peak_rss_mib']} |\n"
        f"| worker in total (idle: {figures['idle_rss_mib']}) | {figures['total_peak_rss_mib']} |"
    )
    return {"name": "celery_rss", "title": TITLE, "markdown": markdown, "figures": figures,
            "targets": []}  # fmt: skip


def quick_options() -> CeleryOptions:
    """A short run for ``run_all.py --quick``."""
    return CeleryOptions(tasks=100)


def main(argv: list[str] | None = None) -> int:
    outcome = run(parse_args(argv))
    print(f"## {outcome['title']}\n\n{outcome['markdown']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
