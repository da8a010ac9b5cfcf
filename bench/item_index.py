"""The feed's item index on the bench city: build time, memory, candidates per request vs SQL.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgis:///quartier_bench \\
        .venv/bin/python -m bench.item_index [--requests 200] [--seed 3] [--json out.json]
    # the incremental refresh: WRITES (titles of a few items), so on a copy of the bench city
    createdb -T quartier_bench quartier_incr_bench
    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgis:///quartier_incr_bench \\
        .venv/bin/python -m bench.item_index --refresh [--changes 1 100]

In one process: builds the index (``item_index.index_build``) and reports its time, the bytes
of its arrays (``ItemIndex.nbytes``) and the growth of the process's RSS, then answers the same
requests (anonymous at random points, personal with the places, follows and history of
consenting devices) from the index and from the SQL candidate statement, and reports CPU ms
per request of this process (``time.process_time``) plus, for SQL, the wall time (the database
works in another process), and the overlap of the candidate sets (1.0 = identical).

``--refresh`` instead: a full build, then for each count of ``--changes`` that many live items
(spread over the types) get a new title and ``updated_at`` (what a save writes), and the index
is refreshed incrementally (``index_refresh.index_update``) and, for comparison, read again in
full (``index_build`` reusing texts): wall and CPU seconds of each, rows read, the process's
RSS, and whether both give the same arrays. It writes to the database: run it on a copy.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()


def run(*, requests: int = 200, seed: int = 3) -> dict[str, Any]:
    _setup()
    import numpy as np
    import psutil
    from django.utils import timezone

    from apps.core.geo import point
    from apps.recommend.online.candidate_query import CandidateRequest, feed_catalog
    from apps.recommend.online.index_query import index_catalog
    from apps.recommend.online.item_index import _release_memory, index_build
    from apps.recommend.selectors import resident_inputs
    from apps.residents.models import Device
    from bench.machine import facts

    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    started = time.perf_counter()
    cpu = time.process_time()
    index = index_build(generation="bench")
    build_s = time.perf_counter() - started
    build_cpu_s = time.process_time() - cpu
    rss_peak = process.memory_info().rss
    _release_memory()  # as current_index() does after a build
    rss_after = process.memory_info().rss
    again = time.perf_counter()
    index_build(generation="bench-2", previous=index)  # texts reused: a rebuild after an edit
    rebuild_s = time.perf_counter() - again

    rng = np.random.default_rng(seed)
    now = timezone.now()
    lon = index.lon[~np.isnan(index.lon)]
    lat = index.lat[~np.isnan(index.lat)]
    box = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    batch: list[CandidateRequest] = []
    devices = list(
        Device.objects.filter(personalization_consent=True)
        .order_by("?")
        .values_list("pk", flat=True)[: requests // 2]
    )
    for device_id in devices:
        inputs = resident_inputs(device_id=device_id)
        history: dict[str, set[int]] = {}
        for code, item_id, _, _ in inputs.history:
            history.setdefault(code, set()).add(item_id)
        batch.append(
            CandidateRequest(
                now=now,
                places=[point(p.lon, p.lat) for p in inputs.places],
                followed_categories=inputs.follows.categories,
                followed_areas=frozenset(inputs.follows.areas),
                followed_organizations=inputs.follows.organizations,
                history=history,
                personal=True,
            )
        )
    while len(batch) < requests:
        x = box[0] + rng.random() * (box[2] - box[0])
        y = box[1] + rng.random() * (box[3] - box[1])
        batch.append(CandidateRequest(now=now, point=point(x, y)))

    def measure(answer) -> tuple[float, float, list[set[int]]]:
        sets = []
        wall, cpu = time.perf_counter(), time.process_time()
        for request in batch:
            sets.append(set(answer(request).candidates().keys.tolist()))
        n = len(batch)
        return (
            (time.process_time() - cpu) * 1000 / n,
            (time.perf_counter() - wall) * 1000 / n,
            sets,
        )

    for request in batch[:5]:  # warm: compiled statements, prepared plans, text cache
        feed_catalog(request)
        index_catalog(index, request)
    sql_cpu, sql_wall, sql_sets = measure(feed_catalog)
    idx_cpu, idx_wall, idx_sets = measure(lambda r: index_catalog(index, r).catalog)
    overlap = [len(a & b) / max(len(a | b), 1) for a, b in zip(sql_sets, idx_sets, strict=True)]
    return {
        "machine": facts(os.environ.get("DATABASE_URL")),
        "items": len(index),
        "segments": len(index.segments.x1),
        "occurrences": len(index.occ_start),
        "build_s": round(build_s, 2),
        "build_cpu_s": round(build_cpu_s, 2),
        "rebuild_reusing_texts_s": round(rebuild_s, 2),
        "index_mb": round(index.nbytes / 2**20, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
        "rss_growth_peak_mb": round((rss_peak - rss_before) / 2**20, 1),
        "requests": len(batch),
        "personal_requests": len(devices),
        "candidates_mean": round(float(np.mean([len(s) for s in idx_sets])), 1),
        "sql_cpu_ms": round(sql_cpu, 3),
        "sql_wall_ms": round(sql_wall, 3),
        "index_cpu_ms": round(idx_cpu, 3),
        "index_wall_ms": round(idx_wall, 3),
        "identical_sets": sum(o == 1.0 for o in overlap),
        "mean_overlap": round(float(np.mean(overlap)), 4),
    }


def _timed(call: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def _peak_reset() -> None:
    """Reset the process's peak RSS (``VmHWM``; Linux: ``/proc/self/clear_refs``)."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _peak_mb() -> float | None:
    """The process's peak RSS since the last ``_peak_reset`` (MiB; ``None`` off Linux)."""
    with contextlib.suppress(OSError), open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


def refresh_run(*, changes: list[int], seed: int = 3) -> dict[str, Any]:
    """Full build vs incremental refresh after ``changes`` items changed (module doc)."""
    _setup()
    import numpy as np
    import psutil
    from django.db.models import Value
    from django.db.models.functions import Concat, Now
    from django.utils import timezone

    from apps.core.registry import content_models
    from apps.recommend.engine.candidates import ITEM_TYPES
    from apps.recommend.online.index_refresh import index_update
    from apps.recommend.online.item_index import _release_memory, index_build
    from bench.machine import facts

    process = psutil.Process()
    rng = np.random.default_rng(seed)
    gc.collect()
    rss_start = process.memory_info().rss
    _peak_reset()
    index, build_s, build_cpu_s = _timed(lambda: index_build(generation="bench"))
    build_peak = _peak_mb()
    _release_memory()
    rss_built = process.memory_info().rss
    steps = []
    for count in changes:
        picked = rng.choice(len(index), size=min(count, len(index)), replace=False)
        for t, code in enumerate(ITEM_TYPES):
            ids = index.item_id[picked[index.item_type[picked] == t]].tolist()
            if ids:  # what a save writes to the row: the text, and ``updated_at``
                edited = {"title_fr": Concat("title_fr", Value(" (modifié)")), "updated_at": Now()}
                content_models()[code].objects.filter(pk__in=ids).update(**edited)
        now = timezone.now()
        _peak_reset()
        (fresh, read), refresh_s, refresh_cpu_s = _timed(
            partial(index_update, index, generation=f"bench-{count}", now=now)
        )
        rss_refreshed = process.memory_info().rss
        refresh_peak = _peak_mb()
        full, full_s, full_cpu_s = _timed(
            partial(index_build, generation="full", now=now, previous=index)
        )
        same = (
            np.array_equal(fresh.keys, full.keys)
            and np.array_equal(fresh.updated_s, full.updated_s)
            and np.array_equal(fresh.area_ids, full.area_ids)
            and np.array_equal(fresh.segments.x1, full.segments.x1)
            and (fresh.text != full.text).nnz == 0
        )
        steps.append(
            {
                "changed": len(picked),
                "rows_read": read,
                "refresh_s": round(refresh_s, 3),
                "refresh_cpu_s": round(refresh_cpu_s, 3),
                "full_reusing_texts_s": round(full_s, 2),
                "full_reusing_texts_cpu_s": round(full_cpu_s, 2),
                "rss_after_refresh_mb": round(rss_refreshed / 2**20, 1),
                "rss_peak_refresh_mb": refresh_peak,
                "same_as_full": bool(same),
            }
        )
        del full
        index = fresh
        _release_memory()
    return {
        "machine": facts(os.environ.get("DATABASE_URL")),
        "items": len(index),
        "build_s": round(build_s, 2),
        "build_cpu_s": round(build_cpu_s, 2),
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_built_mb": round(rss_built / 2**20, 1),
        "rss_peak_build_mb": build_peak,
        "index_mb": round(index.nbytes / 2**20, 1),
        "steps": steps,
        "rss_end_mb": round(process.memory_info().rss / 2**20, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--refresh", action="store_true", help="full build vs incremental refresh (writes!)"
    )
    parser.add_argument("--changes", type=int, nargs="+", default=[1, 100])
    args = parser.parse_args(argv)
    if args.refresh:
        result = refresh_run(changes=args.changes, seed=args.seed)
    else:
        result = run(requests=args.requests, seed=args.seed)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
