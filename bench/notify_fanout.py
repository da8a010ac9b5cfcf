"""Push fan-out through real Celery workers: messages/s per worker process, a 100,000-device alert.

    .venv/bin/python -m bench.notify_fanout [--devices 20000] [--repeat 3]
        [--alert-devices 100000] [--alert-repeat 3] [--workers 1] [--concurrency 2]
        [--database-url postgis:///quartier_fanout] [--broker-url redis://127.0.0.1:6379/7]
        [--skip-throughput] [--skip-alert] [--nice N] [--json out.json]

Everything is real but FCM: the database of its own (created and migrated if missing, emptied
at start), Redis as the broker (its database is flushed), ``celery -A backend worker`` processes
(prefork) with ``PUSH_BACKEND=fcm`` sending through firebase-admin to the fake FCM, which runs
as a separate process (``python -m testing.fakefcm``) so that it never shares the worker's GIL.
Devices are inserted with SQL (``testing.pushworker.create_devices``); each measured fan-out is
an *alert* news item published through the services (the notification and its deliveries
commit with the publication, ``dispatch`` is enqueued on commit), reaching every device of
one set through the audience query (places within the item's area).

(a) **throughput per worker process**: one worker, ``--concurrency 1`` (one pool process),
    ``--devices`` devices, ``--repeat`` times after a warm-up alert. Messages/s are deliveries
    sent per second of wall time from the first claim to the last ``sent``; messages per
    CPU-second divide them by the user + system time of the worker's processes over the run.
(b) **a ``--alert-devices`` alert end to end**: ``--workers`` worker(s) of ``--concurrency``
    pool processes each (default one worker with two: two worker processes), from the commit
    of the publication to the last delivery marked ``sent``, ``--alert-repeat`` times.

Every run checks with the fake's counters that each targeted token received the push exactly
once and nobody else anything. Reports medians, per-run figures, the CPU of the fake and of
the PostgreSQL backends of the database, and the load average; ``--json`` writes them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/notify_fanout.py
    sys.path.insert(0, str(ROOT))

TITLE = "Push fan-out through Celery workers (messages/s per worker, 100,000-device alert)"

PREFIX = "fanout-"
CENTRES = {  # three device sets far apart: each alert's area reaches exactly one
    "warm": (4.60, 45.76),
    "throughput": (4.84, 45.76),
    "alert": (5.10, 45.76),
}
WARM_DEVICES = 1_000


@dataclass
class FanoutOptions:
    database_url: str = "postgis:///quartier_fanout"
    broker_url: str = "redis://127.0.0.1:6379/7"
    devices: int = 20_000
    repeat: int = 3
    alert_devices: int = 100_000
    alert_repeat: int = 3
    workers: int = 1
    concurrency: int = 2
    throughput: bool = True
    alert: bool = True
    migrate: bool = True
    nice: int = 0
    timeout_s: float = 900.0


def parse_args(argv: list[str] | None) -> tuple[FanoutOptions, Path | None]:
    defaults = FanoutOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=defaults.database_url, help="emptied first")
    parser.add_argument("--broker-url", default=defaults.broker_url, help="flushed first")
    parser.add_argument("--devices", type=int, default=defaults.devices, help="(a) per run")
    parser.add_argument("--repeat", type=int, default=defaults.repeat, help="(a) runs")
    parser.add_argument("--alert-devices", type=int, default=defaults.alert_devices)
    parser.add_argument("--alert-repeat", type=int, default=defaults.alert_repeat)
    parser.add_argument("--workers", type=int, default=defaults.workers, help="(b) workers")
    parser.add_argument(
        "--concurrency", type=int, default=defaults.concurrency, help="(b) pool size each"
    )
    parser.add_argument("--skip-throughput", action="store_true", help="skip (a)")
    parser.add_argument("--skip-alert", action="store_true", help="skip (b)")
    parser.add_argument(
        "--nice", type=int, default=0, help="niceness of the workers and the fake (root: < 0)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    options = FanoutOptions(
        database_url=args.database_url,
        broker_url=args.broker_url,
        devices=args.devices,
        repeat=args.repeat,
        alert_devices=args.alert_devices,
        alert_repeat=args.alert_repeat,
        workers=args.workers,
        concurrency=args.concurrency,
        throughput=not args.skip_throughput,
        alert=not args.skip_alert,
        nice=args.nice,
    )
    return options, args.json


def postgres_cpu_s(database: str) -> float:
    """CPU seconds so far of the PostgreSQL backends connected to ``database``."""
    import psutil

    total = 0.0
    for process in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            cmdline = " ".join(process.info["cmdline"] or [])
            if process.info["name"] == "postgres" and f" {database} " in f"{cmdline} ":
                times = process.cpu_times()
                total += times.user + times.system
    return total


def process_cpu_s(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def renice(pids: list[int], nice: int) -> None:
    import psutil

    if nice:
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                psutil.Process(pid).nice(nice)


@contextlib.contextmanager
def workers(
    count: int,
    concurrency: int,
    *,
    fake: Any,
    app: Any,
    db_url: str,
    options: FanoutOptions,
    workdir: Path,
) -> Iterator[list[Any]]:
    from testing.pushworker import Worker

    started = []
    try:
        for number in range(count):
            worker = Worker(
                database_url=db_url,
                broker_url=options.broker_url,
                fcm_url=fake.url,
                credentials_file=fake.account,
                name=f"fanout{number}",
                queues="push",
                concurrency=concurrency,
                log_path=workdir / f"worker-{number}-{time.time_ns()}.log",
            )
            started.append(worker.start())
        for worker in started:
            worker.wait_ready(app)
            renice(worker.pids(), options.nice)
        yield started
    finally:
        for worker in started:
            worker.stop()


def fan_out(
    label: str,
    devices: int,
    *,
    fake: Any,
    running: list[Any],
    database: str,
    timeout_s: float,
) -> dict[str, Any]:
    """Publish one alert to the ``label`` set, wait until every delivery is settled, check the
    fake received each token once; return the figures of the run."""
    from testing.pushworker import alert_news, publish, send_window, wait_settled

    fake.reset()
    cpu_before = [sum(worker.cpu_seconds().values()) for worker in running]
    fake_before, pg_before = process_cpu_s(fake.pid), postgres_cpu_s(database)
    load_before = os.getloadavg()[0]
    item = alert_news(CENTRES[label], title=f"Alerte crue ({label})")
    published = publish(item)
    counts = wait_settled(published.notification_id, timeout_s=timeout_s)
    window = send_window(published.notification_id)
    report, report_compute_s = delivery_report(published.notification_id)
    worker_cpu = sum(
        sum(worker.cpu_seconds().values()) - before
        for worker, before in zip(running, cpu_before, strict=True)
    )
    fake_cpu, pg_cpu = process_cpu_s(fake.pid) - fake_before, postgres_cpu_s(database) - pg_before
    stats = fake.stats()
    delivered: dict[str, int] = stats["delivered"]
    problems = []
    if published.targeted != devices or counts != {"sent": devices}:
        problems.append(f"targeted {published.targeted}, deliveries {counts}")
    if len(delivered) != devices or set(delivered.values()) != {1}:
        problems.append(f"fake: {len(delivered)} tokens, counts {sorted(set(delivered.values()))}")
    if any(not token.startswith(f"{PREFIX}{label}-") for token in delivered):
        problems.append("the fake received tokens outside the alert's audience")
    if problems:
        raise RuntimeError(f"{label} fan-out: " + "; ".join(problems))
    sending_s = window["last_sent"] - window["first_claim"]
    end_to_end_s = window["last_sent"] - published.committed_at
    return {
        "devices": devices,
        "publish_s": round(published.publish_s, 3),
        "commit_to_first_claim_s": round(window["first_claim"] - published.committed_at, 3),
        "sending_s": round(sending_s, 3),
        "commit_to_last_sent_s": round(end_to_end_s, 3),
        "msg_per_s": round(devices / sending_s),
        "worker_cpu_s": round(worker_cpu, 2),
        "msg_per_cpu_s": round(devices / worker_cpu) if worker_cpu else None,
        "fake_cpu_s": round(fake_cpu, 2),
        "postgres_cpu_s": round(pg_cpu, 2),
        "fake_requests": stats["requests"],
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        # The crisis cell's delivery report (apps.alerts): seconds from the publication's
        # commit (``Notification.committed_at``) to p % handed over, and its cost.
        **{f"report_p{p}_s": value for p, value in report.items()},
        "report_compute_s": report_compute_s,
    }


def delivery_report(notification_id: int) -> tuple[dict[int, float | None], float]:
    """The report's time to 50/90/99/100 % handed over, and how long the report took."""
    from apps.alerts.report.figures import alert_report
    from apps.notifications.models import Notification

    started = time.perf_counter()
    report = alert_report(Notification.objects.get(pk=notification_id))
    took = round(time.perf_counter() - started, 3)
    reached = {p: None if s is None else round(s, 2) for p, s in report.reached_s.items()}
    if report.raw["sent"] != report.raw["targeted"] or reached[100] is None:
        raise RuntimeError(f"report: {report.raw} {reached}")
    return reached, took


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [run[key] for run in runs if run.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def run(options: FanoutOptions | None = None) -> dict[str, Any]:
    """The benchmark; returns ``{name, title, markdown, figures, targets}`` (run_all)."""
    from bench import machine
    from testing.pushworker import (
        FakeFcmProcess,
        celery_broker,
        create_devices,
        prepare_database,
        setup_django,
        taxonomy,
    )

    options = options or FanoutOptions()
    db_url = setup_django(options.database_url)
    from django.db import connection

    database = connection.settings_dict["NAME"]
    prepare_database(prefixes=(PREFIX,), migrate=options.migrate)
    category, _ = taxonomy()
    sizes = {"warm": WARM_DEVICES}
    if options.throughput:
        sizes["throughput"] = options.devices
    if options.alert:
        sizes["alert"] = options.alert_devices
    started = time.perf_counter()
    for label, size in sizes.items():
        create_devices(
            size, prefix=f"{PREFIX}{label}-", category_id=category.pk, centre=CENTRES[label]
        )
    figures: dict[str, Any] = {
        "options": asdict(options),
        "machine": machine.facts(),
        "devices_created_s": round(time.perf_counter() - started, 2),
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeFcmProcess(Path(tmp)) as fake,
        celery_broker(options.broker_url) as app,
    ):
        renice([fake.pid], options.nice)
        common = {"fake": fake, "database": database, "timeout_s": options.timeout_s}
        if options.throughput:
            with workers(
                1, 1, fake=fake, app=app, db_url=db_url, options=options, workdir=Path(tmp)
            ) as running:
                fan_out("warm", WARM_DEVICES, running=running, **common)
                runs = [
                    fan_out("throughput", options.devices, running=running, **common)
                    for _ in range(options.repeat)
                ]
            figures["throughput"] = {"runs": runs, **_medians(runs)}
        if options.alert:
            with workers(
                options.workers, options.concurrency, fake=fake, app=app, db_url=db_url,
                options=options, workdir=Path(tmp),
            ) as running:  # fmt: skip
                fan_out("warm", WARM_DEVICES, running=running, **common)
                runs = [
                    fan_out("alert", options.alert_devices, running=running, **common)
                    for _ in range(options.alert_repeat)
                ]
            figures["alert"] = {
                "workers": options.workers,
                "concurrency": options.concurrency,
                "runs": runs,
                **_medians(runs),
            }
    figures["machine"]["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    return {
        "name": "fanout",
        "title": TITLE,
        "markdown": render(figures),
        "figures": figures,
        "targets": targets(figures),
    }


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = (
        "msg_per_s",
        "msg_per_cpu_s",
        "sending_s",
        "commit_to_last_sent_s",
        "publish_s",
        "fake_cpu_s",
        "postgres_cpu_s",
        "report_p50_s",
        "report_p90_s",
        "report_p99_s",
        "report_p100_s",
        "report_compute_s",
    )
    return {f"median_{key}": _median(runs, key) for key in keys}


def targets(figures: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    if "throughput" in figures:
        t = figures["throughput"]
        out.append(
            {
                "id": "fanout",
                "target": "fan-out: ≥ 1,000 messages/s per worker process (fake FCM)",
                "status": "met" if (t["median_msg_per_s"] or 0) >= 1000 else "missed",
                "detail": f"median {t['median_msg_per_s']:,.0f} msg/s wall, "
                f"{t['median_msg_per_cpu_s']:,.0f} msg per CPU-second of the worker",
            }
        )
    if "alert" in figures:
        a = figures["alert"]
        devices = figures["options"]["alert_devices"]
        out.append(
            {
                "id": "fanout",
                "target": f"fan-out: a {devices:,}-device alert handed over in ≤ 60 s "
                "with two workers",
                "status": "met" if (a["median_commit_to_last_sent_s"] or 1e9) <= 60 else "missed",
                "detail": f"median {a['median_commit_to_last_sent_s']} s from the commit to the "
                f"last sent ({a['workers']} worker(s) x {a['concurrency']} processes)",
            }
        )
    return out


def render(figures: dict[str, Any]) -> str:
    m = figures["machine"]
    lines = [
        f"machine: {m['nproc']} CPU ({m['cpu']}), load average {m['loadavg']} at start, "
        f"{m.get('loadavg_end')} at the end; devices inserted in {figures['devices_created_s']} s",
    ]
    if "throughput" in figures:
        t = figures["throughput"]
        lines += [
            "",
            "(a) one worker process (prefork, concurrency 1), "
            f"{figures['options']['devices']:,} devices per run:",
            f"  median {t['median_msg_per_s']:,.0f} msg/s (first claim to last sent), "
            f"{t['median_msg_per_cpu_s']:,.0f} msg per CPU-second of the worker; fake FCM "
            f"{t['median_fake_cpu_s']} CPU-s, PostgreSQL {t['median_postgres_cpu_s']} CPU-s "
            "per run",
        ]
        lines += [_run_line(run) for run in t["runs"]]
    if "alert" in figures:
        a = figures["alert"]
        lines += [
            "",
            f"(b) {figures['options']['alert_devices']:,}-device alert, {a['workers']} worker(s) "
            f"x {a['concurrency']} processes:",
            f"  median {a['median_commit_to_last_sent_s']} s from the publication's commit to "
            f"the last delivery sent ({a['median_msg_per_s']:,.0f} msg/s while sending; "
            f"publishing transaction {a['median_publish_s']} s)",
            f"  delivery report (apps.alerts): 50 % handed over at {a['median_report_p50_s']} s, "
            f"90 % {a['median_report_p90_s']} s, 99 % {a['median_report_p99_s']} s, 100 % "
            f"{a['median_report_p100_s']} s from the publication's commit; report computed in "
            f"{a['median_report_compute_s']} s",
        ]
        lines += [_run_line(run) for run in a["runs"]]
    return "\n".join(lines)


def _run_line(run: dict[str, Any]) -> str:
    return (
        f"  run: {run['msg_per_s']:,} msg/s, {run['msg_per_cpu_s']:,} msg/CPU-s, commit to last "
        f"sent {run['commit_to_last_sent_s']} s (publish {run['publish_s']} s, first claim after "
        f"{run['commit_to_first_claim_s']} s), worker CPU {run['worker_cpu_s']} s, fake "
        f"{run['fake_cpu_s']} s, PostgreSQL {run['postgres_cpu_s']} s, load "
        f"{run['load_before']} -> {run['load_after']}"
    )


def quick_options() -> FanoutOptions:
    return FanoutOptions(devices=2_000, repeat=1, alert_devices=4_000, alert_repeat=1)


def main(argv: list[str] | None = None) -> int:
    options, json_path = parse_args(argv)
    result = run(options)
    print(result["markdown"])
    if json_path:
        json_path.write_text(
            json.dumps({**result["figures"], "targets": result["targets"]}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
