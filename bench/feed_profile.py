"""Where a feed request's CPU goes: a phase table, in process, next to the plain DRF list.

```sh
DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgis:///quartier_bench \
    CACHE_URL=redis://127.0.0.1:6379/11 .venv/bin/python -m bench.feed_profile \
    [--requests 40] [--warmup 20] [--cprofile anonymous|personal|plain] [--json out.json]
```

Drives ``GET /api/v1/diagnostics/plain-items/`` (the reference), anonymous first pages (a
fresh random point of the bench city's ``bbox`` per request, so no cell's shared snapshot
answers) and personal first pages (a fresh consenting device of the manifest per request, its
cached inputs dropped first: the cold first page the load test sees) through Django's test
client on the bench city, and reports per request: web CPU (``time.process_time``) split by
phase, PostgreSQL backend CPU (psutil on the connection's backend), SQL statements, and the
fragment hits. The web CPU leaves out the costliest 5 % of each kind's requests (``--trim``;
the untrimmed mean is shown too). Phases are timed by wrapping the feed's functions at the
names the feed code calls them by (exclusive time: a phase nested in another is not counted
twice); what no phase
covers is "framework + response" (URL resolution, DRF's request, authentication wrapper,
rendering, the test client). The database is only read: every request runs in a transaction
that is rolled back (a device's ``last_seen_at`` update included).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "var" / "bench" / "city.json"

#: Phase name → functions (module, attribute) whose calls count in it, as the feed code calls
#: them (a name imported into the caller's module is wrapped there). Missing ones are skipped.
PHASES: dict[str, list[tuple[str, str]]] = {
    "auth + throttle": [
        ("apps.residents.auth", "DeviceTokenAuthentication.authenticate"),
        ("apps.residents.auth", "DeviceScopedRateThrottle.allow_request"),
    ],
    "query params": [("apps.recommend.online.api.feed", "feed_query")],
    "resident inputs": [("apps.recommend.online.feed_service", "resident_inputs_cached")],
    "candidates (index)": [("apps.recommend.online.feed_service", "feed_catalog_indexed")],
    "context": [
        ("apps.recommend.online.feed_service", "build_context"),
        ("apps.recommend.online.feed_service", "_history"),
    ],
    "serving ranker": [("apps.recommend.online.feed_service", "serving_ranker")],
    "features + scoring": [("apps.recommend.online.feed_service", "rank")],
    "interleaving": [("apps.recommend.online.feed_service", "_interleaved")],
    "snapshot pack": [("apps.recommend.online.feed_service", "snapshot_rows")],
    "snapshot cache": [
        ("apps.recommend.online.feed_service", "shared_get"),
        ("apps.recommend.online.feed_service", "shared_put"),
        ("apps.recommend.online.feed_service", "snapshot_save"),
    ],
    "items render (fragments + SQL)": [("apps.recommend.online.feed_service", "items_render")],
    "explanations": [("apps.recommend.online.feed_service", "explain")],
    "page JSON": [("apps.recommend.online.api.feed", "page_json")],
}
OTHER = "framework + response"
#: cProfile rows shown (``--top``).
TOP = 40


class PhaseClock:
    """Exclusive CPU time per phase: entering a phase pauses the one it runs in."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.stack: list[list[Any]] = []  # [phase, started]

    def wrap(self, phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            now = time.process_time()
            if self.stack:
                outer = self.stack[-1]
                self.totals[outer[0]] += now - outer[1]
            self.stack.append([phase, now])
            try:
                return function(*args, **kwargs)
            finally:
                end = time.process_time()
                self.totals[phase] += end - self.stack.pop()[1]
                if self.stack:
                    self.stack[-1][1] = end

        return timed


def install(clock: PhaseClock) -> list[str]:
    """Wrap every ``PHASES`` function that exists; return the ones found."""
    found = []
    for phase, targets in PHASES.items():
        for module_name, attribute in targets:
            module = importlib.import_module(module_name)
            owner: Any = module
            *path, name = attribute.split(".")
            for part in path:
                owner = getattr(owner, part, None)
            if owner is None or not hasattr(owner, name):
                continue
            setattr(owner, name, clock.wrap(phase, getattr(owner, name)))
            found.append(f"{module_name}.{attribute}")
    return found


@contextmanager
def rolled_back() -> Iterator[None]:
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far."""
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("select pg_backend_pid()")
        pid = cursor.fetchone()[0]
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


#: In-process list kinds: a first page, ``near`` 1 km and a ~1.5 km ``bbox`` (feed_bench's).
LISTS = ("list-first", "list-near", "list-bbox")


def requests_of(kind: str, manifest: dict[str, Any], n: int, rng: random.Random):
    """(path, headers, device id: -1 for an anonymous feed) of ``n`` requests of ``kind``."""
    min_lon, min_lat, max_lon, max_lat = manifest["bbox"]

    def point() -> tuple[float, float]:
        lat = min_lat + rng.random() * (max_lat - min_lat)
        lon = min_lon + rng.random() * (max_lon - min_lon)
        return lat, lon

    def where() -> str:
        return "lat={:.5f}&lon={:.5f}".format(*point())

    def box() -> str:
        lat, lon = point()
        return f"{lon:.5f},{lat:.5f},{lon + 0.02:.5f},{lat + 0.0135:.5f}"  # ~1.5 km

    types = ("news", "works", "events")
    if kind == "plain":
        return [(f"/api/v1/diagnostics/plain-items/?{where()}", {}, None) for _ in range(n)]
    if kind in LISTS:  # the three content types in turn, as feed_bench's list scenarios
        shape = {
            "list-first": lambda: "",
            "list-near": lambda: "near={:.5f},{:.5f}&radius=1000".format(*point()),
            "list-bbox": lambda: f"bbox={box()}",
        }[kind]
        return [(f"/api/v1/{types[i % 3]}/?{shape()}", {}, None) for i in range(n)]
    if kind == "anonymous":
        return [(f"/api/v1/feed/?page_size=20&{where()}", {}, -1) for _ in range(n)]
    devices = [d for d in manifest["devices"] if d["personalization"]]
    rng.shuffle(devices)
    if len(devices) < n:
        raise SystemExit(f"only {len(devices)} consenting devices in the manifest")
    return [
        ("/api/v1/feed/?page_size=20", {"Authorization": f"Bearer {d['token']}"}, d["id"])
        for d in devices[:n]
    ]


@functools.cache
def _client() -> Any:
    """One test client for the run: its handler loads the middleware once, as a worker does."""
    from django.test import Client

    return Client()


class Tally:
    """What the requests of one kind cost, one record per request."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.records: list[tuple[float, dict[str, float]]] = []  # web CPU s, phases s
        self.db = 0.0
        self.queries = self.hits = self.items = 0

    def result(self, trim: float = 0.0) -> dict[str, Any]:
        """Means per request; the web CPU (and its phases) without the ``trim`` share of the
        costliest requests (a garbage collection of the whole heap, a neighbour's burst on the
        shared cores: one such request moves an 80-request mean by a millisecond or more).
        PostgreSQL's CPU is read in 10 ms ticks, so only its untrimmed mean means something."""
        n = max(len(self.records), 1)
        kept = sorted(self.records, key=lambda r: r[0])[: max(1, round(n * (1 - trim)))]
        phases: dict[str, float] = defaultdict(float)
        for _web, record in kept:
            for name, seconds in record.items():
                phases[name] += seconds * 1000 / len(kept)
        web = sum(w for w, _ in kept) * 1000 / len(kept)
        phases[OTHER] = web - sum(phases.values())
        return {
            "requests": len(self.records),
            "trimmed": len(self.records) - len(kept),
            "web_cpu_ms": web,
            "web_cpu_ms_untrimmed": sum(w for w, _ in self.records) * 1000 / n,
            "db_cpu_ms": self.db * 1000 / n,
            "queries": self.queries / n,
            "fragment_hits": f"{self.hits}/{self.items}" if self.items else "—",
            "phases": dict(phases),
        }


def measure_one(request: tuple[str, dict[str, str], int | None], tally: Tally,
                clock: PhaseClock, profiler: cProfile.Profile | None = None) -> None:  # fmt: skip
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.residents.rounding import snap_coordinates

    path, headers, device_id = request
    if device_id == -1:  # a cell ranked by an earlier run is not what is measured
        lat, lon = (float(v.split("=")[1]) for v in path.split("&")[-2:])
        cell = snap_coordinates(lon, lat)
        cache.delete(f"feed:shared:{cell[0]:.3f},{cell[1]:.3f}")
    elif device_id is not None:
        cache.delete(f"feed:inputs:{device_id}")  # the cold first page of a device
    phases: dict[str, float] = defaultdict(float)
    clock.totals = phases
    db_before = backend_cpu()
    with rolled_back(), CaptureQueriesContext(connection) as captured:
        if profiler is not None:
            profiler.enable()
        started = time.process_time()
        response = _client().get(path, headers=headers)
        tally.records.append((time.process_time() - started, phases))
        if profiler is not None:
            profiler.disable()
    tally.db += backend_cpu() - db_before
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code} {response.content[:300]!r}")
    if tally.kind not in ("plain", *LISTS):
        body = response.json()
        assert body["personalized"] is (tally.kind == "personal"), path
        assert response["X-Feed-Snapshot"] == "ranked", response["X-Feed-Snapshot"]
        h, n = response["X-Fragments"].split("/")
        tally.hits, tally.items = tally.hits + int(h), tally.items + int(n)
    tally.queries += len(captured)


def measure(kinds: list[str], manifest: dict[str, Any], n: int, rng: random.Random,
            clock: PhaseClock, profiled: Collection[str] = (),
            trim: float = 0.0) -> dict[str, Any]:  # fmt: skip
    """``n`` requests of each kind, taken in turn (a busier minute weighs on all kinds)."""
    queues = {kind: requests_of(kind, manifest, n, rng) for kind in kinds}
    tallies = {kind: Tally(kind) for kind in kinds}
    profilers = {kind: cProfile.Profile(time.process_time) for kind in profiled}
    for i in range(n):
        for kind in kinds:
            measure_one(queues[kind][i], tallies[kind], clock, profilers.get(kind))
    for kind, profiler in profilers.items():
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(TOP)
        stats.sort_stats("cumulative").print_stats(TOP)
        print(f"--- cProfile: {kind} (CPU time) ---", out.getvalue(), file=sys.stderr)
    return {kind: tally.result(trim) for kind, tally in tallies.items()}


def render(results: dict[str, dict[str, Any]], load: tuple[float, float, float]) -> str:
    kinds = list(results)
    names = [*PHASES, OTHER]
    head = "| phase (CPU ms / request) | " + " | ".join(kinds) + " |"
    lines = [head, "|---|" + "---:|" * len(kinds)]
    for name in names:
        if not any(name in results[k]["phases"] for k in kinds):
            continue
        cells = [f"{results[k]['phases'].get(name, 0.0):.2f}" for k in kinds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    ref = results.get("plain", {}).get("web_cpu_ms", 0) + results.get("plain", {}).get(
        "db_cpu_ms", 0
    )
    rows = [
        ("**web CPU**", lambda r: f"**{r['web_cpu_ms']:.2f}**"),
        ("web CPU, untrimmed", lambda r: f"{r['web_cpu_ms_untrimmed']:.2f}"),
        ("PostgreSQL CPU", lambda r: f"{r['db_cpu_ms']:.2f}"),
        ("**web + DB**", lambda r: f"**{r['web_cpu_ms'] + r['db_cpu_ms']:.2f}**"),
        (
            "throughput x plain (by CPU)",
            lambda r: f"{ref / (r['web_cpu_ms'] + r['db_cpu_ms']):.2f}" if ref else "—",
        ),
        ("SQL statements", lambda r: f"{r['queries']:.1f}"),
        ("fragment hits", lambda r: r["fragment_hits"]),
    ]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(results[k]) for k in kinds) + " |")
    lines.append("")
    trimmed = {k: results[k]["trimmed"] for k in kinds}
    lines.append(f"web CPU without the costliest requests of each kind: {trimmed}")
    lines.append(f"load average before/after: {load}, {os.getloadavg()}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="measured requests per kind")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per kind")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--kinds", default="plain,anonymous,personal")
    parser.add_argument("--cprofile", default="", help="kinds to profile, e.g. anonymous")
    parser.add_argument("--top", type=int, default=40, help="cProfile rows shown")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--trim", type=float, default=0.05, help="share of the costliest requests left out"
    )
    parser.add_argument(
        "--render-all",
        action="store_true",
        help="store every public item's list fragments first, every language (steady state)",
    )
    parser.add_argument("--manifest", type=Path, default=MANIFEST, help="the bench city's")
    options = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("API_DIAGNOSTICS", "1")
    os.environ.setdefault("API_CACHE_SECONDS", "0")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("RECOMMENDER_MODEL_DIR", tempfile.mkdtemp(prefix="feed-profile-"))
    import django

    django.setup()
    from apps.recommend.online.item_index import current_index

    manifest = json.loads(options.manifest.read_text())
    seed = options.seed if options.seed is not None else random.randrange(2**31)
    rng = random.Random(seed)
    started = time.perf_counter()
    current_index()  # built once per process (not a request's cost)
    print(f"index built in {time.perf_counter() - started:.1f} s; seed {seed}", file=sys.stderr)
    if options.render_all:
        from apps.core.api.fragments import fragments_render_all

        with rolled_back():
            written = fragments_render_all()
        print(f"{written} fragments written", file=sys.stderr)
    clock = PhaseClock()
    kinds = options.kinds.split(",")
    # Warm-up: connections, prepared statements, imports, fragments.
    measure(kinds, manifest, options.warmup, rng, clock)
    found = install(clock)
    print("phases timed at: " + ", ".join(found), file=sys.stderr)
    global TOP
    TOP = options.top
    load = os.getloadavg()
    profiled = [k for k in options.cprofile.split(",") if k]
    results = measure(kinds, manifest, options.requests, rng, clock, profiled, options.trim)
    print(render(results, load))
    if options.json:
        options.json.write_text(json.dumps({"seed": seed, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
