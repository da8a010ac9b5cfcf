"""Build the bench city in PostGIS: generate rows, COPY them, compute areas in SQL, ANALYZE.

The same seed gives the same city (each part draws from its own child of one
``numpy.random.SeedSequence``, so changing the number of devices does not change the content).
Rows go in with PostgreSQL ``COPY`` through psycopg 3 (``cursor.copy``); area membership is
one ``INSERT … SELECT … ST_Intersects`` per content type, as ``content_areas_refresh`` would
compute it item by item. A database that holds anything else than a previous bench city is
refused: the city's devices and content must never mix with real ones.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.api.response_cache import generations_bump
from apps.core.registry import content_models
from bench.city import content as content_rows
from bench.city import residents as resident_rows
from bench.city.content import Table
from bench.city.texts import CITY_CODE

#: Apps whose tables a ``--reset`` empties (TRUNCATE … CASCADE also empties tables that
#: reference them, e.g. notifications of bench devices).
RESET_APPS = ("core", "news", "works", "events", "residents", "recommend")
#: (table, what the index definition must contain) — spatial and text indexes the API relies on.
REQUIRED_INDEXES = (
    *(
        (table, needle)
        for table in ("news_news", "works_works", "events_event")
        for needle in (
            "gist (geography(geometry))",
            "gin (search_fr)",
            "gin (search_en)",
        )
    ),
    ("residents_place", "gist (geography(location))"),
    ("residents_place", "gist (st_expand(location"),
    ("core_area", "gist (geometry)"),
)


class BenchCityError(Exception):
    """The bench city cannot be built here (wrong backend, foreign data)."""


@dataclass(frozen=True)
class CitySpec:
    devices: int = 100_000
    items: int = 20_000
    interactions: int = 1_000_000
    seed: int = 42
    #: Clear tokens written to the manifest (devices that accepted personalization first).
    token_sample: int = 1_000
    now: datetime | None = None


@dataclass
class BuildReport:
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    indexes: list[str] = field(default_factory=list)
    manifest_path: Path | None = None

    #: From the start of ``build`` to the manifest written (includes the commit).
    wall_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return sum(self.timings.values())


class _Timer:
    def __init__(self, report: BuildReport, step: str) -> None:
        self.report, self.step = report, step

    def __enter__(self) -> None:
        self.started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self.started
        self.report.timings[self.step] = self.report.timings.get(self.step, 0.0) + elapsed


def reset_tables() -> list[str]:
    tables: list[str] = []
    for label in RESET_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if not model._meta.proxy and model._meta.managed:
                tables.append(model._meta.db_table)
    return sorted(set(tables))


def database_state() -> str:
    """``empty``, ``bench`` (a previous bench city) or ``foreign`` (anything else)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM core_area WHERE kind = 'commune' AND code = %s", [CITY_CODE]
        )
        if cursor.fetchone()[0]:
            return "bench"
        for table in ("core_area", "core_organization", "residents_device", *_content_tables()):
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{table}")')
            if cursor.fetchone()[0]:
                return "foreign"
    return "empty"


def _content_tables() -> list[str]:
    return [model._meta.db_table for model in content_models().values()]


def check_target(*, reset: bool) -> None:
    if connection.vendor != "postgresql":
        raise BenchCityError(
            "bench_city needs PostgreSQL/PostGIS (COPY, SQL area computation, the indexes the "
            "load test measures): set DATABASE_URL=postgis://…, e.g. postgis:///quartier_bench."
        )
    state = database_state()
    if state == "foreign":
        raise BenchCityError(
            "This database holds content or devices that bench_city did not make; refusing to "
            "mix 100,000 fake residents into it. Use an empty database (e.g. quartier_bench)."
        )
    if state == "bench" and not reset:
        raise BenchCityError("A bench city is already here: pass --reset to rebuild it.")


def copy_table(table: Table) -> int:
    """``COPY`` the rows of ``table`` (explicit ids) and move its id sequence past them."""
    columns = ", ".join(f'"{name}"' for name in table.columns)
    connection.ensure_connection()
    raw: Any = connection.connection
    with raw.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in table.rows:
                copy.write_row(row)
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table.name}"), false)',
            [table.name],
        )
    return len(table.rows)


def areas_compute() -> dict[str, int]:
    """Link every located item to the areas its geometry intersects (one SQL per type)."""
    linked: dict[str, int] = {}
    with connection.cursor() as cursor:
        for type_code, model in content_models().items():
            relation: Any = model._meta.get_field("areas")
            through = relation.remote_field.through._meta.db_table
            owner = f"{relation.m2m_field_name()}_id"
            cursor.execute(
                f'INSERT INTO "{through}" ("{owner}", "area_id") '
                f'SELECT c.id, a.id FROM "{model._meta.db_table}" c '
                'JOIN "core_area" a ON ST_Intersects(c.geometry, a.geometry) '
                "WHERE c.geometry IS NOT NULL ORDER BY c.id, a.id"  # same ids every build
            )
            linked[f"{type_code} areas"] = cursor.rowcount
    return linked


def indexes_check() -> list[str]:
    """The spatial and full-text indexes present; raises when one is missing (run migrate)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, lower(indexdef) FROM pg_indexes WHERE schemaname = "
            "current_schema()"
        )
        rows = cursor.fetchall()
    found: list[str] = []
    missing: list[str] = []
    for table, needle in REQUIRED_INDEXES:
        names = [name for t, name, ddl in rows if t == table and needle in ddl]
        (found if names else missing).extend(names or [f"{table}: {needle}"])
    if missing:
        raise BenchCityError(f"Missing indexes (run `manage.py migrate`): {missing}")
    return sorted(set(found))


def analyze(tables: list[str]) -> None:
    """``VACUUM ANALYZE`` (visibility map for index-only scans) or ``ANALYZE`` in a transaction."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f'{command} "{table}"')


def build(spec: CitySpec, *, reset: bool = False, manifest_path: Path | None = None) -> BuildReport:
    """Build the city described by ``spec``; write the manifest (clear tokens) if asked."""
    started = time.perf_counter()
    check_target(reset=reset)
    report = BuildReport()
    now = (spec.now or timezone.now()).timestamp()
    streams = np.random.SeedSequence(spec.seed).spawn(6)
    rng = [np.random.default_rng(stream) for stream in streams]
    written: list[str] = []

    def put(table: Table, step: str) -> None:
        with _Timer(report, f"copy {step}"):
            report.counts[table.name] = copy_table(table)
        written.append(table.name)

    with transaction.atomic():
        if reset:
            with _Timer(report, "reset"), connection.cursor() as cursor:
                # Checks still pending in this transaction (deferred foreign keys) must run
                # before TRUNCATE may empty their tables.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"TRUNCATE {', '.join(reset_tables())} RESTART IDENTITY CASCADE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        with _Timer(report, "generate content"):
            tax = content_rows.taxonomy(rng[0], now)
            items = content_rows.content(rng[1], tax, spec.items, now)
        for table in [*tax.tables, *items.tables]:
            put(table, "content")
        with _Timer(report, "areas (SQL)"):
            report.counts.update(areas_compute())
        with _Timer(report, "generate devices"):
            devices, tokens, consent = resident_rows.devices(rng[2], spec.devices, now)
        put(devices, "devices")
        sample = _token_sample(rng[2], consent, spec.token_sample)
        with _Timer(report, "generate places"):
            places, sample_places = resident_rows.places(rng[3], spec.devices, now, set(sample))
        put(places, "places")
        with _Timer(report, "generate follows"):
            follow_tables = resident_rows.follows(rng[4], tax, spec.devices, now)
        for table in follow_tables:
            put(table, "follows")
        with _Timer(report, "generate interactions"):
            log, popular = resident_rows.interactions(
                rng[5],
                spec.interactions,
                consenting=np.flatnonzero(consent) + 1,
                items=items.ids,
                published=items.published,
                now=now,
                retention_days=settings.RETENTION_DAYS,
            )
        put(log, "interactions")
        committing = time.perf_counter()
    report.timings["commit"] = time.perf_counter() - committing
    with _Timer(report, "analyze"):
        analyze([*written, *_through_tables()])
    report.indexes = indexes_check()
    # COPY sends no signal: renew the cached API responses of a server already running.
    generations_bump(content_models())
    if manifest_path is not None:
        manifest = _manifest(spec, now, tokens, consent, sample, sample_places, popular)
        _write_private(manifest_path, manifest)
        report.manifest_path = manifest_path
    report.wall_seconds = time.perf_counter() - started
    return report


def _through_tables() -> list[str]:
    tables = []
    for model in content_models().values():
        relation: Any = model._meta.get_field("areas")
        tables.append(relation.remote_field.through._meta.db_table)
    return tables


def _token_sample(rng: np.random.Generator, consent: np.ndarray, size: int) -> list[int]:
    """Device ids for the manifest: 80 % that accepted personalization, 20 % that did not."""
    agreed = np.flatnonzero(consent) + 1
    refused = np.flatnonzero(~consent) + 1
    take_agreed = min(len(agreed), size - min(len(refused), size // 5))
    take_refused = min(len(refused), size - take_agreed)
    picked = [
        *rng.choice(agreed, size=take_agreed, replace=False).tolist(),
        *rng.choice(refused, size=take_refused, replace=False).tolist(),
    ]
    return sorted(int(pk) for pk in picked)


def _manifest(
    spec: CitySpec,
    now: float,
    tokens: list[str],
    consent: np.ndarray,
    sample: list[int],
    places: dict[int, list[tuple[float, float]]],
    popular: dict[str, list[int]],
) -> dict[str, Any]:
    from bench.city import layout, texts

    return {
        "about": "Bench city built by `manage.py bench_city`; clear device tokens: keep private.",
        "seed": spec.seed,
        "built_at": datetime.fromtimestamp(now, UTC).isoformat(),
        "database": connection.settings_dict["NAME"],
        "counts": {"devices": spec.devices, "items": spec.items, "interactions": spec.interactions},
        "centre": list(layout.CENTRE),
        "bbox": list(layout.bbox()),
        "categories": [row[0] for row in texts.CATEGORIES],
        "items": popular,
        "devices": [
            {
                "id": pk,
                "token": tokens[pk - 1],
                "personalization": bool(consent[pk - 1]),
                "places": places.get(pk, []),
            }
            for pk in sample
        ],
    }


def _write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(data, handle)
