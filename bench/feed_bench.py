"""Feed latency and throughput against a plain list endpoint, measured in the same run.

    .venv/bin/python -m bench.feed_bench [--database postgis:///quartier_bench_feed]
        [--manifest var/bench/city.json] [--workers 2] [--connections 2] [--duration 20]
        [--rounds 3] [--warmup 15] [--model-dir DIR] [--json out.json]

Needs the bench city (``python manage.py bench_city``, whose manifest holds device tokens),
Redis (the snapshots of feed pages live in the cache, ``--cache``) and ``wrk``.

1. In this process: refreshes the popularity table (the beat's job), checks a few feed pages
   and counts the SQL queries of a first and a next page, anonymous and personal, at page
   sizes 10 and 50 (Django's test client on the bench database).
2. Starts gunicorn (``--workers`` sync workers, ``bench.settings``: production settings with
   the throttles raised) and drives it with ``wrk`` over real HTTP on 127.0.0.1, ``--connections``
   connections (by default one per worker: every worker busy, no queue), round after round
   of the same three scenarios, so that they share the machine's conditions:

   - ``list``: ``GET /api/v1/diagnostics/plain-items/``, the plain list endpoint (the 20
     newest items of the three types, list serializers, no cache; ``API_DIAGNOSTICS=1``);
   - ``feed personal``: ``GET /api/v1/feed/?page_size=20`` with the tokens of the manifest's
     devices that accepted personalization, in turn (their places, follows and history);
   - ``feed anonymous``: ``GET /api/v1/feed/?lat=…&lon=…&page_size=20`` at random points of
     the city (a first page each; callers of one ~100 m cell share a snapshot for a minute).

Reports per scenario the median over rounds of requests/s and of the p50/p95 latency, and the
ratio of each feed's throughput to the list's (architecture.md §8: ≥ 0.5, p95 ≤ 60 ms).
``run(**options)`` returns the same as a dict.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/feed_bench.py
    sys.path.insert(0, str(ROOT))

from testing.faultservers import free_port  # noqa: E402

DEFAULTS: dict[str, Any] = {
    "database": "postgis:///quartier_bench_feed",
    "cache": "redis://127.0.0.1:6379/13",
    "manifest": ROOT / "var" / "bench" / "city.json",
    "workers": 2,
    "connections": 2,
    "duration": 20,
    "rounds": 3,
    "warmup": 15,
    "model_dir": None,
    "page_size": 20,
}
#: The reference: "a plain list endpoint serializing the same 20 items" (architecture.md §8), the
#: diagnostics endpoint the load test compares with too. Not ``/news/``: anonymous lists are
#: answered from the response cache, which measures Redis, not a list.
LIST_PATH = "/api/v1/diagnostics/plain-items/"
FEED_PATH = "/api/v1/feed/?page_size={page_size}"

# wrk scripts: ``done`` prints one JSON line that ``_wrk`` reads back.
_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "p50_ms": %.2f, "p95_ms": %.2f, '
    .. '"p99_ms": %.2f, "mean_ms": %.2f}\\n',
    summary.requests, summary.duration / 1e6, errors, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.mean / 1e3))
end
"""
_PERSONAL = """
local tokens = {%s}
local k = 0
request = function()
  k = k %% #tokens + 1
  return wrk.format("GET", "%s", {["Authorization"] = "Bearer " .. tokens[k]})
end
"""
_ANONYMOUS = """
math.randomseed(7)
request = function()
  local lon = %f + math.random() * %f
  local lat = %f + math.random() * %f
  return wrk.format("GET", string.format("%s&lat=%%.5f&lon=%%.5f", lat, lon))
end
"""


def _environment(options: dict[str, Any], model_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=options["database"],
        CACHE_URL=options["cache"],
        RECOMMENDER_MODEL_DIR=model_dir,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DJANGO_DEBUG="0",
        # Production settings refuse the default key and a silent push backend (apps/core/checks).
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        PUSH_BACKEND="log",
        API_DIAGNOSTICS="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int) -> Iterator[str]:
    """gunicorn with ``workers`` sync workers on a free port; yields its base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "backend.wsgi:application",
        f"--workers={workers}",
        f"--bind=127.0.0.1:{port}",
        "--worker-class=sync",
        "--backlog=64",
        "--log-level=warning",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/api/v1/health/", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def run_wrk(url: str, script: str, *, connections: int, seconds: float) -> dict[str, Any]:
    """wrk (one thread) on ``url`` with a Lua ``script`` whose ``done`` prints one JSON line.

    Returns that line's object, plus ``rps`` (requests per second). bench/redis_down.py too.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = [
            "wrk",
            "--threads=1",
            f"--connections={connections}",
            f"--duration={max(1, round(seconds))}s",
            "--timeout=10s",
            f"--script={handle.name}",
            url,
        ]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(handle.name)
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    return result


def _wrk(base: str, path: str, script: str, *, connections: int, seconds: float) -> dict:
    return run_wrk(base + path, script + _DONE, connections=connections, seconds=seconds)


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scenarios(manifest: dict[str, Any], page_size: int) -> dict[str, tuple[str, str]]:
    tokens = [d["token"] for d in manifest["devices"] if d["personalization"]]
    feed = FEED_PATH.format(page_size=page_size)
    min_lon, min_lat, max_lon, max_lat = manifest["bbox"]
    return {
        "list": (LIST_PATH, ""),
        "feed personal": (feed, _PERSONAL % (", ".join(map(_lua_string, tokens)), feed)),
        "feed anonymous": (
            feed,
            _ANONYMOUS % (min_lon, max_lon - min_lon, min_lat, max_lat - min_lat, feed),
        ),
    }


def _prepare_in_process(env: dict[str, str], manifest: dict[str, Any]) -> dict[str, Any]:
    """Popularity refresh, sanity checks and SQL query counts, on the bench database."""
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "CACHE_URL", "RECOMMENDER_MODEL_DIR")})
    os.environ.update(DJANGO_SETTINGS_MODULE="bench.settings", DJANGO_ALLOWED_HOSTS="testserver")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.recommend.services import item_popularity_refresh

    started = time.perf_counter()
    popular = item_popularity_refresh()
    report: dict[str, Any] = {
        "popularity_rows": popular,
        "popularity_refresh_s": round(time.perf_counter() - started, 2),
        "queries": {},
    }
    devices = [d for d in manifest["devices"] if d["personalization"]][:2]
    lon, lat = manifest["centre"]
    for label, headers, query in (
        ("anonymous", {}, f"&lat={lat + 0.0137}&lon={lon - 0.0071}"),
        ("personal", {"Authorization": f"Bearer {devices[0]['token']}"}, ""),
    ):
        counts = {}
        for size in (10, 50):
            client = Client(headers=headers)
            with CaptureQueriesContext(connection) as first:
                response = client.get(f"/api/v1/feed/?page_size={size}{query}")
            body = response.json()
            assert response.status_code == 200 and len(body["results"]) == size, body
            assert body["personalized"] is (label == "personal"), body
            with CaptureQueriesContext(connection) as following:
                assert client.get(body["next"]).status_code == 200
            counts[f"page_size {size}"] = {"first": len(first), "next": len(following)}
            query = f"&lat={lat - 0.0113}&lon={lon + 0.0093}" if query else query  # new cell
        report["queries"][label] = counts
    report["ranker"] = body["ranker"]
    return report


def run(**options: Any) -> dict[str, Any]:
    """The benchmark (see the module doc); ``options`` override ``DEFAULTS``."""
    options = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is needed (apt-get install wrk)")
    manifest_path = Path(options["manifest"])
    if not manifest_path.exists():
        raise RuntimeError(f"no bench city manifest at {manifest_path}: run manage.py bench_city")
    manifest = json.loads(manifest_path.read_text())
    with tempfile.TemporaryDirectory() as empty:
        model_dir = str(options["model_dir"] or empty)
        env = _environment(options, model_dir)
        subprocess.run(
            ["redis-cli", "-u", options["cache"], "FLUSHDB"], check=True, capture_output=True
        )
        prepared = _prepare_in_process(env, manifest)
        scenarios = _scenarios(manifest, options["page_size"])
        rounds: dict[str, list[dict]] = {name: [] for name in scenarios}
        load = [os.getloadavg()[0]]
        with gunicorn(env, options["workers"]) as base:
            connections = options["connections"]
            for path, script in scenarios.values():  # warm-up: caches, plans, buffers
                _wrk(base, path, script, connections=connections, seconds=options["warmup"])
            for _ in range(options["rounds"]):
                for name, (path, script) in scenarios.items():
                    result = _wrk(
                        base, path, script, connections=connections, seconds=options["duration"]
                    )
                    rounds[name].append(result)
                load.append(os.getloadavg()[0])
    summary = {
        name: {
            "rps": round(statistics.median(r["rps"] for r in runs), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in runs), 1),
            "p95_ms": round(statistics.median(r["p95_ms"] for r in runs), 1),
            "errors": sum(r["errors"] for r in runs),
            "requests": sum(r["requests"] for r in runs),
        }
        for name, runs in rounds.items()
    }
    for name in ("feed personal", "feed anonymous"):
        ratios = [f["rps"] / x["rps"] for f, x in zip(rounds[name], rounds["list"], strict=True)]
        summary[name]["ratio_to_list"] = round(statistics.median(ratios), 2)
    return {
        "options": {k: str(v) for k, v in options.items()},
        "machine": {"cpus": os.cpu_count(), "loadavg_during": [round(x, 2) for x in load]},
        "city": manifest["counts"],
        "prepared": prepared,
        "summary": summary,
        "rounds": rounds,
    }


def render(result: dict[str, Any]) -> str:
    lines = [
        "| scenario | req/s | p50 ms | p95 ms | feed / list | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in result["summary"].items():
        ratio = s.get("ratio_to_list")
        lines.append(
            f"| {name} | {s['rps']:.1f} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | {s['errors']} |"
        )
    queries = result["prepared"]["queries"]
    lines.append("")
    lines.append("SQL queries per feed request: " + json.dumps(queries))
    ranker, load = result["prepared"]["ranker"], result["machine"]["loadavg_during"]
    lines.append(f"Ranker: {ranker}; load average during the rounds: {load}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", help=f"default {DEFAULTS['database']}")
    parser.add_argument("--cache", help=f"a Redis URL (FLUSHED first), default {DEFAULTS['cache']}")
    parser.add_argument("--manifest", type=Path, help=f"default {DEFAULTS['manifest']}")
    parser.add_argument("--workers", type=int)
    parser.add_argument("--connections", type=int)
    parser.add_argument("--duration", type=float, help="seconds per scenario and round")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--warmup", type=float, help="seconds per scenario before the rounds")
    parser.add_argument("--model-dir", help="serve this model directory (default: stage 1)")
    parser.add_argument("--page-size", type=int)
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
