"""Real push workers for tests and benchmarks: Celery worker and fake FCM subprocesses, devices.

- ``FakeFcmProcess``: ``python -m testing.fakefcm`` in its own process (so that it never competes
  with the worker for the GIL), driven over its control routes (``/_stats``, ``/_faults``).
- ``Worker``: ``celery -A backend worker`` on the ``push`` (and ``default``) queues in its own
  session, with the real FCM gateway (``PUSH_BACKEND=fcm``) pointed at a fake; ``kill9()``
  kills it and its pool children at once, as a crash would.
- ``celery_broker``: point this process's Celery app at a real broker, so that
  ``dispatch.delay`` on commit goes to Redis instead of running eagerly (the test settings
  run tasks eagerly).
- ``create_devices``: N pushable devices, each with a home place and a followed category, in a
  few ``INSERT … SELECT generate_series`` statements (100,000 in a few seconds).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent

#: Everything a push worker needs beyond these comes from ``backend.settings`` defaults.
WORKER_SETTINGS = "backend.settings"


class FakeFcmProcess:
    """The fake FCM server in a subprocess, with a throwaway service account it trusts."""

    def __init__(self, workdir: Path, *, keep_messages: int = 0) -> None:
        self.workdir = workdir
        self.account = workdir / "fcm-service-account.json"
        self.keep_messages = keep_messages
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> FakeFcmProcess:
        command = [
            sys.executable, "-m", "testing.fakefcm", "--port", "0",
            "--keep-messages", str(self.keep_messages), "--service-account", str(self.account),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the fake FCM did not start: {line!r}")
        self.url = match.group(1)
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _client(self) -> Any:
        import httpx

        return httpx.Client(base_url=self.url, timeout=120)

    def stats(self, *, tokens: bool = True, messages: int = 0) -> dict[str, Any]:
        with self._client() as client:
            response = client.get("/_stats", params={"tokens": int(tokens), "messages": messages})
            response.raise_for_status()
            return dict(response.json())

    def set_faults(self, **changes: Any) -> dict[str, Any]:
        with self._client() as client:
            response = client.post("/_faults", json=changes)
            response.raise_for_status()
            return dict(response.json())

    def storm(self, status: int, duration_s: float, retry_after_s: int | None = None) -> None:
        self.set_faults(
            storm={"status": status, "duration_s": duration_s, "retry_after_s": retry_after_s}
        )

    def reset(self) -> None:
        with self._client() as client:
            client.post("/_reset").raise_for_status()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> FakeFcmProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Worker:
    """One ``celery -A backend worker`` process (and its pool children), sending to a fake FCM.

    ``pool`` is ``prefork`` (the production pool: ``concurrency`` children) or ``solo`` (the
    tasks run in the main process). ``env`` adds or overrides environment variables, e.g.
    ``NOTIFY_STUCK_SENDING_S``.
    """

    database_url: str
    broker_url: str
    fcm_url: str
    credentials_file: Path
    name: str = "push"
    queues: str = "push,default"
    pool: str = "prefork"
    concurrency: int = 1
    log_path: Path | None = None
    log_level: str = "WARNING"
    env: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.nodename = f"{self.name}-{os.getpid()}-{id(self)}@localhost"

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
        return {
            **keep,
            "DJANGO_SETTINGS_MODULE": WORKER_SETTINGS,
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.broker_url,
            "PUSH_BACKEND": "fcm",
            # Production settings refuse the default key (apps/core/checks.py): one per run.
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "FCM_CREDENTIALS_FILE": str(self.credentials_file),
            "FCM_ENDPOINT": self.fcm_url,
            "LOG_LEVEL": self.log_level,
            "PYTHONUNBUFFERED": "1",
            **(self.env or {}),
        }

    def start(self) -> Worker:
        command = [
            sys.executable, "-m", "celery", "-A", "backend", "worker",
            "-Q", self.queues, "--pool", self.pool, "--concurrency", str(self.concurrency),
            "-n", self.nodename, "-l", self.log_level,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        if self.log_path is not None:
            self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.environment(),
            stdout=self._log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill9() takes the children too
        )
        return self

    def wait_ready(self, app: Any, timeout_s: float = 60.0) -> float:
        """Wait until the worker answers a ping; return how long it took."""
        started = time.monotonic()
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited:\n{self.log_tail()}")
            if app.control.ping(destination=[self.nodename], timeout=0.5):
                return time.monotonic() - started
        raise RuntimeError(f"the Celery worker did not answer a ping:\n{self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def pids(self) -> list[int]:
        """The main process and its pool children."""
        import psutil

        if not self.alive:
            return []
        assert self.process is not None
        try:
            main = psutil.Process(self.process.pid)
            return [main.pid, *(child.pid for child in main.children(recursive=True))]
        except psutil.Error:
            return []

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU seconds of each live process of the worker, by pid."""
        import psutil

        out: dict[int, float] = {}
        for pid in self.pids():
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                out[pid] = times.user + times.system
        return out

    def kill9(self) -> None:
        """SIGKILL the worker and its children at once (a crash, an OOM kill, a lost VM)."""
        self._signal(signal.SIGKILL)
        self._wait(10)

    def stop(self, timeout_s: float = 15.0) -> None:
        """Warm shutdown (the running task finishes), then SIGKILL whatever is left."""
        if self.alive:
            self._signal(signal.SIGTERM)
            if not self._wait(timeout_s):
                self._signal(signal.SIGKILL)
                self._wait(10)
        else:
            self._signal(signal.SIGKILL)  # orphaned children of a dead main process, if any
        if self._log is not None:
            self._log.close()
            self._log = None

    def _signal(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def _wait(self, timeout_s: float) -> bool:
        assert self.process is not None
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            return False
        return True

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _reset_pools(app: Any) -> None:
    """Forget the broker connections of ``app`` (they belong to the previous broker URL)."""
    from kombu import pools

    # kombu keeps one pool per connection in a process-wide registry: closing ours alone
    # would leave a closed pool there for the next use of the same URL.
    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextlib.contextmanager
def celery_broker(broker_url: str, *, flush: bool = True) -> Iterator[Any]:
    """Send this process's tasks to ``broker_url`` (a Redis URL) instead of running them.

    Sets the Celery app's broker and turns eager mode off (and ``CELERY_TASK_ALWAYS_EAGER``,
    which ``apps.notifications.enqueue`` reads, with it); restores both on exit. ``flush``
    empties the Redis database first and on exit: queues left by an earlier run would be sent
    again.
    Yields the Celery app.
    """
    import redis
    from django.conf import settings

    from backend.celery import app

    client = redis.Redis.from_url(broker_url)
    if flush:
        client.flushdb()
    before = {key: app.conf[key] for key in ("broker_url", "task_always_eager")}
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    _reset_pools(app)
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield app
    finally:
        _reset_pools(app)
        app.conf.update(before)
        settings.CELERY_TASK_ALWAYS_EAGER = eager
        if flush:
            client.flushdb()
        client.close()


# --------------------------------------------------------------------------------------------
# Devices
# --------------------------------------------------------------------------------------------

#: Where benchmark devices live: around this grid point, within about 2 km.
CENTRE = (4.8357, 45.7640)


def create_devices(
    count: int,
    *,
    prefix: str,
    category_id: int,
    centre: tuple[float, float] = CENTRE,
    grid: tuple[int, int] = (41, 31),
    radius_m: int = 500,
    english_share: int = 10,
) -> int:
    """Insert ``count`` pushable devices with unique push tokens ``<prefix><n>:APA91b…``, a home
    place each and a follow of ``category_id``; one device in ``english_share`` speaks English.

    Places sit on the 0.001° grid around ``centre``, spread over ``grid`` (columns, rows) of
    cells (the default: about 3.2 by 3.4 km), radius ``radius_m``. Returns the number of devices
    inserted; device number n (1-based) has the token ``token_for(prefix, n)``.
    """
    from django.db import connection, transaction

    lon, lat = centre
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO residents_device (
                platform, token_hash, push_token, push_token_active, push_token_updated_at,
                language, timezone, notifications_enabled, quiet_hours_start, quiet_hours_end,
                max_pushes_per_day, min_urgency, personalization_consent,
                personalization_consent_at, remind_saved_events, remind_works_near_home,
                created_at, last_seen_at)
            SELECT CASE WHEN g %% 3 = 0 THEN 'ios' ELSE 'android' END,
                   encode(sha256(convert_to(%(prefix)s || g || ':bearer', 'UTF8')), 'hex'),
                   %(prefix)s || lpad(g::text, 7, '0') || ':APA91b' || md5(%(prefix)s || g),
                   true, now(),
                   CASE WHEN g %% %(english)s = 0 THEN 'en' ELSE 'fr' END, 'Europe/Paris', true,
                   NULL, NULL, 10, 0, false, NULL, true, true, now(), now()
            FROM generate_series(1, %(count)s) AS g
            """,
            {"prefix": prefix, "count": count, "english": max(1, english_share)},
        )
        inserted = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO residents_place (device_id, label, name, location, radius_m,
                                         created_at, updated_at)
            SELECT d.id, 'home', '',
                   ST_SetSRID(ST_MakePoint(
                       round((%(lon)s + (d.id %% %(cols)s - %(cols)s / 2) * 0.001)::numeric, 3),
                       round((%(lat)s + (d.id %% %(rows)s - %(rows)s / 2) * 0.001)::numeric, 3)),
                   4326),
                   %(radius)s, now(), now()
            FROM residents_device d WHERE d.push_token LIKE %(like)s
            """,
            {
                "lon": lon,
                "lat": lat,
                "cols": grid[0],
                "rows": grid[1],
                "radius": radius_m,
                "like": prefix.replace("_", r"\_") + "%",
            },
        )
        cursor.execute(
            """
            INSERT INTO residents_categoryfollow (device_id, category_id, created_at)
            SELECT d.id, %(category)s, now()
            FROM residents_device d WHERE d.push_token LIKE %(like)s
            """,
            {"category": category_id, "like": prefix.replace("_", r"\_") + "%"},
        )
        cursor.execute("ANALYZE residents_device")
        cursor.execute("ANALYZE residents_place")
        cursor.execute("ANALYZE residents_categoryfollow")
    return inserted


def database_url(settings_dict: dict[str, Any]) -> str:
    """A ``DATABASE_URL`` for another process, from a Django connection's ``settings_dict``."""
    from urllib.parse import quote

    user = quote(str(settings_dict.get("USER") or ""), safe="")
    password = quote(str(settings_dict.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(settings_dict.get("HOST") or "")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgis://{auth}{host}{port}/{settings_dict['NAME']}"


def token_for(prefix: str, n: int) -> str:
    """The push token ``create_devices`` gave to device number ``n`` (1-based)."""
    import hashlib

    return f"{prefix}{n:07d}:APA91b" + hashlib.md5(f"{prefix}{n}".encode()).hexdigest()


# --------------------------------------------------------------------------------------------
# A benchmark database of its own, alert items, waiting for a fan-out to settle
# --------------------------------------------------------------------------------------------


def setup_django(url: str) -> str:
    """Configure Django on the database ``url`` unless it already is (a test process: its test
    database); return the ``DATABASE_URL`` of the database in use, for worker processes."""
    from django.apps import apps

    if not apps.ready:
        os.environ["DJANGO_SETTINGS_MODULE"] = WORKER_SETTINGS
        os.environ["DATABASE_URL"] = url
        os.environ["CELERY_BROKER_URL"] = ""  # this process enqueues through celery_broker
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import django

        django.setup()
    from django.db import connection

    return database_url(connection.settings_dict)


def prepare_database(*, prefixes: tuple[str, ...], migrate: bool = True) -> None:
    """Create the configured database if missing, migrate it, and empty what a previous run
    left (devices, notifications, news). Refuses a database holding devices whose push token
    does not start with one of ``prefixes``: it is not a benchmark's own."""
    from django.core.management import call_command
    from django.db import connection

    if migrate:
        _create_database(connection.settings_dict)
        call_command("migrate", verbosity=0, interactive=False)
    likes = [p.replace("_", r"\_") + "%" for p in prefixes]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM residents_device "
            "WHERE push_token IS NULL OR NOT (push_token LIKE ANY(%s))",
            [likes],
        )
        (foreign,) = cursor.fetchone()
        if foreign:
            raise RuntimeError(
                f"{connection.settings_dict['NAME']} holds {foreign} devices that no notification "
                "benchmark made: refusing to empty it. Give the benchmark a database of its own."
            )
        cursor.execute(
            "TRUNCATE residents_device, notifications_notification, news_news RESTART "
            "IDENTITY CASCADE"
        )


def _create_database(settings_dict: dict[str, Any]) -> None:
    import psycopg
    import psycopg.conninfo
    from psycopg import sql

    params = {
        "dbname": "postgres",
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
    }
    name = settings_dict["NAME"]
    conninfo = psycopg.conninfo.make_conninfo("", **{k: v for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def square(centre: tuple[float, float], half_deg: float) -> Any:
    from django.contrib.gis.geos import MultiPolygon, Polygon

    lon, lat = centre
    ring = (
        (lon - half_deg, lat - half_deg),
        (lon + half_deg, lat - half_deg),
        (lon + half_deg, lat + half_deg),
        (lon - half_deg, lat + half_deg),
        (lon - half_deg, lat - half_deg),
    )
    return MultiPolygon(Polygon(ring), srid=4326)


def taxonomy() -> tuple[Any, Any]:
    """The category and organization of benchmark items (created once)."""
    from apps.core.models import Category, Organization

    category, _ = Category.objects.get_or_create(
        slug="alerte-bench", defaults={"name_fr": "Alerte", "name_en": "Alert"}
    )
    organization, _ = Organization.objects.get_or_create(
        slug="ville-bench", defaults={"name": "Ville"}
    )
    return category, organization


def alert_news(centre: tuple[float, float], *, title: str, half_deg: float = 0.05) -> Any:
    """A draft news item of urgency *alert* with ``notify``, over a square around ``centre``."""
    from apps.core.models import Urgency
    from apps.news.models import News

    category, organization = taxonomy()
    return News.objects.create(
        title=title,
        title_en=title,
        summary="Montée des eaux : évitez les quais et les parkings souterrains.",
        summary_en="Rising water: keep away from the embankments and underground car parks.",
        category=category,
        organization=organization,
        urgency=Urgency.ALERT,
        notify=True,
        geometry=square(centre, half_deg),
    )


@dataclass
class Published:
    notification_id: int
    targeted: int
    publish_s: float  # the publishing transaction (audience inserted), commit included
    committed_at: float  # time.time() right after the commit


def publish(item: Any) -> Published:
    """Publish ``item`` (its notification and deliveries commit with it; dispatch is enqueued
    on commit) and time it."""
    from django.db import transaction

    from apps.core.services import content_publish
    from apps.notifications.models import Notification

    committed: list[float] = []
    started = time.perf_counter()
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # before dispatch's
        content_publish(item=item)
    publish_s = time.perf_counter() - started
    notification = Notification.objects.get(item_type=item.type_code, item_id=item.pk)
    return Published(notification.pk, notification.targeted, publish_s, committed[0])


def delivery_counts(notification_id: int) -> dict[str, int]:
    from django.db.models import Count

    from apps.notifications.models import Delivery

    rows = (
        Delivery.objects.filter(notification_id=notification_id)
        .values("status")
        .annotate(n=Count("id"))
    )
    return {row["status"]: row["n"] for row in rows}


def wait_settled(
    notification_id: int,
    *,
    timeout_s: float,
    poll_s: float = 0.5,
    on_poll: Any = None,
) -> dict[str, int]:
    """Wait until no delivery of the notification is pending, held or sending; return the
    counts by status. ``on_poll()`` runs at every poll (e.g. the sweeper, as beat would)."""
    deadline = time.monotonic() + timeout_s
    while True:
        counts = delivery_counts(notification_id)
        if not any(counts.get(s) for s in ("pending", "held", "sending")):
            return counts
        if time.monotonic() > deadline:
            raise TimeoutError(f"deliveries still open after {timeout_s} s: {counts}")
        if on_poll is not None:
            on_poll()
        time.sleep(poll_s)


def send_window(notification_id: int) -> dict[str, float]:
    """Epoch seconds of the first claim and of the last ``sent`` of the notification."""
    from django.db.models import Max, Min

    from apps.notifications.models import Delivery

    window = Delivery.objects.filter(notification_id=notification_id).aggregate(
        first_claim=Min("claimed_at"), last_sent=Max("sent_at")
    )
    return {key: value.timestamp() for key, value in window.items() if value is not None}
