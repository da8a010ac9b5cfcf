"""HTTP load test of the API: locust against gunicorn on PostGIS, with the bench city.

    make bench-city                                      # once: the city and its manifest
    .venv/bin/python bench/load_test.py [--workers 2 --threads 4 --users 16 --duration 20]

Starts gunicorn (``bench.settings``, ``gunicorn.conf.py``) on ``--database-url`` with
``CACHE_URL`` on Redis database 9 (flushed first), the diagnostics endpoints on and a resident
address per request (``API_NUM_PROXIES=1``). Then, for each scenario of
``bench/load/scenarios.py`` in turn (one endpoint at a time, so that each figure is that
endpoint's own):

1. **throughput**: ``--users`` locust users as fast as the server answers, for ``--warmup`` +
   ``--duration`` seconds; only the last ``--duration`` count;
2. **latency**: the same users paced to ``--latency-fraction`` of that throughput (an
   ordinary busy hour, not saturation), for ``--duration`` seconds: p50/p95/p99.

Meanwhile it samples the RSS and CPU time of the web workers (psutil). A scenario whose route
the build lacks (the feed before its branch lands) is listed as not available. Writes
``bench/results/load-<time>.md`` and ``.json`` (and locust's CSV files) and prints the table.
``run()`` is the entry point of ``bench/run_all.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/load_test.py
    sys.path.insert(0, str(ROOT))

from bench import machine  # noqa: E402
from bench.load import report  # noqa: E402
from bench.load.scenarios import BY_NAME, REFERENCE, SCENARIOS, Scenario  # noqa: E402
from bench.load.server import ServerConfig, gunicorn, niceness, status_of  # noqa: E402
from testing.faultservers import free_port  # noqa: E402

TITLE = "HTTP load test (gunicorn, PostGIS, Redis; locust)"
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"


@dataclass
class LoadOptions:
    database_url: str = "postgis:///quartier_bench"
    cache_url: str = "redis://127.0.0.1:6379/9"
    manifest: Path = ROOT / "var" / "bench" / "city.json"
    workers: int = 2
    threads: int = 4
    users: int = 16
    duration: float = 20.0
    warmup: float = 3.0
    latency_fraction: float = 0.5
    scenarios: list[str] = field(default_factory=lambda: [s.name for s in SCENARIOS])
    out: Path = ROOT / "bench" / "results"
    seed: int = 1
    flush_cache: bool = True
    #: Niceness of gunicorn and locust (e.g. -10 on a machine shared with other work; root).
    nice: int = 0
    #: Each locust run goes on past ``duration`` until it measured this many requests, for at
    #: most ``max_duration`` seconds in all (a slow machine; 0: exactly ``duration``).
    min_requests: int = 0
    max_duration: float = 0.0


def parse_args(argv: list[str] | None) -> LoadOptions:
    defaults = LoadOptions()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=defaults.database_url)
    parser.add_argument("--cache-url", default=defaults.cache_url, help="flushed first")
    parser.add_argument("--manifest", type=Path, default=defaults.manifest)
    parser.add_argument("--workers", type=int, default=defaults.workers)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--users", type=int, default=defaults.users, help="concurrent users")
    parser.add_argument("--duration", type=float, default=defaults.duration, help="seconds")
    parser.add_argument("--warmup", type=float, default=defaults.warmup, help="seconds")
    parser.add_argument(
        "--latency-fraction",
        type=float,
        default=defaults.latency_fraction,
        help="pace of the latency run, as a fraction of the measured throughput (0: skip it)",
    )
    parser.add_argument("--scenarios", help="comma list (default: all): " + ", ".join(BY_NAME))
    parser.add_argument(
        "--min-requests",
        type=int,
        default=defaults.min_requests,
        help="go on past --duration until each run measured this many requests",
    )
    parser.add_argument(
        "--max-duration",
        type=float,
        default=defaults.max_duration,
        help="seconds: the bound of a run kept going by --min-requests",
    )
    parser.add_argument("--out", type=Path, default=defaults.out)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--nice", type=int, default=defaults.nice, help="niceness of gunicorn and locust (root)"
    )
    args = parser.parse_args(argv)
    if args.duration < 2:
        parser.error("--duration: at least 2 seconds (locust writes no statistics before)")
    options = LoadOptions(
        **{k: v for k, v in vars(args).items() if k != "scenarios" and v is not None}
    )
    if args.scenarios:
        unknown = set(args.scenarios.split(",")) - set(BY_NAME)
        if unknown:
            parser.error(f"unknown scenarios: {sorted(unknown)}")
        options.scenarios = args.scenarios.split(",")
    return options


def flush_cache(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def run_locust(
    scenario: Scenario,
    options: LoadOptions,
    url: str,
    prefix: Path,
    *,
    rate: float = 0.0,
    warmup: float = 0.0,
) -> dict[str, Any]:
    """One locust run of ``scenario``; its statistics (after the warm-up) and CPU use."""
    extra = Path(f"{prefix}_extra.json")
    env = {
        **os.environ,
        "BENCH_SCENARIO": scenario.name,
        "BENCH_MANIFEST": str(options.manifest),
        "BENCH_WARMUP": str(warmup),
        "BENCH_RATE": str(rate),
        "BENCH_SEED": str(options.seed),
        "BENCH_EXTRA": str(extra),
        "BENCH_MIN_REQUESTS": str(options.min_requests),
        "BENCH_DURATION": str(options.duration),
    }
    seconds = warmup + max(options.duration, options.max_duration if options.min_requests else 0)
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "-u", str(options.users), "-r", str(options.users),
        "-t", f"{math.ceil(seconds)}s", "--stop-timeout", "5",
        "-H", url, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=niceness(options.nice),
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust failed ({done.returncode}): {done.stderr[-2000:]}")
    stats = report.read_stats(prefix, scenario.name)
    stats["failures_detail"] = report.read_failures(prefix)
    stats["extra"] = json.loads(extra.read_text()) if extra.exists() else {}
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stats["locust_cpu_s"] = round(used, 2)
    return stats


def measure(scenario: Scenario, options: LoadOptions, url: str, work: Path, sampler: Any) -> dict:
    """Throughput run, then the paced latency run, with the web workers' CPU and memory."""
    started_load = os.getloadavg()[0]
    top = run_locust(scenario, options, url, work / f"{scenario.name}-max", warmup=options.warmup)
    extra = top.pop("extra")
    window = (extra.get("measured_from", 0.0), extra.get("measured_to", 0.0))
    cpu = sampler.cpu_between(*window)
    db_cpu = sampler.db_cpu_between(*window)
    result: dict[str, Any] = {
        "name": scenario.name,
        "label": scenario.label,
        "max": top,
        "cpu_ms_per_request": (cpu * 1000 / top["requests"]) if cpu and top["requests"] else None,
        "db_cpu_ms_per_request": (
            (db_cpu * 1000 / top["requests"]) if db_cpu is not None and top["requests"] else None
        ),
        "cache_hit_ratio": (extra["hit"] / extra["answers"]) if extra.get("answers") else None,
        "worker_rss_max_mib": round(sampler.rss_between(*window) / 2**20, 1),
        "loadavg": [round(started_load, 2), round(os.getloadavg()[0], 2)],
    }
    if options.latency_fraction > 0 and top["rps"] > 0:
        rate = options.latency_fraction * top["rps"] / options.users
        paced = run_locust(scenario, options, url, work / f"{scenario.name}-paced", rate=rate)
        paced.pop("extra")
        result["latency"] = paced
    return result


def run(options: LoadOptions | None = None) -> dict[str, Any]:
    """Run the load test; return ``{name, title, markdown, figures, targets}`` (run_all)."""
    options = options or LoadOptions()
    if not options.manifest.exists():
        raise SystemExit(
            f"No bench city manifest at {options.manifest}: run `manage.py bench_city` first."
        )
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    work = options.out / f"load-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    if options.flush_cache:
        flush_cache(options.cache_url)
    config = ServerConfig(
        options.database_url,
        options.cache_url,
        free_port(),
        workers=options.workers,
        threads=options.threads,
        nice=options.nice,
    )
    results: list[dict[str, Any]] = []
    manifest = json.loads(options.manifest.read_text())
    lat, lon = (manifest["centre"][1], manifest["centre"][0])
    with gunicorn(config, work / "gunicorn.log") as sampler:
        for name in options.scenarios:
            scenario = BY_NAME[name]
            if scenario.probe:
                code = status_of(config.url + scenario.probe.format(lat=lat, lon=lon))
                if code == 404:
                    results.append(
                        {"name": name, "label": scenario.label, "skipped": "not available"}
                    )
                    continue
            results.append(measure(scenario, options, config.url, work, sampler))
        memory = sampler.memory_now()
    figures = {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "machine": machine.facts(options.database_url, options.cache_url),
        "results": results,
        "memory_at_end": memory,
        "manifest": {"seed": manifest.get("seed"), "counts": manifest.get("counts")},
    }
    log_tail = tail(work / "gunicorn.log")
    markdown = render(figures, options)
    (options.out / f"load-{stamp}.json").write_text(json.dumps(figures, indent=2, default=str))
    (options.out / f"load-{stamp}.md").write_text(markdown + "\n")
    return {
        "name": "load",
        "title": TITLE,
        "markdown": markdown,
        "figures": figures,
        "targets": targets(results),
        "files": [str(options.out / f"load-{stamp}.md")],
        # The server's side of any failure (tracebacks), for assertion messages (the log stays).
        "gunicorn_log": str(work / "gunicorn.log"),
        "gunicorn_log_tail": log_tail,
    }


def tail(path: Path, lines: int = 80, chars: int = 12_000) -> str:
    """The last ``lines`` lines of a text file (at most ``chars`` characters); "" if absent."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])[-chars:]


def render(figures: dict[str, Any], options: LoadOptions) -> str:
    results = figures["results"]
    table = report.markdown_table(results, reference=REFERENCE, fraction=options.latency_fraction)
    workers = figures["memory_at_end"]["workers"]
    rss = max((w["rss_mib"] for w in workers), default=0)
    uss = max((w["uss_mib"] for w in workers), default=0)
    peak = max((r.get("worker_rss_max_mib", 0) for r in results), default=0)
    failed = [r for r in results if r.get("max", {}).get("failures")]
    lines = [
        f"gunicorn {options.workers} workers x {options.threads} threads (gthread"
        + (f", nice {options.nice}" if options.nice else "")
        + "), "
        f"{options.users} locust users, {options.duration:g} s per run after a "
        f"{options.warmup:g} s warm-up; city: {figures['manifest']['counts']} "
        f"(seed {figures['manifest']['seed']}).",
        "",
        table,
        "",
        f"Web worker memory: peak RSS {peak:.0f} MiB per worker during the runs; at the end "
        f"RSS {rss:.0f} MiB, USS {uss:.0f} MiB (pages a worker alone holds; the rest is "
        "shared with the master through `preload_app`).",
    ]
    for result in failed:
        lines.append(f"- **{result['name']}**: {result['max']['failures']} failures: "
                     f"{'; '.join(result['max']['failures_detail'][:3])}")  # fmt: skip
    lines += ["", "Machine:", "", machine.markdown(figures["machine"])]
    return "\n".join(lines)


def targets(results: list[dict[str, Any]]) -> list[dict[str, str]]:
    """architecture.md §8 lines this benchmark measures (the feed's), met/missed/pending."""
    by_name = {r["name"]: r for r in results}
    base = by_name.get(REFERENCE, {}).get("max", {}).get("rps")
    out = []
    for name in ("feed_anonymous", "feed_personal"):
        result = by_name.get(name)
        if result is None or "skipped" in result:
            out.append(
                {
                    "id": "feed",
                    "target": f"{name}: throughput ≥ 0.5 x plain list; p95 ≤ 60 ms",
                    "status": "pending",
                    "detail": "the feed is not on this build",
                }
            )
            continue
        ratio = result["max"]["rps"] / base if base else 0.0
        p95 = (result.get("latency") or result["max"])["p95"] or float("inf")
        out.append(
            {
                "id": "feed",
                "target": f"{name}: throughput ≥ 0.5 x plain list",
                "status": "met" if ratio >= 0.5 else "missed",
                "detail": f"{ratio:.2f} x",
            }
        )
        out.append(
            {
                "id": "feed",
                "target": f"{name}: p95 ≤ 60 ms at half load",
                "status": "met" if p95 <= 60 else "missed",
                "detail": f"p95 {p95:.0f} ms",
            }
        )
    return out


def quick_options() -> LoadOptions:
    """A short run for ``run_all.py --quick`` (a few minutes)."""
    return LoadOptions(duration=5, warmup=1)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    outcome = run(options)
    print(f"## {outcome['title']}\n\n{outcome['markdown']}")
    print(f"\nWritten: {', '.join(outcome['files'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
