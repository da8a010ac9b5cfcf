"""Import of a 2,000-event OpenAgenda agenda with multi-slot timings, then the same again.

    .venv/bin/python bench/openagenda_import.py [--database postgis:///quartier_bench]
        [--events 2000] [--slots 1-12] [--json out.json] [--profile]

Serves an agenda of ``--events`` detailed events (built from the contract's own ``Event``
example: each with 1 to 12 daily timings, one of 40 venues around the centre, a few cancelled,
full or postponed) from the fake OpenAgenda server (``testing/fakeopenagenda.py``, real HTTP,
cursor pages of 100, contract checks), then times, on an agenda source of its own (organisation
and category ``bench-agenda``, created if absent, moderated: events published at once; not
notifying, the default of an agenda source, unless ``--notify``):

1. the first import: every page read and validated against the contract, every event mapped
   and created through ``event_apply`` (venues, occurrences, areas, the outbox rows of the
   publication pushes);
2. the same agenda again: it must create, update and notify nothing.

Issue 15: an import of 2,000 events with multi-slot timings runs in seconds; re-running it
changes nothing and sends no push. The events it made are deleted at the end with their source.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/openagenda_import.py
    sys.path.insert(0, str(ROOT))

TITLE = "Import of a 2,000-event OpenAgenda agenda (multi-slot timings), and its no-op re-import"
DEFAULTS: dict[str, Any] = {"database": "postgis:///quartier_bench", "events": 2000, "slots": 12}
CENTRE = (4.8357, 45.7640)
AGENDA = 4242


def generated_events(events: int, *, max_slots: int = 12, seed: int = 15) -> list[dict[str, Any]]:
    """``events`` detailed OpenAgenda events, valid against the contract."""
    from apps.interop.openagenda import contract

    rng = random.Random(seed)
    paris = ZoneInfo("Europe/Paris")
    start = datetime.now(paris).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    venues = [
        {
            "uid": 70000 + i,
            "name": f"Salle {i}",
            "address": f"{i + 1} rue de la République",
            "city": "Lyonnay",
            "postalCode": "69990",
            "latitude": round(CENTRE[1] + rng.uniform(-0.02, 0.02), 6),
            "longitude": round(CENTRE[0] + rng.uniform(-0.03, 0.03), 6),
        }
        for i in range(40)
    ]
    example = contract.example("Event")
    out = []
    for n in range(events):
        first = start + timedelta(days=rng.randint(0, 90), hours=rng.choice((10, 14, 18, 20)))
        slots = rng.randint(1, max_slots)
        timings = [
            {
                "begin": (first + timedelta(days=7 * k)).isoformat(),
                "end": (first + timedelta(days=7 * k, hours=2)).isoformat(),
            }
            for k in range(slots)
        ]
        event = {
            **json.loads(json.dumps(example)),
            "uid": 5_000_000 + n,
            "slug": f"evenement-{n}",
            "title": {"fr": f"Événement {n}", "en": f"Event {n}"},
            "status": rng.choices((1, 2, 4, 5, 6), weights=(90, 3, 2, 3, 2))[0],
            "timings": timings,
            "firstTiming": timings[0],
            "lastTiming": timings[-1],
            "nextTiming": timings[0],
            "location": {**example["location"], **rng.choice(venues)},
        }
        out.append(event)
    return out


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
    from django.conf import settings
    from django.db import connection

    from apps.core.models import Category, Organization
    from apps.events.models import Event, EventOccurrence
    from apps.interop.models import AgendaSource
    from apps.interop.openagenda.sync import agenda_run
    from apps.notifications.models import Notification
    from bench import machine
    from testing.fakeopenagenda import FakeOpenAgenda

    fake = FakeOpenAgenda(settings.INTEROP_STANDARDS_DIR).start()
    fake.agendas[AGENDA] = generated_events(opts["events"], max_slots=opts["slots"])
    organization, _ = Organization.objects.get_or_create(
        slug="bench-agenda", defaults={"name": "Banc d'essai (agenda)"}
    )
    category, _ = Category.objects.get_or_create(
        slug="bench-agenda", defaults={"name": "Agenda importé"}
    )
    AgendaSource.objects.filter(name="bench-agenda").delete()
    source = AgendaSource.objects.create(
        name="bench-agenda",
        base_url=fake.url,
        agenda_uid=AGENDA,
        key=fake.key,
        organization=organization,
        category=category,
        moderated=True,
        notify=opts.get("notify", False),
        enabled=False,
    )
    profile_text = ""
    try:
        profiler = cProfile.Profile() if opts.get("profile") else None
        # The process's CPU includes the fake server's thread (its JSON); the thread's is the
        # import alone (reading, validating, writing, eager tasks).
        cpu0, t0, own0 = time.process_time(), time.perf_counter(), time.thread_time()
        if profiler:
            profiler.enable()
        first = agenda_run(source=source)
        if profiler:
            profiler.disable()
            stream = io.StringIO()
            pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(40)
            profile_text = stream.getvalue()
        first_s, first_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        first_own = time.thread_time() - own0
        events = Event.objects.filter(openagenda_origin__source=source)
        occurrences = EventOccurrence.objects.filter(event__in=events).count()
        stamps = dict(events.values_list("pk", "updated_at"))
        notifications = Notification.objects.count()
        cpu0, t0, own0 = time.process_time(), time.perf_counter(), time.thread_time()
        again = agenda_run(source=source)
        again_s, again_cpu = time.perf_counter() - t0, time.process_time() - cpu0
        again_own = time.thread_time() - own0
        unchanged = (
            again.created == again.updated == again.withdrawn == 0
            and Notification.objects.count() == notifications
            and dict(events.values_list("pk", "updated_at")) == stamps
        )
        published = events.filter(status="published").count()
        pages = len(fake.requests)
    finally:
        Event.objects.filter(openagenda_origin__source=source).delete()
        source.delete()
        fake.stop()
    ok = unchanged and first.created == opts["events"] and first_s < 120
    figures = {
        "events": opts["events"],
        "created": first.created,
        "published": published,
        "occurrences": occurrences,
        "notify": bool(opts.get("notify")),
        "requests": pages,
        "first_s": round(first_s, 2),
        "first_cpu_s": round(first_cpu, 2),
        "first_thread_cpu_s": round(first_own, 2),
        "rerun_s": round(again_s, 2),
        "rerun_cpu_s": round(again_cpu, 2),
        "rerun_thread_cpu_s": round(again_own, 2),
        "rerun_unchanged": again.unchanged,
        "rerun_changes_nothing": unchanged,
        "database": connection.vendor,
        "machine": machine.facts(),
    }
    target = {
        "id": "openagenda-import",
        "target": "issue 15: 2,000 OpenAgenda events with multi-slot timings imported in "
        "seconds; re-import changes nothing and sends no push",
        "status": "met" if ok else "missed",
        "detail": f"{opts['events']} events ({occurrences} occurrences) in {figures['first_s']} s "
        f"({figures['first_cpu_s']} CPU s); re-import {figures['rerun_s']} s, "
        f"{'nothing changed, no push' if unchanged else 'CHANGED SOMETHING'}",
    }
    return {
        "name": "openagenda_import",
        "title": TITLE,
        "figures": figures,
        "targets": [target],
        "markdown": render(figures, target),
        "profile": profile_text,
    }


def render(figures: dict[str, Any], target: dict[str, str]) -> str:
    return "\n".join(
        [
            f"### {TITLE}",
            "",
            "| run | events | occurrences | wall s | CPU s (process) | CPU s (import thread) |",
            "|---|---:|---:|---:|---:|---:|",
            f"| first import | {figures['events']} | {figures['occurrences']} | "
            f"{figures['first_s']} | {figures['first_cpu_s']} | {figures['first_thread_cpu_s']} |",
            f"| re-import | {figures['rerun_unchanged']} unchanged | — | "
            f"{figures['rerun_s']} | {figures['rerun_cpu_s']} | {figures['rerun_thread_cpu_s']} |",
            "",
            f"{target['status']}: {target['detail']}",
        ]
    )


def quick_options() -> dict[str, Any]:
    return {"events": 100}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help=f"default {DEFAULTS['database']}")
    parser.add_argument("--events", type=int, help=f"events (default {DEFAULTS['events']})")
    parser.add_argument(
        "--slots", type=int, help=f"most timings per event (default {DEFAULTS['slots']})"
    )
    parser.add_argument(
        "--notify", action="store_true", help="the source notifies residents (outbox rows)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of the first import"
    )
    args = vars(parser.parse_args(argv))
    json_path = args.pop("json")
    result = run(**args)
    print(result["markdown"])
    if result["profile"]:
        print(result["profile"])
    if json_path:
        json_path.write_text(json.dumps(result, indent=2, default=str))
    return 0 if result["targets"][0]["status"] == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
