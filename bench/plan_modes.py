"""Prepared statements under custom and generic plans (``plan_cache_mode``), on the bench city.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgis:///quartier_bench \\
        .venv/bin/python -m bench.plan_modes [--calls 60] [--json out.json]

For each statement that runs prepared on every feed or list request (``apps.core.prepared``):
the items of a page by ids (``apps.core.api.item_refs``, 20 mixed ids and a point), a
resident's inputs (``recommend.selectors.resident_inputs``) and the feed's candidate
statement (anonymous, at a random point; personal, with places and follows), it opens a
fresh connection per ``plan_cache_mode`` (``force_custom_plan``, ``force_generic_plan``,
``auto``), runs the statement 6 times (past PostgreSQL's five custom plans), then ``--calls``
times with other parameters each time, and reports the median wall time per call in this
process and the CPU the PostgreSQL backend used per call (psutil), plus the number of
statements psycopg prepared (one per text: ids go as ``bigint[]``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MODES = ("force_custom_plan", "force_generic_plan", "auto")


def _statements(rng: random.Random) -> dict[str, Any]:
    """name → a function running the statement once with fresh parameters."""
    from django.utils import timezone

    from apps.core.api.item_refs import refs_fetch
    from apps.core.geo import point
    from apps.core.registry import content_models
    from apps.recommend.online.candidate_query import CandidateRequest, feed_catalog
    from apps.recommend.selectors import resident_inputs
    from apps.residents.models import Device, Place

    ids = {
        t: list(m.objects.public().values_list("pk", flat=True)[:2000])
        for t, m in content_models().items()
    }
    locations = list(Place.objects.values_list("location", flat=True)[:2000])
    lons, lats = [p.x for p in locations], [p.y for p in locations]
    devices = list(
        Device.objects.filter(personalization_consent=True, places__isnull=False)
        .values_list("pk", flat=True)
        .distinct()[:500]
    )

    def a_point() -> Any:
        k = rng.randrange(len(lons))
        return point(lons[k] + rng.uniform(-0.002, 0.002), lats[k] + rng.uniform(-0.002, 0.002))

    def refs() -> None:
        page = [(t, rng.choice(ids[t])) for t in ids for _ in range(7)][:20]
        refs_fetch(page, near=a_point())

    def inputs() -> None:
        resident_inputs(device_id=rng.choice(devices))

    def anonymous() -> None:
        feed_catalog(CandidateRequest(now=timezone.now(), point=a_point()))

    def personal() -> None:
        device = rng.choice(devices)
        got = resident_inputs(device_id=device)
        feed_catalog(
            CandidateRequest(
                now=timezone.now(),
                places=[point(p.lon, p.lat) for p in got.places],
                followed_categories=got.follows.categories,
                followed_areas=frozenset(got.follows.areas),
                followed_organizations=got.follows.organizations,
                personal=True,
            )
        )

    return {
        "items by ids (20, with a point)": refs,
        "resident inputs": inputs,
        "candidates, anonymous": anonymous,
        "candidates, personal (incl. its inputs)": personal,
    }


def _backend_cpu(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def run(calls: int = 60, seed: int = 7) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.conf import settings
    from django.db import connection

    from apps.core.prepared import prepared_statements

    out: dict[str, Any] = {"calls": calls, "statements": {}}
    for mode in MODES:
        settings.DB_PLAN_CACHE_MODE = mode
        rng = random.Random(seed)
        statements = _statements(rng)
        for name, call in statements.items():
            connection.close()  # a fresh connection: plan_cache_mode is set when it prepares
            for _ in range(6):
                call()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pid = cursor.fetchone()[0]
            walls = []
            cpu_before = _backend_cpu(pid)
            for _ in range(calls):
                started = time.perf_counter()
                call()
                walls.append((time.perf_counter() - started) * 1000)
            cpu = (_backend_cpu(pid) - cpu_before) * 1000 / calls
            entry = out["statements"].setdefault(name, {})
            entry[mode] = {
                "wall_ms_median": round(statistics.median(walls), 2),
                "wall_ms_p95": round(sorted(walls)[int(0.95 * (len(walls) - 1))], 2),
                "db_cpu_ms": round(cpu, 2),
                "prepared_statements": prepared_statements(connection),
            }
    connection.close()
    return out


def render(result: dict[str, Any]) -> str:
    lines = [
        "| statement | " + " | ".join(f"{m}: median ms (DB CPU ms)" for m in MODES) + " |",
        "|---|" + "---:|" * len(MODES),
    ]
    for name, modes in result["statements"].items():
        cells = [f"{modes[m]['wall_ms_median']:.2f} ({modes[m]['db_cpu_ms']:.2f})" for m in MODES]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    prepared = {
        name: modes["auto"]["prepared_statements"] for name, modes in result["statements"].items()
    }
    lines.append("")
    lines.append(f"Prepared statements on the connection after each run: {prepared}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=60)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run(calls=args.calls)
    print(render(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
