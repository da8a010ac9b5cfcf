"""Public pages: median and p95 time of an item page, cached and not, next to the API detail.

    DATABASE_URL=postgis:///quartier_site_bench CACHE_URL=redis://127.0.0.1:6379/10 \\
        .venv/bin/python bench/site_pages.py [--items 60] [--rounds 200] [--json out.json]

Creates ``--items`` published items of each type (news, works with a line, events with a
venue) over 12 districts, in its own organisation and category (``bench-site``), then times
through Django's test client (the whole middleware stack, no socket: what a gunicorn worker
spends, without the network) for each type:

- ``miss``: a page built from the database (the type's cache generation is bumped before each
  request), i.e. the cold cost: queries, JSON-LD, SVG map, template;
- ``hit``: the same page from the Redis page cache;
- ``304``: a revalidation with the page's ETag (what browsers send: pages are ``no-cache``);
- ``api``: the API detail of the same item, cached the same way (the reference).

Wall time and process CPU time per request; items are taken round-robin. It deletes what it
made at the end. Run inside a configured Django (the smoke test) it uses the current database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TITLE = "Public pages: item page cached and not, against the API detail"
DEFAULTS: dict[str, Any] = {"items": 60, "rounds": 200}
CENTRE = (4.8357, 45.7640)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1")
    import django

    django.setup()


def _make(items: int) -> dict[str, list[Any]]:
    import random
    from datetime import timedelta

    from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
    from django.utils import timezone

    from apps.core.geo import WGS84
    from apps.core.models import Area, AreaKind, Category, Organization
    from apps.core.services import area_save, content_publish, content_save
    from apps.events.models import Event
    from apps.events.services import event_save, venue_upsert
    from apps.news.models import News
    from apps.works.models import Works
    from apps.works.services import works_save

    rng = random.Random(15)
    organization, _ = Organization.objects.get_or_create(
        slug="bench-site", defaults={"name": "Ville (banc site)"}
    )
    category, _ = Category.objects.get_or_create(
        slug="bench-site", defaults={"name_fr": "Banc site", "name_en": "Bench site"}
    )
    for row in range(3):
        for col in range(4):
            x0, y0 = CENTRE[0] - 0.04 + col * 0.02, CENTRE[1] - 0.03 + row * 0.02
            ring = [(x0, y0), (x0 + 0.02, y0), (x0 + 0.02, y0 + 0.02), (x0, y0 + 0.02), (x0, y0)]
            area = Area(
                slug=f"bench-site-{row}-{col}",
                name=f"Quartier {row * 4 + col + 1}",
                kind=AreaKind.DISTRICT,
                geometry=MultiPolygon(Polygon(ring), srid=WGS84),
            )
            Area.objects.filter(slug=area.slug).delete()
            area_save(area=area)
    made: dict[str, list[Any]] = {"news": [], "works": [], "events": []}
    now = timezone.now()
    for n in range(items):
        x = CENTRE[0] + rng.uniform(-0.035, 0.035)
        y = CENTRE[1] + rng.uniform(-0.025, 0.025)
        common = {
            "category": category,
            "organization": organization,
            "summary_fr": "Résumé du contenu pour le banc d'essai des pages publiques.",
            "body_fr": "Texte du contenu.\n\nDeuxième paragraphe. " * 8,
        }
        news = News(title_fr=f"Actualité du banc {n}", geometry=Point(x, y, srid=WGS84), **common)
        content_save(item=news)
        made["news"].append(content_publish(item=news))
        line = LineString([(x + k * 0.0004, y + k * 0.0003) for k in range(6)], srid=WGS84)
        works = Works(
            title_fr=f"Travaux du banc {n}",
            geometry=line,
            start_at=now - timedelta(days=1),
            end_at=now + timedelta(days=30),
            road_names=[f"Rue {n}"],
            **common,
        )
        works_save(works=works)
        made["works"].append(content_publish(item=works))
        venue = venue_upsert(
            name=f"Salle du banc {n % 10}",
            address=f"{n % 10} rue du Banc",
            location=Point(x, y, srid=WGS84),
        )
        start = now + timedelta(days=2, hours=n)
        event = Event(
            title_fr=f"Événement du banc {n}",
            geometry=Point(x, y, srid=WGS84),
            venue=venue,
            start_at=start,
            end_at=start + timedelta(hours=2),
            last_end_at=start + timedelta(hours=2),
            **common,
        )
        event_save(event=event)
        made["events"].append(content_publish(item=event))
    return made


def _cleanup() -> None:
    from apps.core.models import Area, Category, Organization
    from apps.events.models import Event
    from apps.news.models import News
    from apps.works.models import Works

    for model in (News, Works, Event):
        model.objects.filter(organization__slug="bench-site").delete()
    Area.objects.filter(slug__startswith="bench-site-").delete()
    Category.objects.filter(slug="bench-site").delete()
    Organization.objects.filter(slug="bench-site").delete()


def _time(client: Any, urls: list[str], rounds: int, *, before=None, headers=None) -> dict:
    walls, cpus = [], []
    status = set()
    for k in range(rounds):
        url = urls[k % len(urls)]
        if before is not None:
            before()
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.get(url, **(headers(url) if headers else {}))
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        status.add(response.status_code)
    walls.sort()
    return {
        "median_ms": round(statistics.median(walls), 2),
        "p95_ms": round(walls[int(len(walls) * 0.95) - 1], 2),
        "cpu_ms": round(statistics.median(cpus), 2),
        "status": sorted(status),
    }


def run(items: int = 60, rounds: int = 200, **_: Any) -> dict[str, Any]:
    from django.conf import settings
    from django.test import Client

    from apps.core.api.response_cache import generation_bump
    from apps.core.pages import item_page_url

    made = _make(items)
    client = Client()
    results: dict[str, Any] = {"items_per_type": items, "rounds": rounds}
    try:
        for type_code, objects in made.items():
            pages = [item_page_url(item).removeprefix(settings.SITE_URL) for item in objects]
            apis = [f"/api/v1/{type_code}/{item.pk}/" for item in objects]
            for url in pages + apis:  # warm the cache and the code paths
                client.get(url)
            etags = {url: client.get(url)["ETag"] for url in pages}
            results[type_code] = {
                "miss": _time(client, pages, rounds, before=lambda t=type_code: generation_bump(t)),
                "hit": _time(client, pages, rounds),
                "304": _time(
                    client,
                    pages,
                    rounds,
                    headers=lambda url, e=etags: {"HTTP_IF_NONE_MATCH": e[url]},
                ),
                "api": _time(client, apis, rounds),
                "api_miss": _time(
                    client, apis, rounds, before=lambda t=type_code: generation_bump(t)
                ),
                "page_kib": round(len(client.get(pages[0]).content) / 1024, 1),
            }
    finally:
        _cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=DEFAULTS["items"])
    parser.add_argument("--rounds", type=int, default=DEFAULTS["rounds"])
    parser.add_argument("--json")
    options = parser.parse_args()
    _setup()
    from bench.machine import facts

    results = run(items=options.items, rounds=options.rounds)
    results["machine"] = facts(os.environ.get("DATABASE_URL"), os.environ.get("CACHE_URL"))
    text = json.dumps(results, indent=2)
    print(text)
    if options.json:
        Path(options.json).write_text(text)


if __name__ == "__main__":
    main()
