"""Throughput with Redis up, stopped and hung, in one run: public reads must stay served.

    .venv/bin/python bench/redis_down.py --database postgis:///quartier_bench [--duration 10]

One gunicorn (``bench.settings``, ``gunicorn.conf.py``: gthread) on the given database, its
cache a private redis-server. Rounds alternate three modes, so every ratio comes from the same
minutes of the same machine:

- ``normal``: Redis up (throttles counted, anonymous lists and details from the response cache);
- ``stopped``: redis-server terminated (connections refused);
- ``hung``: redis-server paused with SIGSTOP (connections accepted, nothing answers).

Each mode is loaded by wrk with a rotation of public reads discovered from the API: the news,
works and events lists, one detail of each, their GeoJSON, and the anonymous feed around points
of the city. Reported per mode: median requests/s over the rounds, p50/p95 latency, non-2xx
answers (must be 0), and CPU ms per request (gunicorn workers + PostgreSQL backends, sampled).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from apps.core.item_types import ITEM_TYPES  # noqa: E402
from bench import machine  # noqa: E402
from bench.feed_bench import run_wrk  # noqa: E402
from bench.load.server import ServerConfig, gunicorn  # noqa: E402
from testing.faultservers import RedisServer, free_port  # noqa: E402

TITLE = "Public reads with Redis stopped or hung, next to normal"
MODES = ("normal", "stopped", "hung")
DEFAULTS: dict[str, Any] = {
    # The bench city's, as bench/run_all.py passes it to the others.
    "database": os.environ.get("DATABASE_URL", "postgis:///quartier_bench"),
    "duration": 10.0,
    "rounds": 3,
    "connections": 8,
    "workers": 2,
    "threads": 4,
    "warmup": 2.0,
    "out": str(ROOT / "bench" / "results"),
}

_SCRIPT = """
local paths = {%s}
local k = 0
local bad = 0
math.randomseed(11)
request = function()
  k = k %% #paths + 1
  -- each resident comes through the proxy with their own address: per-IP throttles count
  local ip = string.format("10.%%d.%%d.%%d", math.random(0, 255), math.random(0, 255),
    math.random(1, 254))
  return wrk.format("GET", paths[k], {["X-Forwarded-For"] = ip})
end
response = function(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "seconds": %%.3f, "non_2xx": %%d, "socket_errors": %%d, '
    .. '"p50_ms": %%.2f, "p95_ms": %%.2f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3))
end
"""


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def discover_paths(base: str) -> list[str]:
    """Public reads of this database: lists, a detail and GeoJSON per type, anonymous feeds."""
    paths: list[str] = []
    points: list[tuple[float, float]] = []
    for kind in ITEM_TYPES:
        listing = _get_json(f"{base}/api/v1/{kind}/")
        paths += [f"/api/v1/{kind}/", f"/api/v1/{kind}/?format=geojson"]
        for item in listing["results"][:3]:
            paths.append(f"/api/v1/{kind}/{item['id']}/")
            geometry = item.get("geometry") or {}
            if geometry.get("type") == "Point":
                lon, lat = geometry["coordinates"]
                points.append((lat, lon))
    for lat, lon in points[:6] or [(45.764, 4.8357)]:
        paths.append(f"/api/v1/feed/?lat={lat:.4f}&lon={lon:.4f}")
    return paths


def _wrk(base: str, paths: list[str], *, connections: int, seconds: float) -> dict[str, Any]:
    script = _SCRIPT % ", ".join(json.dumps(p) for p in paths)
    return run_wrk(base + paths[0], script, connections=connections, seconds=seconds)


def _set_mode(redis: RedisServer, mode: str) -> None:
    redis.stop()  # a no-op when it is not running
    if mode in ("normal", "hung"):
        redis.start()
    if mode == "hung":
        redis.pause()


def _settle(base: str, mode: str, timeout: float = 15.0) -> str:
    """Wait until health agrees with ``mode`` (a process retries the cache every 5 s)."""
    wanted = "ok" if mode == "normal" else "degraded"
    deadline = time.monotonic() + timeout
    status = ""
    while time.monotonic() < deadline:
        # One probe per worker process: each has its own breaker.
        status = _get_json(f"{base}/api/v1/health/")["status"]
        if status == wanted:
            break
        time.sleep(0.5)
    return str(status)


def run(**overrides: Any) -> dict[str, Any]:
    options = {**DEFAULTS, **overrides}
    redis = RedisServer()
    redis.start()
    config = ServerConfig(
        database_url=options["database"],
        cache_url=redis.url,
        port=free_port(),
        workers=options["workers"],
        threads=options["threads"],
    )
    out = Path(options["out"])
    samples: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    try:
        with gunicorn(config, out / "redis-down-gunicorn.log") as sampler:
            paths = discover_paths(config.url)
            for _round in range(options["rounds"]):
                for mode in MODES:
                    _set_mode(redis, mode)
                    _settle(config.url, mode)
                    _wrk(config.url, paths, connections=2, seconds=options["warmup"])
                    start = time.time()
                    result = _wrk(
                        config.url,
                        paths,
                        connections=options["connections"],
                        seconds=options["duration"],
                    )
                    end = time.time()
                    web = sampler.cpu_between(start, end)
                    db = sampler.db_cpu_between(start, end)
                    if result["requests"] and web is not None:
                        result["cpu_ms_per_request"] = (
                            (web + (db or 0.0)) * 1000 / result["requests"]
                        )
                    samples[mode].append(result)
            health = {}
            for mode in MODES:
                _set_mode(redis, mode)
                health[mode] = _settle(config.url, mode)
    finally:
        redis.stop()
    summary = summarise(samples)
    figures = {
        "options": options,
        "paths": paths,
        "samples": samples,
        "summary": summary,
        "health": health,
        "machine": machine.facts(options["database"]),
    }
    served = all(summary[m]["non_2xx"] == 0 and summary[m]["socket_errors"] == 0 for m in MODES)
    degraded = health == {"normal": "ok", "stopped": "degraded", "hung": "degraded"}
    ratio = summary["stopped"]["ratio_to_normal"]
    targets = [
        {
            "id": "reliability-redis",
            "target": "Redis stopped or hung: public reads served, health `degraded`",
            "status": "met" if served and degraded else "missed",
            "detail": f"{len(paths)} public reads, 0 non-2xx required: "
            + ", ".join(f"{m} {summary[m]['non_2xx']} non-2xx" for m in MODES)
            + f"; health {health}; stopped {ratio} x the normal throughput",
        }
    ]
    result = {
        "name": "redis_down",
        "title": TITLE,
        "figures": figures,
        "targets": targets,
    }
    result["markdown"] = render(result)
    return result


def summarise(samples: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for mode, rows in samples.items():
        cpu = [r["cpu_ms_per_request"] for r in rows if "cpu_ms_per_request" in r]
        summary[mode] = {
            "rps": round(statistics.median(r["rps"] for r in rows), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in rows), 1),
            "p95_ms": round(statistics.median(r["p95_ms"] for r in rows), 1),
            "cpu_ms_per_request": round(statistics.median(cpu), 2) if cpu else None,
            "non_2xx": sum(r["non_2xx"] for r in rows),
            "socket_errors": sum(r["socket_errors"] for r in rows),
            "requests": sum(r["requests"] for r in rows),
        }
    normal = summary["normal"]["rps"] or 1.0
    for mode in MODES:
        summary[mode]["ratio_to_normal"] = round(summary[mode]["rps"] / normal, 2)
    return summary


def render(result: dict[str, Any]) -> str:
    figures = result["figures"]
    summary = figures["summary"]
    options = figures["options"]
    lines = [
        f"### {TITLE}",
        "",
        f"{len(figures['paths'])} public reads in rotation (lists, details, GeoJSON, anonymous "
        f"feed); {options['rounds']} rounds x {options['duration']} s per mode, wrk "
        f"{options['connections']} connections; gunicorn {options['workers']} x "
        f"{options['threads']} threads; medians over the rounds.",
        "",
        "| mode | req/s | x normal | p50 ms | p95 ms | CPU ms/request | non-2xx | health |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for mode in MODES:
        row = summary[mode]
        lines.append(
            f"| {mode} | {row['rps']} | {row['ratio_to_normal']} | {row['p50_ms']} | "
            f"{row['p95_ms']} | {row['cpu_ms_per_request']} | {row['non_2xx']} | "
            f"{figures['health'][mode]} |"
        )
    return "\n".join(lines) + "\n"


def quick_options() -> dict[str, Any]:
    return {"duration": 2.0, "rounds": 1, "warmup": 1.0, "connections": 2, "workers": 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULTS["database"])
    parser.add_argument("--duration", type=float, default=DEFAULTS["duration"])
    parser.add_argument("--rounds", type=int, default=DEFAULTS["rounds"])
    parser.add_argument("--connections", type=int, default=DEFAULTS["connections"])
    parser.add_argument("--workers", type=int, default=DEFAULTS["workers"])
    parser.add_argument("--threads", type=int, default=DEFAULTS["threads"])
    parser.add_argument("--json", type=Path, help="also write the figures there")
    args = parser.parse_args(argv)
    options = {k: v for k, v in vars(args).items() if k != "json"}
    result = run(**options)
    print(result["markdown"])
    for target in result["targets"]:
        print(f"- {target['status']}: {target['target']} ({target['detail']})")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0 if all(t["status"] == "met" for t in result["targets"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
