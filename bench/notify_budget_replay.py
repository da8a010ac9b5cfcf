"""Pushes per resident per week, before and after the notification budget: a replay of the bench
city's month of publications through the real audience and the real limits.

    .venv/bin/python -m bench.notify_budget_replay [--database postgis:///quartier_bench]
        [--days 28] [--devices 5000] [--seed 7] [--json out.json]

Needs the bench city (``python manage.py bench_city``). Takes every item published with
"Notifier" in the last ``--days`` days, finds its audience with ``audience(item)`` (the SQL the
push pipeline runs) restricted to a random sample of ``--devices`` pushable devices, and replays
each sampled device's pushes in time order under two rules, both through
``apps.notifications.policy.budget`` and the device's own calendar (``timing``):

- **before**: the daily cap alone (``max_pushes_per_day``, default 5; no weekly budget);
- **after**: the daily cap, ``important_per_day`` (default 2) and ``info_per_week`` (default 3).

A push held back goes into that day's digest (one digest a day at most). Reported per device and
per week: item pushes, digests, and both together, as the median and the 95th percentile over
the sampled devices (devices the month never reached count as 0), and the share of pushes that
became digest lines. Alerts are never limited: their weekly count is shown apart. Quiet hours
only delay pushes and are ignored. The replay reads the database and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/notify_budget_replay.py
    sys.path.insert(0, str(ROOT))

TITLE = "Pushes per resident per week, before and after the notification budget"

DEFAULTS: dict[str, Any] = {
    "database": "postgis:///quartier_bench",
    "days": 28,
    "devices": 5000,
    "seed": 7,
}
#: The rules replayed: (name, limits a device gets on top of its own daily cap).
BEFORE = {"info_per_week": 10_000, "important_per_day": 10_000}
AFTER_DEFAULTS = {"info_per_week": 3, "important_per_day": 2}


def _setup_django(database: str) -> None:
    from django.conf import settings

    if settings.configured:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ["DATABASE_URL"] = database
    import django

    django.setup()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0 to 1) of ``values``, nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return float(ordered[rank - 1])


def replay(
    pushes: Sequence[tuple[datetime, int]],
    *,
    tz: str,
    daily_cap: int,
    limits: dict[str, int],
) -> tuple[int, int, int]:
    """One device's ``(time, urgency)`` pushes in time order under ``limits``: returns (item
    pushes sent, pushes held back, digests sent — one per local day with any held back)."""
    from apps.notifications import policy, timing

    sent_at: list[tuple[datetime, int]] = []
    held_days: set[datetime] = set()
    held = 0
    for at, urgency in pushes:
        day, week = timing.day_start(at, tz), timing.week_start(at, tz)
        used = policy.Used()
        for t, u in sent_at:
            if t >= day:
                used.today += 1
                if u >= 1:
                    used.important_today += 1
            if u == 0 and t >= week:
                used.info_week += 1
        entry = policy.CapEntry(
            device_id=0, limit=daily_cap, capped_kind=True, urgency=urgency, **limits
        )
        [verdict] = policy.budget([entry], used={0: used})
        if verdict is None:
            if urgency < 2:
                sent_at.append((at, urgency))
        else:
            held += 1
            held_days.add(day)
    alerts = sum(1 for _at, u in pushes if u >= 2)
    return len(sent_at) + alerts, held, len(held_days)


def run(**options: Any) -> dict[str, Any]:
    """The replay (see the module doc); ``options`` override ``DEFAULTS``."""
    options = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    _setup_django(options["database"])
    from django.utils import timezone

    from apps.core.registry import content_models
    from apps.notifications.audience import audience
    from apps.residents.models import Device

    started = time.perf_counter()
    now = timezone.now()
    since = now - timedelta(days=options["days"])
    pushable = list(Device.objects.pushable().values_list("pk", "timezone", "max_pushes_per_day"))
    rng = random.Random(options["seed"])
    sample = rng.sample(pushable, min(options["devices"], len(pushable)))
    settings_of = {pk: (tz, cap) for pk, tz, cap in sample}
    ids = list(settings_of)
    received: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    items = 0
    for model in content_models().values():
        published = model.objects.filter(
            notify=True, published_at__gte=since, published_at__lte=now
        ).order_by("published_at")
        for item in published.iterator(chunk_size=200):
            at = item.published_at
            if at is None:  # filtered out above; for the type checker
                continue
            items += 1
            for pk in audience(item).filter(pk__in=ids).values_list("pk", flat=True):
                received[pk].append((at, int(item.urgency)))
    weeks = options["days"] / 7
    rows: dict[str, dict[str, list[float]]] = {
        "before": defaultdict(list),
        "after": defaultdict(list),
    }
    held_total = {"before": 0, "after": 0}
    targeted_total = 0
    for pk, (tz, cap) in settings_of.items():
        pushes = sorted(received.get(pk, []))
        targeted_total += len(pushes)
        for name, limits in (("before", BEFORE), ("after", AFTER_DEFAULTS)):
            sent, held, digests = replay(pushes, tz=tz, daily_cap=cap, limits=limits)
            held_total[name] += held
            rows[name]["pushes"].append(sent / weeks)
            rows[name]["digests"].append(digests / weeks)
            rows[name]["total"].append((sent + digests) / weeks)
            rows[name]["alerts"].append(sum(1 for _at, u in pushes if u >= 2) / weeks)
    figures = {
        name: {
            measure: {
                "median": round(statistics.median(values), 2) if values else 0.0,
                "p95": round(percentile(values, 0.95), 2),
                "max": round(max(values, default=0.0), 2),
            }
            for measure, values in by_measure.items()
        }
        | {"held_share": round(held_total[name] / targeted_total, 3) if targeted_total else 0.0}
        for name, by_measure in rows.items()
    }
    return {
        "title": TITLE,
        "days": options["days"],
        "devices": len(sample),
        "items": items,
        "targeted_per_device_week": round(targeted_total / max(1, len(sample)) / weeks, 2),
        "figures": figures,
        "seconds": round(time.perf_counter() - started, 1),
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        f"{TITLE}: {result['items']:,} items published with a push in {result['days']} days, "
        f"{result['devices']:,} sampled devices ({result['targeted_per_device_week']} pushes "
        f"targeted per device and week on average; replay {result['seconds']} s).",
        "",
        "| rule | pushes/week median | p95 | max | digests/week median | p95 "
        "| pushes + digests/week median | p95 | of which alerts, median | held back |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label in (("before", "before (5 a day)"), ("after", "after (budget)")):
        f = result["figures"][name]
        lines.append(
            f"| {label} | {f['pushes']['median']} | {f['pushes']['p95']} | {f['pushes']['max']} "
            f"| {f['digests']['median']} | {f['digests']['p95']} | {f['total']['median']} "
            f"| {f['total']['p95']} | {f['alerts']['median']} | {f['held_share']:.0%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help=f"default {DEFAULTS['database']}")
    parser.add_argument("--days", type=int, help=f"days replayed (default {DEFAULTS['days']})")
    parser.add_argument("--devices", type=int, help="devices sampled")
    parser.add_argument("--seed", type=int, help="the sample's seed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = vars(parser.parse_args(argv))
    json_path = args.pop("json")
    result = run(**args)
    print(render(result))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
