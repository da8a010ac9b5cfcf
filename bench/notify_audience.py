"""Audience of a roadwork in the bench city: one SQL query against checking devices in Python.

    .venv/bin/python -m bench.notify_audience [--database postgis:///quartier_bench]
        [--items 5] [--repeat 7] [--python-repeat 1] [--json out.json]

Needs the bench city (``python manage.py bench_city``). Picks ``--items`` live roadworks of
varied shapes — the longest line and the largest site (polygon) of ``info`` urgency, an
``important`` line (no category filter: the widest audience), the shortest line and a point,
then lines at other lengths — and for each:

1. runs ``audience(item)`` (``apps.notifications.audience``: the exact SQL the push pipeline
   runs, the device ids) ``--repeat`` times, checks with ``CaptureQueriesContext`` that it is
   **one** query, and reports the median and the audience size; the same for ``count()``;
2. runs ``EXPLAIN (ANALYZE)`` of it once and says whether the places' reach-box GiST index
   (``residents_place_reach_gist``) is used;
3. checks the same rule in Python, the way a plain implementation would: **one bulk load** of
   every pushable device with its places, followed categories and followed areas (done once,
   timed), then a loop over the devices — urgency, category, areas, then for each place the
   geodesic distance from the place to the item's geometry against its radius (closest point
   on the sphere as PostGIS finds it, then the distance on the WGS 84 ellipsoid, Vincenty) —
   timed alone and with the load; **both device sets must be equal**;
4. for information, times ``reach_by_area(item)`` (the admin's preview by district) and
   ``insert_deliveries(with_why(audience(item)))`` (``INSERT … SELECT`` into the outbox, in a
   transaction rolled back afterwards; the inserted rows must equal the audience).

docs/architecture.md §8: the audience of a roadwork in ≤ 100 ms, one SQL query, ≥ 100 x faster
than checking devices in Python. ``run(**options)`` returns the figures as a dict; as a script
it prints a table (``--json`` also writes the dict). Run inside a configured Django (the smoke
test), it uses the current database connection and ignores ``--database``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/notify_audience.py
    sys.path.insert(0, str(ROOT))

TITLE = "Audience of a roadwork: one SQL query against checking devices in Python"
REACH_INDEX = "residents_place_reach_gist"

DEFAULTS: dict[str, Any] = {
    "database": "postgis:///quartier_bench",
    "items": 5,
    "repeat": 7,
    "python_repeat": 1,
}

# --- geodesy of the Python check -----------------------------------------------------------
#
# PostGIS's ``ST_DWithin(geography, geography, r)`` finds the closest point of the item to the
# place on the sphere (edge by edge; a point inside a polygon is at distance 0), then measures
# the distance between the two on the WGS 84 ellipsoid. The check does the same, in plain
# Python: the two sets must match device for device.

_A = 6_378_137.0  # WGS 84
_F = 1 / 298.257223563
_B = _A * (1 - _F)

Vector = tuple[float, float, float]
LonLat = tuple[float, float]


def _cart(lon: float, lat: float) -> Vector:
    lmb, phi = math.radians(lon), math.radians(lat)
    return (math.cos(phi) * math.cos(lmb), math.cos(phi) * math.sin(lmb), math.sin(phi))


def _lonlat(v: Vector) -> LonLat:
    return (
        math.degrees(math.atan2(v[1], v[0])),
        math.degrees(math.asin(max(-1.0, min(1.0, v[2])))),
    )


def _angle(u: Vector, v: Vector) -> float:
    """The angle between two unit vectors (radians), well conditioned for small angles."""
    cx = u[1] * v[2] - u[2] * v[1]
    cy = u[2] * v[0] - u[0] * v[2]
    cz = u[0] * v[1] - u[1] * v[0]
    return math.atan2(
        math.sqrt(cx * cx + cy * cy + cz * cz), u[0] * v[0] + u[1] * v[1] + u[2] * v[2]
    )


def _closest_on_edge(p: Vector, a: Vector, b: Vector) -> tuple[float, Vector]:
    """Angular distance from ``p`` to the great-circle edge ``a``-``b`` and the closest point."""
    nx, ny, nz = a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]
    norm = math.sqrt(nx * nx + ny * ny + nz * nz)
    best_d, best = _angle(p, a), a
    d_b = _angle(p, b)
    if d_b < best_d:
        best_d, best = d_b, b
    if norm == 0.0:  # zero-length edge
        return best_d, best
    nx, ny, nz = nx / norm, ny / norm, nz / norm
    s = p[0] * nx + p[1] * ny + p[2] * nz
    kx, ky, kz = p[0] - s * nx, p[1] - s * ny, p[2] - s * nz
    k_norm = math.sqrt(kx * kx + ky * ky + kz * kz)
    if k_norm == 0.0:
        return best_d, best
    k = (kx / k_norm, ky / k_norm, kz / k_norm)
    # On the edge when the projection lies between a and b on the great circle.
    if abs(_angle(a, k) + _angle(k, b) - _angle(a, b)) < 1e-12:
        d_k = _angle(p, k)
        if d_k < best_d:
            best_d, best = d_k, k
    return best_d, best


def _inside_ring(lon: float, lat: float, ring: Sequence[LonLat]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def vincenty_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Geodesic distance on the WGS 84 ellipsoid (Vincenty's inverse formula, metres)."""
    if lon1 == lon2 and lat1 == lat2:
        return 0.0
    u1 = math.atan((1 - _F) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - _F) * math.tan(math.radians(lat2)))
    big_l = math.radians(lon2 - lon1)
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = big_l
    for _ in range(200):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0.0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha * sin_alpha
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = _F / 16 * cos2_alpha * (4 + _F * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * _F * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm * cos_2sm))
        )
        if abs(lam - previous) < 1e-13:
            break
    u_sq = cos2_alpha * (_A * _A - _B * _B) / (_B * _B)
    k_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    k_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta_sigma = (
        k_b
        * sin_sigma
        * (
            cos_2sm
            + k_b
            / 4
            * (
                cos_sigma * (-1 + 2 * cos_2sm * cos_2sm)
                - k_b
                / 6
                * cos_2sm
                * (-3 + 4 * sin_sigma * sin_sigma)
                * (-3 + 4 * cos_2sm * cos_2sm)
            )
        )
    )
    return _B * k_a * (sigma - delta_sigma)


@dataclass
class Shape:
    """An item's geometry, decomposed once for the Python check: points, edges, polygons."""

    points: list[tuple[LonLat, Vector]] = field(default_factory=list)
    edges: list[tuple[Vector, Vector]] = field(default_factory=list)
    rings: list[list[list[LonLat]]] = field(default_factory=list)  # polygons: outer + holes

    @classmethod
    def of(cls, geometry: Any) -> Shape:
        shape = cls()
        shape._add(geometry)
        return shape

    @classmethod
    def of_wkt(cls, wkt: str) -> Shape:
        from django.contrib.gis.geos import GEOSGeometry

        return cls.of(GEOSGeometry(wkt, srid=4326))

    def _add(self, geometry: Any) -> None:
        kind = geometry.geom_type
        if kind == "Point":
            self.points.append(((geometry.x, geometry.y), _cart(geometry.x, geometry.y)))
        elif kind in ("LineString", "LinearRing"):
            self._add_line(geometry.coords)
        elif kind == "Polygon":
            rings = [list(ring.coords) for ring in geometry]
            self.rings.append(rings)
            for ring in rings:
                self._add_line(ring)
        else:  # Multi* and collections
            for part in geometry:
                self._add(part)

    def _add_line(self, coords: Iterable[Sequence[float]]) -> None:
        vectors = [_cart(x, y) for x, y, *_ in coords]
        self.edges.extend(itertools.pairwise(vectors))

    def distance_m(self, lon: float, lat: float) -> float:
        """Distance from (lon, lat) to the shape, as PostGIS's geography measures it."""
        for outer, *holes in self.rings:
            if _inside_ring(lon, lat, outer) and not any(_inside_ring(lon, lat, h) for h in holes):
                return 0.0
        p = _cart(lon, lat)
        best_d, best = math.inf, None
        for a, b in self.edges:
            d, k = _closest_on_edge(p, a, b)
            if d < best_d:
                best_d, best = d, k
        for _, v in self.points:
            d = _angle(p, v)
            if d < best_d:
                best_d, best = d, v
        if best is None:
            return math.inf
        return vincenty_m(lon, lat, *_lonlat(best))


# --- the Python check ------------------------------------------------------------------------


@dataclass
class Loaded:
    """Every pushable device, as one bulk load would bring them into Python."""

    devices: list[tuple[int, int]]  # (id, min_urgency)
    places: dict[int, list[tuple[float, float, int]]]  # device -> (lon, lat, radius_m)
    categories: dict[int, set[int]]
    areas: dict[int, set[int]]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "devices": len(self.devices),
            "places": sum(len(v) for v in self.places.values()),
            "category_follows": sum(len(v) for v in self.categories.values()),
            "area_follows": sum(len(v) for v in self.areas.values()),
        }


def load_devices() -> Loaded:
    from apps.residents.models import AreaFollow, CategoryFollow, Device, Place

    pushable = Device.objects.pushable()
    devices = list(pushable.order_by("pk").values_list("pk", "min_urgency"))
    places: dict[int, list[tuple[float, float, int]]] = {}
    for device_id, location, radius in Place.objects.filter(device__in=pushable).values_list(
        "device_id", "location", "radius_m"
    ):
        places.setdefault(device_id, []).append((location.x, location.y, radius))
    categories: dict[int, set[int]] = {}
    for device_id, category_id in CategoryFollow.objects.filter(device__in=pushable).values_list(
        "device_id", "category_id"
    ):
        categories.setdefault(device_id, set()).add(category_id)
    areas: dict[int, set[int]] = {}
    for device_id, area_id in AreaFollow.objects.filter(device__in=pushable).values_list(
        "device_id", "area_id"
    ):
        areas.setdefault(device_id, set()).add(area_id)
    return Loaded(devices, places, categories, areas)


def python_audience(loaded: Loaded, item: Any) -> set[int]:
    """The audience rule of ``apps.notifications.audience``, device by device in Python."""
    from apps.core.models import Urgency

    urgency, category = int(item.urgency), item.category_id
    any_category = urgency >= Urgency.IMPORTANT
    item_areas = set(item.areas.values_list("pk", flat=True))
    shape = None if item.geometry is None else Shape.of(item.geometry)
    no_places: list[tuple[float, float, int]] = []
    no_ids: set[int] = set()
    found = set()
    for device_id, min_urgency in loaded.devices:
        if min_urgency > urgency:
            continue
        if not any_category and category not in loaded.categories.get(device_id, no_ids):
            continue
        if shape is None or item_areas & loaded.areas.get(device_id, no_ids):
            found.add(device_id)
            continue
        for lon, lat, radius in loaded.places.get(device_id, no_places):
            if shape.distance_m(lon, lat) <= radius:
                found.add(device_id)
                break
    return found


# --- choosing the roadworks ------------------------------------------------------------------

_KINDS: tuple[tuple[str, str, int, str], ...] = (
    # (label, geometry type, urgency, order by: the longest/largest first, or the shortest)
    ("longest line, info", "LINESTRING", 0, "-size"),
    ("largest site (polygon), info", "POLYGON", 0, "-size"),
    ("line, important", "LINESTRING", 1, "median"),
    ("shortest line, info", "LINESTRING", 0, "size"),
    ("point, info", "POINT", 0, "median"),
    ("median line, info", "LINESTRING", 0, "median"),
    ("site (polygon), important", "POLYGON", 1, "median"),
    ("line, alert", "LINESTRING", 2, "median"),
)


def pick_works(count: int) -> list[tuple[str, Any]]:
    """Up to ``count`` live roadworks of the kinds above (fewer on a tiny city)."""
    from django.db.models import CharField, F, FloatField
    from django.db.models.expressions import RawSQL

    from apps.works.models import Works

    size = RawSQL(
        "CASE WHEN ST_Dimension(geometry) = 2 THEN ST_Area(geography(geometry)) "
        "ELSE ST_Length(geography(geometry)) END",
        [],
        output_field=FloatField(),
    )
    kind_sql = RawSQL("GeometryType(geometry)", [], output_field=CharField())
    live = Works.objects.public().filter(geometry__isnull=False).annotate(size=size, kind=kind_sql)
    chosen: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for label, kind, urgency, order in _KINDS:
        if len(chosen) >= count:
            break
        candidates = live.filter(urgency=urgency, kind=kind).exclude(pk__in=seen)
        ids = list(candidates.order_by(F("size").asc(), "pk").values_list("pk", flat=True))
        if not ids:
            continue
        pk = {"size": ids[0], "-size": ids[-1], "median": ids[len(ids) // 2]}[order]
        seen.add(pk)
        chosen.append((label, Works.objects.get(pk=pk)))
    return chosen


# --- measuring -------------------------------------------------------------------------------


def _timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time in ms over ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _explain(sql: str, params: Sequence[Any]) -> tuple[str, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    execution = next(
        (
            float(line.split(":")[1].split()[0])
            for line in plan.splitlines()
            if "Execution Time" in line
        ),
        math.nan,
    )
    return plan, execution


def _insert_deliveries(item: Any) -> tuple[float, int]:
    """``insert_deliveries`` of the audience with its reasons, in a rolled-back transaction."""
    from django.db import transaction

    from apps.notifications import audience as audiences
    from apps.notifications.models import Kind, Notification

    with transaction.atomic():
        notification = Notification.objects.create(
            key=f"bench-audience:{item.pk}:{time.time_ns()}",
            kind=Kind.NEW,
            item_type=item.type_code,
            item_id=item.pk,
            urgency=item.urgency,
        )
        started = time.perf_counter()
        inserted = audiences.insert_deliveries(
            notification.pk, audiences.with_why(audiences.audience(item), item)
        )
        elapsed = (time.perf_counter() - started) * 1000
        transaction.set_rollback(True)
    return elapsed, inserted


def _mismatch_detail(loaded: Loaded, item: Any, device_ids: Iterable[int]) -> list[dict[str, Any]]:
    shape = Shape.of(item.geometry) if item.geometry is not None else None
    out = []
    for device_id in sorted(device_ids)[:10]:
        places = loaded.places.get(device_id, [])
        out.append(
            {
                "device": device_id,
                "places": [
                    {"lon": lon, "lat": lat, "radius_m": r,
                     "distance_m": None if shape is None else round(shape.distance_m(lon, lat), 4)}
                    for lon, lat, r in places
                ],
            }
        )  # fmt: skip
    return out


def measure_item(label: str, item: Any, loaded: Loaded, load_ms: float, options: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.notifications import audience as audiences

    queryset = audiences.audience(item).values_list("pk", flat=True)
    with CaptureQueriesContext(connection) as captured:
        sql_ids = set(queryset)
    one_query = len(captured) == 1
    if not one_query:
        raise AssertionError(f"audience({label}) ran {len(captured)} queries, not one")
    sql_ms, _ = _timed(lambda: list(queryset.all()), options["repeat"])  # a fresh evaluation
    count_ms, count = _timed(lambda: audiences.audience(item).count(), options["repeat"])
    assert count == len(sql_ids), (count, len(sql_ids))
    sql, params = queryset.query.sql_with_params()
    plan, explain_ms = _explain(sql, params)

    loop_ms, python_ids = _timed(lambda: python_audience(loaded, item), options["python_repeat"])
    missing, extra = sql_ids - python_ids, python_ids - sql_ids

    by_area_ms, by_area = _timed(lambda: audiences.reach_by_area(item), 3)
    assert sum(n for _, n in by_area) == len(sql_ids), by_area
    inserts = [_insert_deliveries(item) for _ in range(3)]
    insert_ms = statistics.median(ms for ms, _ in inserts)
    inserted = inserts[-1][1]
    assert inserted == len(sql_ids), (inserted, len(sql_ids))

    geometry = item.geometry
    return {
        "label": label,
        "works_id": item.pk,
        "geometry": geometry.geom_type,
        "vertices": geometry.num_coords,
        "urgency": int(item.urgency),
        "category_id": item.category_id,
        "audience": len(sql_ids),
        "sql_ms": round(sql_ms, 2),
        "count_ms": round(count_ms, 2),
        "explain_ms": round(explain_ms, 2),
        "one_query": one_query,
        "reach_index_used": REACH_INDEX in plan,
        "plan": plan,
        "python_loop_ms": round(loop_ms, 1),
        "python_total_ms": round(load_ms + loop_ms, 1),
        "ratio_loop": round(loop_ms / sql_ms, 1),
        "ratio_total": round((load_ms + loop_ms) / sql_ms, 1),
        "same_devices": not missing and not extra,
        "only_sql": _mismatch_detail(loaded, item, missing),
        "only_python": _mismatch_detail(loaded, item, extra),
        "reach_by_area_ms": round(by_area_ms, 2),
        "reach_by_area_groups": len(by_area),
        "insert_deliveries_ms": round(insert_ms, 2),
        "inserted": inserted,
    }


def _setup_django(database: str) -> None:
    from django.conf import settings

    if settings.configured:
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    os.environ["DATABASE_URL"] = database
    import django

    django.setup()


def run(**options: Any) -> dict[str, Any]:
    """The benchmark (see the module doc); ``options`` override ``DEFAULTS``."""
    options = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    _setup_django(options["database"])
    from django.db import connection

    load = [round(os.getloadavg()[0], 2)]
    works = pick_works(options["items"])
    if not works:
        raise RuntimeError("no live roadworks with a geometry: build the bench city first")
    started = time.perf_counter()
    loaded = load_devices()
    load_ms = (time.perf_counter() - started) * 1000
    items = [measure_item(label, item, loaded, load_ms, options) for label, item in works]
    load.append(round(os.getloadavg()[0], 2))
    mismatches = sum(len(i["only_sql"]) + len(i["only_python"]) for i in items)
    sql = [i["sql_ms"] for i in items]
    ratios = [i["ratio_total"] for i in items]
    figures: dict[str, Any] = {
        "database": connection.settings_dict["NAME"],
        "machine": {"cpus": os.cpu_count(), "loadavg_during": load},
        "loaded": loaded.counts,
        "python_load_ms": round(load_ms, 1),
        "items": items,
        "median_sql_ms": round(statistics.median(sql), 2),
        "max_sql_ms": max(sql),
        "median_ratio": round(statistics.median(ratios), 1),
        "min_ratio": min(ratios),
        "median_ratio_loop": round(statistics.median(i["ratio_loop"] for i in items), 1),
        "one_query": all(i["one_query"] for i in items),
        "reach_index_used": all(i["reach_index_used"] for i in items),
        "mismatches": mismatches,
    }
    met = (
        figures["max_sql_ms"] <= 100
        and figures["min_ratio"] >= 100
        and figures["one_query"]
        and not mismatches
    )
    figures["targets"] = [
        {
            "id": "audience",
            "target": "audience of a roadwork: ≤ 100 ms, one SQL query, ≥ 100 x faster than Python",
            "status": "met" if met else "missed",
            "detail": f"median {figures['median_sql_ms']} ms, max {figures['max_sql_ms']} ms; "
            f"Python (load + check) / SQL {figures['min_ratio']}-{max(ratios)} x "
            f"(check loop alone {figures['median_ratio_loop']} x); "
            f"{'one query' if figures['one_query'] else 'several queries'}; "
            f"{mismatches} device(s) differ",
        }
    ]
    return figures


def render(result: dict[str, Any]) -> str:
    lines = [
        "| roadwork | audience | SQL ms | count ms | reach index | Python check ms (load + loop) "
        "| Python / SQL (loop only) | same set | by area ms | INSERT ms |",
        "|---|---:|---:|---:|---|---:|---:|---|---:|---:|",
    ]
    for i in result["items"]:
        python = (
            f"{i['python_total_ms']:,.0f} ({result['python_load_ms']:,.0f} + "
            f"{i['python_loop_ms']:,.0f})"
        )
        lines.append(
            f"| {i['label']} (#{i['works_id']}, {i['vertices']} vertices) | {i['audience']:,} "
            f"| {i['sql_ms']:.1f} | {i['count_ms']:.1f} "
            f"| {'yes' if i['reach_index_used'] else 'NO'} | {python} "
            f"| {i['ratio_total']:,.0f} x ({i['ratio_loop']:,.1f} x) "
            f"| {'yes' if i['same_devices'] else 'NO'} | {i['reach_by_area_ms']:.1f} "
            f"| {i['insert_deliveries_ms']:.1f} |"
        )
    loaded = result["loaded"]
    lines += [
        "",
        f"Loaded for the Python check: {loaded['devices']:,} pushable devices, "
        f"{loaded['places']:,} places, {loaded['category_follows']:,} category follows, "
        f"{loaded['area_follows']:,} area follows in {result['python_load_ms']:,.0f} ms.",
        f"Median SQL {result['median_sql_ms']} ms, max {result['max_sql_ms']} ms; one query each: "
        f"{result['one_query']}; reach-box index used: {result['reach_index_used']}; "
        f"devices differing between SQL and Python: {result['mismatches']}.",
        f"Load average during the run: {result['machine']['loadavg_during']} "
        f"({result['machine']['cpus']} CPUs).",
    ]
    for i in result["items"]:
        if not i["same_devices"]:
            lines.append(
                f"MISMATCH {i['label']}: only SQL {i['only_sql']}; only Python {i['only_python']}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help=f"default {DEFAULTS['database']}")
    parser.add_argument(
        "--items", type=int, help=f"roadworks to measure (default {DEFAULTS['items']})"
    )
    parser.add_argument("--repeat", type=int, help="runs of each query (median)")
    parser.add_argument("--python-repeat", type=int, help="runs of each Python check loop (median)")
    parser.add_argument("--plans", action="store_true", help="print each EXPLAIN (ANALYZE)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = vars(parser.parse_args(argv))
    json_path, plans = args.pop("json"), args.pop("plans")
    result = run(**args)
    print(render(result))
    if plans:
        for i in result["items"]:
            print(f"\n-- {i['label']}\n{i['plan']}")
    if json_path:
        json_path.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
