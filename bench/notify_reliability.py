"""Reliability of the push pipeline: a worker killed mid-fan-out, then an FCM 503/429 storm.

    .venv/bin/python -m bench.notify_reliability [--devices 20000] [--storm-seconds 30]
        [--retry-after 5] [--concurrency 2] [--database-url postgis:///quartier_reliability]
        [--broker-url redis://127.0.0.1:6379/7] [--json out.json]

Real parts as in ``bench.notify_fanout``: a database of its own (created, migrated, emptied),
Redis, ``celery -A backend worker`` (prefork, ``--concurrency`` pool processes) sending through
firebase-admin to the fake FCM in its own process. ``--devices`` devices get an alert, twice:

1. **kill -9**: once the fake has accepted ``--kill-at`` (half) of the pushes, the worker and
   its pool processes get SIGKILL at once, and a new worker starts. The sweeper runs every
   ``--sweep-every`` seconds in this process, as beat would run ``sweep_tick``, with
   ``NOTIFY_STUCK_SENDING_S`` / ``NOTIFY_STUCK_PENDING_S`` small (``--stuck-sending``,
   ``--stuck-pending``): the batches the dead worker held in ``sending`` go back to pending
   and out again. Checked with the fake's per-token counts: every targeted device received
   the push (none lost), nobody else; duplicates at most one in-flight batch per pool process
   (500 x concurrency), each carrying the alert's tag (the phone shows it once).
2. **storm**: the fake answers every send with 503 for the first half of ``--storm-seconds``
   and 429 for the second, both with ``Retry-After: --retry-after``, while the alert goes out.
   Checked: every delivery ends ``sent`` (none failed for too many attempts), every device got
   the push after the storm, and no retry of a token reached the fake sooner than the
   ``Retry-After`` its previous answer carried (the fake times each token's attempts).

Prints a report of each check; ``--json`` writes the figures (``ok`` is true when all pass).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/notify_reliability.py
    sys.path.insert(0, str(ROOT))

TITLE = "Push reliability: worker killed mid-fan-out, FCM 503/429 storm"
PREFIX = "relia-"
CENTRE = (4.84, 45.76)
BATCH = 500


@dataclass
class ReliabilityOptions:
    database_url: str = "postgis:///quartier_reliability"
    broker_url: str = "redis://127.0.0.1:6379/7"
    devices: int = 20_000
    storm_seconds: float = 30.0
    retry_after: int = 5
    concurrency: int = 2
    kill_at: float = 0.5
    stuck_sending_s: int = 10
    stuck_pending_s: int = 30
    sweep_every_s: float = 2.0
    migrate: bool = True
    timeout_s: float = 600.0


def parse_args(argv: list[str] | None) -> tuple[ReliabilityOptions, Path | None]:
    d = ReliabilityOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=d.database_url, help="emptied first")
    parser.add_argument("--broker-url", default=d.broker_url, help="flushed first")
    parser.add_argument("--devices", type=int, default=d.devices)
    parser.add_argument("--storm-seconds", type=float, default=d.storm_seconds)
    parser.add_argument("--retry-after", type=int, default=d.retry_after, help="seconds")
    parser.add_argument("--concurrency", type=int, default=d.concurrency, help="pool processes")
    parser.add_argument("--kill-at", type=float, default=d.kill_at, help="share sent, 0-1")
    parser.add_argument("--stuck-sending", type=int, default=d.stuck_sending_s, help="seconds")
    parser.add_argument("--stuck-pending", type=int, default=d.stuck_pending_s, help="seconds")
    parser.add_argument("--sweep-every", type=float, default=d.sweep_every_s, help="seconds")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if not 0 < args.kill_at < 1:
        parser.error("--kill-at must be between 0 and 1")
    options = ReliabilityOptions(
        database_url=args.database_url,
        broker_url=args.broker_url,
        devices=args.devices,
        storm_seconds=args.storm_seconds,
        retry_after=args.retry_after,
        concurrency=args.concurrency,
        kill_at=args.kill_at,
        stuck_sending_s=args.stuck_sending,
        stuck_pending_s=args.stuck_pending,
        sweep_every_s=args.sweep_every,
    )
    return options, args.json


class Sweeper:
    """``services.deliveries_sweep()`` every ``every_s`` seconds when called (beat's
    ``sweep_tick``)."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.next_at = 0.0
        self.runs = 0
        self.totals: Counter[str] = Counter()

    def __call__(self) -> None:
        from apps.notifications import services

        if time.monotonic() >= self.next_at:
            self.totals.update(services.deliveries_sweep())
            self.runs += 1
            self.next_at = time.monotonic() + self.every_s

    def figures(self) -> dict[str, Any]:
        return {"runs": self.runs, **self.totals}


@contextlib.contextmanager
def _settings(**values: Any) -> Iterator[None]:
    """The sweeper runs in this process: give it the benchmark's thresholds."""
    from django.conf import settings

    before = {name: getattr(settings, name) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(settings, name, value)


def _check(checks: list[dict[str, Any]], name: str, ok: bool, detail: str) -> None:
    checks.append({"check": name, "ok": bool(ok), "detail": detail})


def _delivered(fake: Any, keep: int) -> tuple[dict[str, int], dict[str, Any], list[dict]]:
    stats = fake.stats(messages=keep)
    return stats.pop("delivered"), stats, stats.pop("messages", [])


def kill_phase(
    options: ReliabilityOptions, *, fake: Any, start_worker: Any, sweeper: Sweeper, keep: int
) -> tuple[dict[str, Any], Any]:
    """Kill the worker mid-fan-out, restart it; return the figures and the running worker."""
    from testing.pushworker import alert_news, delivery_counts, publish, token_for, wait_settled

    fake.reset()
    worker = start_worker()
    published = publish(alert_news(CENTRE, title="Alerte crue (kill -9)"))
    # Half a batch past the share asked for: the kill lands while a batch is being sent.
    wanted = min(int(options.devices * options.kill_at) + BATCH // 2, options.devices - 1)
    deadline = time.monotonic() + options.timeout_s
    accepted = 0
    while accepted < wanted:
        accepted = fake.stats(tokens=False)["sent"]
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {accepted} pushes accepted before the kill point")
        time.sleep(0.02)
    worker.kill9()
    killed_at = time.time()
    at_kill = delivery_counts(published.notification_id)
    accepted_at_kill = fake.stats(tokens=False)["sent"]
    worker = start_worker()
    restarted_s = time.time() - killed_at
    counts = wait_settled(published.notification_id, timeout_s=options.timeout_s, on_poll=sweeper)
    settled_s = time.time() - killed_at
    delivered, stats, messages = _delivered(fake, keep)

    from apps.notifications.models import Notification

    tag = Notification.objects.get(pk=published.notification_id).tag
    targets = {token_for(PREFIX, n) for n in range(1, options.devices + 1)}
    lost = sorted(targets - set(delivered))
    strangers = sorted(set(delivered) - targets)
    duplicated = {token: count for token, count in delivered.items() if count > 1}
    extra = sum(count - 1 for count in duplicated.values())
    tags = {tag_of(message["message"]) for message in messages if message["token"] in duplicated}
    bound = BATCH * options.concurrency
    checks: list[dict[str, Any]] = []
    _check(
        checks,
        "the kill came mid-fan-out",
        at_kill.get("sent", 0) < options.devices,
        f"{accepted_at_kill:,} pushes accepted by the fake at the kill; deliveries then {at_kill}",
    )
    _check(
        checks,
        "every delivery ends sent",
        counts == {"sent": options.devices} and published.targeted == options.devices,
        f"{published.targeted:,} targeted; deliveries {counts}",
    )
    _check(
        checks,
        "no device lost",
        not lost and not strangers,
        f"{len(targets) - len(lost):,} of {len(targets):,} targeted tokens received the push"
        + (f"; lost e.g. {lost[:3]}" if lost else "")
        + (f"; {len(strangers)} tokens outside the audience" if strangers else ""),
    )
    _check(
        checks,
        f"duplicates within one in-flight batch per process (≤ {bound:,})",
        extra <= bound,
        f"{extra:,} extra pushes to {len(duplicated):,} tokens",
    )
    _check(
        checks,
        "duplicates carry the alert's tag (collapsed on the phone)",
        not duplicated or tags == {(tag, tag)},
        f"tag {tag!r}; tags of duplicated tokens' messages {sorted(tags)}",
    )
    figures = {
        "notification_tag": tag,
        "accepted_at_kill": accepted_at_kill,
        "deliveries_at_kill": at_kill,
        "worker_restarted_after_s": round(restarted_s, 2),
        "all_sent_after_kill_s": round(settled_s, 2),
        "duplicates": extra,
        "duplicated_tokens": len(duplicated),
        "duplicate_bound": bound,
        "fake_requests": stats["requests"],
        "sweeper": sweeper.figures(),
        "checks": checks,
    }
    return figures, worker


def tag_of(message: dict[str, Any]) -> tuple[str, str]:
    """(Android collapse key, APNs collapse id) of an FCM v1 message."""
    android = message.get("android") or {}
    apns = (message.get("apns") or {}).get("headers") or {}
    return android.get("collapse_key", ""), apns.get("apns-collapse-id", "")


def storm_phase(
    options: ReliabilityOptions, *, fake: Any, sweeper: Sweeper, keep: int
) -> dict[str, Any]:
    """An alert during a 503-then-429 storm with Retry-After; everything must arrive after."""
    from django.db.models import Max

    from apps.notifications.models import Delivery
    from testing.pushworker import alert_news, publish, send_window, token_for, wait_settled

    fake.reset()
    half = options.storm_seconds / 2
    started = time.time()
    # 503 until the switch to 429 replaces it (no gap between them), 429 until the end.
    fake.storm(503, half + 5, options.retry_after)
    published = publish(alert_news(CENTRE, title="Alerte crue (tempête FCM)"))
    state = {"switched": False, "accepted_in_storm": None}

    def during() -> None:
        elapsed = time.time() - started
        if not state["switched"] and elapsed >= half:
            fake.storm(429, options.storm_seconds - elapsed, options.retry_after)
            state["switched"] = True
        if state["accepted_in_storm"] is None and elapsed >= options.storm_seconds - 0.5:
            state["accepted_in_storm"] = fake.stats(tokens=False)["sent"]
        sweeper()

    counts = wait_settled(
        published.notification_id, timeout_s=options.timeout_s, poll_s=0.25, on_poll=during
    )
    storm_end = started + options.storm_seconds
    window = send_window(published.notification_id)
    delivered, stats, _messages = _delivered(fake, 0)
    targets = {token_for(PREFIX, n) for n in range(1, options.devices + 1)}
    lost = sorted(targets - set(delivered))
    extra = sum(count - 1 for count in delivered.values() if count > 1)
    max_attempts = Delivery.objects.filter(notification_id=published.notification_id).aggregate(
        m=Max("attempts")
    )["m"]
    retry_after = stats["retry_after"]
    errors = stats["errors"]
    checks: list[dict[str, Any]] = []
    _check(
        checks,
        "the storm answered 503 then 429",
        errors.get("UNAVAILABLE", 0) > 0 and errors.get("QUOTA_EXCEEDED", 0) > 0,
        f"errors answered: {errors}",
    )
    _check(
        checks,
        "nothing accepted during the storm",
        state["accepted_in_storm"] in (0, None),
        f"{state['accepted_in_storm']} pushes accepted before its end",
    )
    _check(
        checks,
        "every delivery ends sent after the storm",
        counts == {"sent": options.devices} and not lost,
        f"deliveries {counts}; {len(targets) - len(lost):,} of {len(targets):,} tokens received "
        f"the push, {extra} duplicates; last one {window['last_sent'] - storm_end:.1f} s after "
        f"the storm; at most {max_attempts} attempts per delivery",
    )
    _check(
        checks,
        "Retry-After honoured",
        retry_after["checked"] > 0 and retry_after["early"] == 0,
        f"{retry_after['checked']:,} retries of a token told to wait {options.retry_after} s: "
        f"{retry_after['early']} came sooner (least margin {retry_after['min_margin_s']} s)"
        + (f"; e.g. {retry_after['early_examples'][:3]}" if retry_after["early"] else ""),
    )
    return {
        "storm_seconds": options.storm_seconds,
        "retry_after_s": options.retry_after,
        "errors": errors,
        "accepted_during_storm": state["accepted_in_storm"],
        "last_sent_after_storm_s": round(window["last_sent"] - storm_end, 2),
        "max_attempts": max_attempts,
        "duplicates": extra,
        "retry_after": retry_after,
        "fake_requests": stats["requests"],
        "sweeper": sweeper.figures(),
        "checks": checks,
    }


def run(options: ReliabilityOptions | None = None) -> dict[str, Any]:
    """Both phases; returns ``{name, title, markdown, figures, targets}`` (run_all)."""
    from bench import machine
    from testing.pushworker import (
        FakeFcmProcess,
        Worker,
        celery_broker,
        create_devices,
        prepare_database,
        setup_django,
        taxonomy,
    )

    options = options or ReliabilityOptions()
    db_url = setup_django(options.database_url)
    prepare_database(prefixes=(PREFIX,), migrate=options.migrate)
    category, _ = taxonomy()
    create_devices(options.devices, prefix=PREFIX, category_id=category.pk, centre=CENTRE)
    keep = 2 * options.devices + 2 * BATCH * options.concurrency
    figures: dict[str, Any] = {"options": asdict(options), "machine": machine.facts()}
    thresholds = {
        "NOTIFY_STUCK_SENDING_S": options.stuck_sending_s,
        "NOTIFY_STUCK_PENDING_S": options.stuck_pending_s,
    }
    workers: list[Any] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeFcmProcess(Path(tmp), keep_messages=keep) as fake,
        celery_broker(options.broker_url) as app,
        _settings(**thresholds),
    ):

        def start_worker() -> Any:
            worker = Worker(
                database_url=db_url,
                broker_url=options.broker_url,
                fcm_url=fake.url,
                credentials_file=fake.account,
                name=f"relia{len(workers)}",
                queues="push",
                concurrency=options.concurrency,
                log_path=Path(tmp) / f"worker-{len(workers)}.log",
                env={name: str(value) for name, value in thresholds.items()},
            )
            workers.append(worker)
            worker.start().wait_ready(app)
            return worker

        try:
            figures["kill"], worker = kill_phase(
                options,
                fake=fake,
                start_worker=start_worker,
                sweeper=Sweeper(options.sweep_every_s),
                keep=keep,
            )
            figures["storm"] = storm_phase(
                options, fake=fake, sweeper=Sweeper(options.sweep_every_s), keep=keep
            )
        finally:
            for worker in workers:
                worker.stop()
    figures["machine"]["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    checks = [*figures["kill"]["checks"], *figures["storm"]["checks"]]
    figures["ok"] = all(check["ok"] for check in checks)
    return {
        "name": "reliability",
        "title": TITLE,
        "markdown": render(figures),
        "figures": figures,
        "targets": [
            {
                "id": "reliability",
                "target": "reliability: kill -9 mid-fan-out, then FCM 503/429 storms",
                "status": "met" if figures["ok"] else "missed",
                "detail": f"{sum(c['ok'] for c in checks)} of {len(checks)} checks passed",
            }
        ],
    }


def render(figures: dict[str, Any]) -> str:
    options, kill, storm = figures["options"], figures["kill"], figures["storm"]
    lines = [
        f"{options['devices']:,} devices, one worker of {options['concurrency']} pool processes; "
        f"sweeper every {options['sweep_every_s']} s (stuck sending {options['stuck_sending_s']} "
        f"s, stuck pending {options['stuck_pending_s']} s); load average "
        f"{figures['machine']['loadavg']} at start, {figures['machine']['loadavg_end']} at the end",
        "",
        f"1. kill -9 at {kill['accepted_at_kill']:,} pushes accepted; worker back after "
        f"{kill['worker_restarted_after_s']} s, all sent {kill['all_sent_after_kill_s']} s after "
        f"the kill; sweeper {kill['sweeper']}",
    ]
    lines += [_check_line(check) for check in kill["checks"]]
    lines += [
        "",
        f"2. storm: 503 then 429 for {storm['storm_seconds']} s, Retry-After "
        f"{storm['retry_after_s']} s; last push {storm['last_sent_after_storm_s']} s after it; "
        f"sweeper {storm['sweeper']}",
    ]
    lines += [_check_line(check) for check in storm["checks"]]
    lines += ["", "ALL CHECKS PASSED" if figures["ok"] else "SOME CHECKS FAILED"]
    return "\n".join(lines)


def _check_line(check: dict[str, Any]) -> str:
    return f"   [{'ok' if check['ok'] else 'FAIL'}] {check['check']}: {check['detail']}"


def quick_options() -> ReliabilityOptions:
    return ReliabilityOptions(devices=2_000, storm_seconds=6, retry_after=1, stuck_sending_s=5)


def main(argv: list[str] | None = None) -> int:
    options, json_path = parse_args(argv)
    result = run(options)
    print(result["markdown"])
    if json_path:
        json_path.write_text(
            json.dumps({**result["figures"], "targets": result["targets"]}, indent=2)
        )
    return 0 if result["figures"]["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
