"""Import of a generated WZDx feed of 1,000 road events, then the same feed again.

    .venv/bin/python bench/interop_import.py [--database postgis:///quartier_bench]
        [--events 1000] [--json out.json]

Builds a WZDx 4.2 feed of ``--events`` work-zone road events (lines of 3 to 8 vertices around the
city centre, lanes, restrictions, speed limits, some in recurring first-occurrence /
next-occurrence chains), then times, on a source of its own (organisation and category
``bench-import``, created if absent):

1. the first import: JSON parsing, validation against the WZDx schema, and every works created
   and published through the works services (areas, pushes' outbox rows, tombstones);
2. the same feed again: it must create, update and notify nothing (``changed`` 0, no new
   ``Notification`` row, every ``updated_at`` kept).

docs/architecture.md §8: 1,000 WZDx road events imported in seconds; re-import changes nothing
and sends no push. The works it made are deleted at the end (with their source), so a run leaves the
database as it found it. ``run(**options)`` returns the figures; run inside a configured
Django (the smoke test) it uses the current database and ignores ``--database``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/interop_import.py
    sys.path.insert(0, str(ROOT))

TITLE = "Import of a 1,000-event WZDx feed, and its no-op re-import"
DEFAULTS: dict[str, Any] = {"database": "postgis:///quartier_bench", "events": 1000}
CENTRE = (4.8357, 45.7640)
IMPACTS = ("all-lanes-closed", "some-lanes-closed", "alternating-one-way", "all-lanes-open")


def generated_feed(events: int, *, seed: int = 14) -> dict[str, Any]:
    """A valid WZDx 4.2 feed: ``events`` work-zone road events, about a fifth recurring."""
    rng = random.Random(seed)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    features = []
    n = 0
    while n < events:
        chain = rng.choice((1, 1, 1, 1, 3)) if events - n >= 3 else 1
        x = CENTRE[0] + rng.uniform(-0.04, 0.04)
        y = CENTRE[1] + rng.uniform(-0.03, 0.03)
        heading = rng.uniform(0, 2 * math.pi)
        coords = []
        for _ in range(rng.randint(3, 8)):
            coords.append([round(x, 7), round(y, 7)])
            x += math.cos(heading) * 0.0004 + rng.uniform(-0.0001, 0.0001)
            y += math.sin(heading) * 0.0003 + rng.uniform(-0.0001, 0.0001)
        first_id = f"bench-{n}"
        day0 = start + timedelta(days=rng.randint(0, 60), hours=rng.choice((7, 8, 21)))
        impact = rng.choice(IMPACTS)
        for k in range(chain):
            begins = day0 + timedelta(days=k)
            related = []
            if k:
                related.append({"type": "first-occurrence", "id": first_id})
            if k + 1 < chain:
                related.append({"type": "next-occurrence", "id": f"bench-{n + 1}"})
            properties: dict[str, Any] = {
                "core_details": {
                    "data_source_id": "bench",
                    "event_type": "work-zone",
                    "road_names": [f"Rue {n // 7}"],
                    "direction": "undefined",
                    "name": f"Travaux {first_id}",
                    "description": "Chantier généré pour le banc d'essai.",
                    **({"related_road_events": related} if related else {}),
                },
                "start_date": begins.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_date": (begins + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "is_start_date_verified": False,
                "is_end_date_verified": False,
                "is_start_position_verified": False,
                "is_end_position_verified": False,
                "location_method": "other",
                "vehicle_impact": impact,
                "restrictions": rng.sample(
                    [
                        {"type": "no-parking"},
                        {"type": "no-trucks"},
                        {"type": "reduced-width", "value": 280, "unit": "centimeters"},
                    ],
                    rng.randint(0, 2),
                ),
                "lanes": [
                    {
                        "order": 1,
                        "type": "general",
                        "status": "closed" if "closed" in impact else "open",
                    },
                    {"order": 2, "type": "sidewalk", "status": "open"},
                ],
            }
            if rng.random() < 0.3:
                properties["reduced_speed_limit_kph"] = 30
            features.append(
                {
                    "id": f"bench-{n}",
                    "type": "Feature",
                    "properties": properties,
                    "geometry": {"type": "LineString", "coordinates": coords},
                }
            )
            n += 1
    return {
        "feed_info": {
            "publisher": "Banc d'essai",
            "version": "4.2",
            "update_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data_sources": [{"data_source_id": "bench", "organization_name": "Banc d'essai"}],
        },
        "type": "FeatureCollection",
        "features": features,
    }


def _setup(database: str | None) -> None:
    from django.conf import settings

    if settings.configured:
        return
    if database:
        os.environ["DATABASE_URL"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ.pop("CELERY_BROKER_URL", None)  # tasks in-process: the timing includes them
    import django

    django.setup()


def run(**options: Any) -> dict[str, Any]:
    opts = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    _setup(opts["database"])
    from django.db import connection

    from apps.core.models import Category, Organization
    from apps.interop.models import Source, SourceFormat
    from apps.interop.sources.services import source_run
    from apps.notifications.models import Notification
    from apps.works.models import Works
    from bench import machine

    body = json.dumps(generated_feed(opts["events"])).encode()
    organization, _ = Organization.objects.get_or_create(
        slug="bench-import", defaults={"name": "Banc d'essai (import)"}
    )
    category, _ = Category.objects.get_or_create(
        slug="bench-import", defaults={"name": "Travaux importés"}
    )
    Source.objects.filter(name="bench-import").delete()
    source = Source.objects.create(
        name="bench-import",
        format=SourceFormat.WZDX,
        url="http://127.0.0.1/bench.geojson",
        organization=organization,
        category=category,
        enabled=False,
    )
    try:
        cpu0, t0 = time.process_time(), time.perf_counter()
        first = source_run(source=source, body=body)
        first_s, first_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        works = Works.objects.filter(import_origin__source=source)
        stamps = dict(works.values_list("pk", "updated_at"))
        notifications = Notification.objects.count()
        cpu0, t0 = time.process_time(), time.perf_counter()
        again = source_run(source=source, body=body)
        again_s, again_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        unchanged = (
            again.created == again.updated == again.withdrawn == 0
            and Notification.objects.count() == notifications
            and dict(works.values_list("pk", "updated_at")) == stamps
        )
        published = works.filter(status="published").count()
    finally:
        Works.objects.filter(import_origin__source=source).delete()
        source.delete()
    ok = unchanged and first.created > 0 and first_s < 60
    figures = {
        "events": opts["events"],
        "works": first.created,
        "published": published,
        "bytes": len(body),
        "first_s": round(first_s, 2),
        "first_cpu_s": round(first_cpu, 2),
        "rerun_s": round(again_s, 2),
        "rerun_cpu_s": round(again_cpu, 2),
        "rerun_unchanged": again.unchanged,
        "rerun_changes_nothing": unchanged,
        "database": connection.vendor,
        "machine": machine.facts(),
    }
    target = {
        "id": "imports",
        "target": "imports: 1,000 WZDx road events imported in seconds; re-import changes "
        "nothing and sends no push",
        "status": "met" if ok else "missed",
        "detail": f"{opts['events']} events → {first.created} works in {figures['first_s']} s "
        f"({figures['first_cpu_s']} CPU s in the process); re-import {figures['rerun_s']} s, "
        f"{'nothing changed, no push' if unchanged else 'CHANGED SOMETHING'}",
    }
    return {
        "name": "interop_import",
        "title": TITLE,
        "figures": figures,
        "targets": [target],
        "markdown": render(figures, target),
    }


def render(figures: dict[str, Any], target: dict[str, str]) -> str:
    return "\n".join(
        [
            f"### {TITLE}",
            "",
            "| run | events | works | wall s | CPU s (process) |",
            "|---|---:|---:|---:|---:|",
            f"| first import | {figures['events']} | {figures['works']} | {figures['first_s']} "
            f"| {figures['first_cpu_s']} |",
            f"| re-import | {figures['events']} | {figures['rerun_unchanged']} unchanged | "
            f"{figures['rerun_s']} | {figures['rerun_cpu_s']} |",
            "",
            f"{target['status']}: {target['detail']}",
        ]
    )


def quick_options() -> dict[str, Any]:
    return {"events": 100}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help=f"default {DEFAULTS['database']}")
    parser.add_argument("--events", type=int, help=f"road events (default {DEFAULTS['events']})")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = vars(parser.parse_args(argv))
    json_path = args.pop("json")
    result = run(**args)
    print(result["markdown"])
    if json_path:
        json_path.write_text(json.dumps(result, indent=2, default=str))
    return 0 if result["targets"][0]["status"] == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
