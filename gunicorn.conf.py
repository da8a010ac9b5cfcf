"""gunicorn settings for Quartier: ``gunicorn -c gunicorn.conf.py backend.wsgi``.

Every value can be changed by an environment variable, or in ``.env`` like the settings
(docs/deploy.md explains the sizing):

- ``GUNICORN_BIND`` (``127.0.0.1:8000``): behind a reverse proxy that terminates HTTPS.
- ``GUNICORN_WORKERS`` (or ``WEB_CONCURRENCY``; default: one per CPU core). Python runs one
  request at a time per process (the GIL), so processes are what use the cores.
- ``GUNICORN_THREADS`` (``4``): ``gthread`` workers overlap a request's waits on PostgreSQL
  and Redis with another request's Python work; beyond ~4 threads a process only queues more.
  Each thread keeps its own PostgreSQL connection (``DATABASE_CONN_MAX_AGE``), so the database
  sees workers x threads connections per machine.
- ``GUNICORN_TIMEOUT`` (``30`` s): a worker whose heartbeat stops this long is killed. With
  ``gthread`` the heartbeat comes from the worker's main loop, so it does not bound a request:
  the deadline is the proxy's ``proxy_read_timeout`` and PostgreSQL's ``statement_timeout``
  (docs/deploy.md, "Where the request deadline comes from").
- ``GUNICORN_KEEPALIVE`` (``5`` s).
- ``GUNICORN_MAX_REQUESTS`` (``5000``, ± 10 % jitter): a worker is replaced after that many
  requests, which bounds slow memory growth without restarting all workers at once.
- ``GUNICORN_ACCESSLOG``: a path or ``-`` for stdout; unset → no access log (the proxy has one).
  Either way, positions in query strings are redacted (``logger_class`` below).
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import environ

# The same .env as the settings (backend/settings.py), read before the values below.
if (Path(__file__).with_name(".env")).exists():
    environ.Env.read_env(Path(__file__).with_name(".env"))


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = _int("GUNICORN_WORKERS", _int("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = 30
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
# Load Django once in the master: workers share its memory pages (copy-on-write) and start
# fast. No database connection is opened at import time, so none is shared across the fork.
preload_app = True
# The heartbeat file lives in memory (a slow disk can make the arbiter kill healthy workers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# Access log lines keep no position: lat/lon/near/bbox values become "~", other decimals are
# cut to about 1 km (backend/access_log.py, docs/privacy.md).
logger_class = "backend.access_log.RedactingGunicornLogger"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
proc_name = "quartier-web"
